"""Backtests: replay policies through the envs' execution model, baselines, DSR, typed reports.

`backtest_run` returns a `BacktestReport`; the caller writes ``metrics.json``
(`tradea3c.backtest.results.write_json`) and the tear sheet (`tradea3c.backtest.report.write_html`).
Heavy parts (torch, quantstats) are imported lazily inside functions.
"""

from tradea3c.backtest.engine import BacktestError
from tradea3c.backtest.results import BacktestReport
from tradea3c.backtest.runner import backtest_run

__all__ = ["BacktestError", "BacktestReport", "backtest_run"]
