"""Backtests: replay policies through the envs' execution model, baselines, DSR, typed reports.

`backtest_run` returns a `BacktestReport`; the caller writes ``metrics.json``
(`tradea3c.backtest.results.write_json`) and the tear sheet (`tradea3c.backtest.report.write_html`).
Heavy parts (torch, quantstats) are imported lazily inside functions.

The package itself is callable: ``tradea3c.backtest(run_dir, ...)`` is ``backtest_run(run_dir, ...)``,
the top-level verb, whether or not ``tradea3c.backtest`` was imported as a package before (an
attribute set by importing the package would otherwise hide a function of that name).
"""

import sys
import types
from typing import Any

from tradea3c.backtest.engine import BacktestError
from tradea3c.backtest.results import BacktestReport
from tradea3c.backtest.runner import backtest_run

__all__ = ["BacktestError", "BacktestReport", "backtest_run"]


class _CallableModule(types.ModuleType):
    def __call__(self, *args: Any, **kwargs: Any) -> BacktestReport:
        """``tradea3c.backtest(runs, start=None, end=None, *, costs_bps=..., ...)``: see `backtest_run`."""
        return backtest_run(*args, **kwargs)


sys.modules[__name__].__class__ = _CallableModule
