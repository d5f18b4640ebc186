"""`make_env`: the one place that turns a resolved env config into an env (by its ``kind``)."""

from __future__ import annotations

import gymnasium as gym

from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, EnvConfig, MarketEnvConfig, PortfolioEnvConfig, Split
from tradea3c.envs.market_env import MarketEnv
from tradea3c.envs.portfolio_env import PortfolioEnv
from tradea3c.envs.portfolio_vector import PortfolioVectorEnv
from tradea3c.envs.vector import MarketVectorEnv


def make_env(
    market: Market, cfg: EnvConfig, split: DateSplit | None = None, split_name: Split = "train"
) -> gym.Env:
    """`MarketEnv` for a `MarketEnvConfig`, `PortfolioEnv` for a `PortfolioEnvConfig`."""
    if isinstance(cfg, PortfolioEnvConfig):
        return PortfolioEnv(market, cfg, split=split, split_name=split_name)
    if isinstance(cfg, MarketEnvConfig):
        return MarketEnv(market, cfg, split=split, split_name=split_name)
    raise TypeError(f"no env for config {type(cfg).__name__}")


def make_vector_env(
    num_envs: int, market: Market, cfg: EnvConfig, split: DateSplit | None = None, split_name: Split = "train"
) -> MarketVectorEnv | PortfolioVectorEnv:
    """K perturbed replays in one native vector env: `MarketVectorEnv` for a `MarketEnvConfig`,
    `PortfolioVectorEnv` for a `PortfolioEnvConfig` (sub-env i equals the single env seeded s + i)."""
    if isinstance(cfg, PortfolioEnvConfig):
        return PortfolioVectorEnv(num_envs, market, cfg, split=split, split_name=split_name)
    if isinstance(cfg, MarketEnvConfig):
        return MarketVectorEnv(num_envs, market, cfg, split=split, split_name=split_name)
    raise TypeError(f"no vector env for config {type(cfg).__name__}")
