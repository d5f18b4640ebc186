"""Experiments: the training drivers, where the market stack (data, features, envs) meets the
generic A3C engine: a strategy trained end to end (`train_strategy`) and walk-forward
(`tradea3c.experiment.walkforward.walkforward`, which trains then scores with the backtester) and
the hyperparameter search that counts its own trials (`tune`); a trained policy put to use: the
next session's signal and orders (`compute_signal`) and a paper-trading ledger (`run_paper`).
"""

from tradea3c.experiment.factory import TradingEnvFactory, ValidationEvaluator, run_greedy
from tradea3c.experiment.paper import PaperReport, run_paper
from tradea3c.experiment.search_space import SearchSpace, load_space
from tradea3c.experiment.signal import Signal, compute_signal
from tradea3c.experiment.strategy import SplitSpec, StrategyConfig, load_strategy, shipped_strategies
from tradea3c.experiment.train import latest_run_dir, train_strategy
from tradea3c.experiment.tune import TuneResult, tune

__all__ = [
    "PaperReport",
    "SearchSpace",
    "Signal",
    "SplitSpec",
    "StrategyConfig",
    "TradingEnvFactory",
    "TuneResult",
    "ValidationEvaluator",
    "compute_signal",
    "latest_run_dir",
    "load_space",
    "load_strategy",
    "run_greedy",
    "run_paper",
    "shipped_strategies",
    "train_strategy",
    "tune",
]
