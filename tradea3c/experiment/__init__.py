"""Experiments: a strategy (market + env + profiles + A3C config) trained end to end.

This is the one place where the market stack (data, features, envs) meets the generic A3C engine.
"""

from tradea3c.experiment.factory import TradingEnvFactory, ValidationEvaluator, run_greedy, score_equity
from tradea3c.experiment.strategy import (
    MarketSpec,
    SplitSpec,
    StrategyConfig,
    load_strategy,
    shipped_strategies,
)
from tradea3c.experiment.train import latest_run_dir, load_strategy_market, train_strategy

__all__ = [
    "MarketSpec",
    "SplitSpec",
    "StrategyConfig",
    "TradingEnvFactory",
    "ValidationEvaluator",
    "latest_run_dir",
    "load_strategy",
    "load_strategy_market",
    "run_greedy",
    "score_equity",
    "shipped_strategies",
    "train_strategy",
]
