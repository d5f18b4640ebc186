"""Gymnasium market environments. ``import tradea3c`` registers ``tradea3c/Market-v0`` and
``tradea3c/Portfolio-v0`` (``gymnasium.make`` without ``market=`` uses the embedded demo market;
``gymnasium.make_vec("tradea3c/Market-v0", num_envs=K, vectorization_mode="vector_entry_point")``
builds the native `MarketVectorEnv`; `PortfolioVectorEnv` is its multi-asset counterpart)."""

from tradea3c._registration import MARKET_ENV_ID, PORTFOLIO_ENV_ID
from tradea3c.envs.config import (
    DateSplit,
    EnvConfig,
    MarketEnvConfig,
    PortfolioEnvConfig,
    RewardConfig,
    env_config_from_dict,
    env_config_to_dict,
)
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
from tradea3c.envs.make import make_env, make_vector_env
from tradea3c.envs.market_env import MarketEnv
from tradea3c.envs.perturb import PerturbConfig, perturb_prices
from tradea3c.envs.portfolio_env import PortfolioEnv
from tradea3c.envs.portfolio_vector import PortfolioVectorEnv
from tradea3c.envs.profiles import (
    WorkerProfile,
    load_profile,
    load_profiles,
    profile_for_worker,
)
from tradea3c.envs.vector import MarketVectorEnv

__all__ = [
    "MARKET_ENV_ID",
    "PORTFOLIO_ENV_ID",
    "CostConfig",
    "DateSplit",
    "EnvConfig",
    "MarketEnv",
    "MarketEnvConfig",
    "MarketVectorEnv",
    "PerturbConfig",
    "PortfolioEnv",
    "PortfolioEnvConfig",
    "PortfolioVectorEnv",
    "Replay",
    "RewardConfig",
    "WorkerProfile",
    "cost_rates",
    "env_config_from_dict",
    "env_config_to_dict",
    "fill_prices",
    "load_profile",
    "load_profiles",
    "make_env",
    "make_vector_env",
    "mark",
    "perturb_prices",
    "profile_for_worker",
    "rebalance",
    "rebalance_each",
    "replay",
]
