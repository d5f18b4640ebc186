"""Gymnasium market environments. ``import tradea3c`` registers ``tradea3c/Market-v0`` and
``tradea3c/Portfolio-v0`` (``gymnasium.make`` without ``market=`` uses the embedded demo market;
``gymnasium.make_vec("tradea3c/Market-v0", num_envs=K, vectorization_mode="vector_entry_point")``
builds the native `MarketVectorEnv`; `PortfolioVectorEnv` is its multi-asset counterpart)."""

from tradea3c.envs.anchors import VolTargetConfig
from tradea3c.envs.config import DateSplit, MarketEnvConfig, PortfolioEnvConfig, RewardConfig
from tradea3c.envs.execution import CostConfig
from tradea3c.envs.make import make_env, make_vector_env
from tradea3c.envs.market_env import MarketEnv
from tradea3c.envs.perturb import PerturbConfig
from tradea3c.envs.portfolio_env import PortfolioEnv
from tradea3c.envs.portfolio_vector import PortfolioVectorEnv
from tradea3c.envs.vector import MarketVectorEnv

__all__ = [
    "CostConfig",
    "DateSplit",
    "MarketEnv",
    "MarketEnvConfig",
    "MarketVectorEnv",
    "PerturbConfig",
    "PortfolioEnv",
    "PortfolioEnvConfig",
    "PortfolioVectorEnv",
    "RewardConfig",
    "VolTargetConfig",
    "make_env",
    "make_vector_env",
]
