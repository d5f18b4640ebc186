"""Backtests: replay policies through the envs' execution model, baselines, metrics, DSR, reports.

Heavy parts (torch, quantstats) are imported lazily inside functions; `metrics` and `dsr` are pure.
Walk-forward: `tradea3c.backtest.walkforward.walkforward` (the submodule shares the name).
"""

from tradea3c.backtest.metrics import (
    annual_volatility,
    max_drawdown,
    returns_from_equity,
    sharpe_ratio,
    total_return,
)

__all__ = [
    "BacktestError",
    "BacktestReport",
    "annual_volatility",
    "backtest_run",
    "max_drawdown",
    "returns_from_equity",
    "sharpe_ratio",
    "total_return",
]


def __getattr__(name: str):  # lazy: `from tradea3c.backtest import backtest_run` without import cycles
    if name in ("backtest_run", "BacktestReport"):
        from tradea3c.backtest import runner

        return getattr(runner, name)
    if name == "BacktestError":
        from tradea3c.backtest.engine import BacktestError

        return BacktestError
    raise AttributeError(name)
