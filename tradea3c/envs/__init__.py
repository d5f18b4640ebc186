"""Gymnasium market environments. Importing this package registers ``tradea3c/Market-v0`` and
``tradea3c/Portfolio-v0`` (``gymnasium.make`` without ``market=`` uses the embedded demo market;
``gymnasium.make_vec("tradea3c/Market-v0", num_envs=K, vectorization_mode="vector_entry_point")``
builds the native `MarketVectorEnv`)."""

from gymnasium.envs.registration import register, registry

from tradea3c.envs.config import DateSplit, MarketEnvConfig, PortfolioEnvConfig, RewardConfig
from tradea3c.envs.execution import (
    CostConfig,
    Replay,
    cost_rates,
    fill_prices,
    mark,
    rebalance,
    rebalance_each,
    replay,
)
from tradea3c.envs.market_env import MarketEnv
from tradea3c.envs.perturb import PerturbConfig, perturb_prices
from tradea3c.envs.portfolio_env import PortfolioEnv
from tradea3c.envs.profiles import (
    WorkerProfile,
    load_profile,
    load_profiles,
    profile_for_worker,
)
from tradea3c.envs.vector import MarketVectorEnv

MARKET_ENV_ID = "tradea3c/Market-v0"
PORTFOLIO_ENV_ID = "tradea3c/Portfolio-v0"

if MARKET_ENV_ID not in registry:
    register(
        id=MARKET_ENV_ID,
        entry_point="tradea3c.envs.market_env:MarketEnv",
        vector_entry_point="tradea3c.envs.vector:MarketVectorEnv",
    )
if PORTFOLIO_ENV_ID not in registry:
    register(id=PORTFOLIO_ENV_ID, entry_point="tradea3c.envs.portfolio_env:PortfolioEnv")

__all__ = [
    "MARKET_ENV_ID",
    "PORTFOLIO_ENV_ID",
    "CostConfig",
    "DateSplit",
    "MarketEnv",
    "MarketEnvConfig",
    "MarketVectorEnv",
    "PerturbConfig",
    "PortfolioEnv",
    "PortfolioEnvConfig",
    "Replay",
    "RewardConfig",
    "WorkerProfile",
    "cost_rates",
    "fill_prices",
    "load_profile",
    "load_profiles",
    "mark",
    "perturb_prices",
    "profile_for_worker",
    "rebalance",
    "rebalance_each",
    "replay",
]
