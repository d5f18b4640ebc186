"""Experiments: the training drivers, where the market stack (data, features, envs) meets the
generic A3C engine: a strategy trained end to end (`train_strategy`) and walk-forward
(`tradea3c.experiment.walkforward.walkforward`, which trains then scores with the backtester).
"""

from tradea3c.experiment.factory import TradingEnvFactory, ValidationEvaluator, run_greedy
from tradea3c.experiment.strategy import SplitSpec, StrategyConfig, load_strategy, shipped_strategies
from tradea3c.experiment.train import latest_run_dir, train_strategy

__all__ = [
    "SplitSpec",
    "StrategyConfig",
    "TradingEnvFactory",
    "ValidationEvaluator",
    "latest_run_dir",
    "load_strategy",
    "run_greedy",
    "shipped_strategies",
    "train_strategy",
]
