"""Gymnasium ids of the market envs, registered by ``import tradea3c`` (entry points are strings,
so registering imports neither the envs nor pandas/torch)."""

from __future__ import annotations

MARKET_ENV_ID = "tradea3c/Market-v0"
PORTFOLIO_ENV_ID = "tradea3c/Portfolio-v0"


def register_envs() -> None:
    """Register ``tradea3c/Market-v0`` (with the native vector entry point) and
    ``tradea3c/Portfolio-v0``; idempotent."""
    from gymnasium.envs.registration import register, registry

    if MARKET_ENV_ID not in registry:
        register(
            id=MARKET_ENV_ID,
            entry_point="tradea3c.envs.market_env:MarketEnv",
            vector_entry_point="tradea3c.envs.vector:MarketVectorEnv",
        )
    if PORTFOLIO_ENV_ID not in registry:
        register(id=PORTFOLIO_ENV_ID, entry_point="tradea3c.envs.portfolio_env:PortfolioEnv")
