"""Backtests: replay policies through the envs' execution model, baselines, DSR, typed reports.

`backtest_run` returns a `BacktestReport`; the caller writes ``metrics.json``
(`tradea3c.backtest.results.write_json`) and the tear sheet (`tradea3c.backtest.report.write_html`).
Heavy parts (torch, quantstats) are imported lazily inside functions.

The package itself is the top-level verb: ``tradea3c.backtest(runs, ...)`` backtests as
``tradea3c backtest`` does, with the command's option names (``costs``, ``html``, ``json_out``,
``allow_in_sample``, ``sampled``, ``seed``, ``trials``, ``ensemble``, ``ticker``) and returns the
`BacktestReport`. A function named ``backtest`` on the ``tradea3c`` package would be replaced by this
subpackage as soon as anything imports ``tradea3c.backtest.<module>`` (Python sets the attribute to
the subpackage), so the subpackage itself is callable and ``tradea3c.backtest(...)`` works whichever
came first.
"""

from __future__ import annotations

import inspect
import sys
import types
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradea3c.backtest.engine import BacktestError
from tradea3c.backtest.results import BacktestReport, write_json
from tradea3c.backtest.runner import backtest_run

if TYPE_CHECKING:
    from tradea3c.data.market import Market

__all__ = ["BacktestError", "BacktestReport", "backtest_run"]


def _backtest(
    runs: str | Path | Sequence[str | Path],
    start: str | None = None,
    end: str | None = None,
    *,
    costs: Sequence[float] = (0.0, 5.0, 10.0, 25.0),
    html: str | Path | None = None,
    json_out: str | Path | None = None,
    allow_in_sample: bool = False,
    sampled: bool = False,
    seed: int = 0,
    trials: int | None = None,
    ensemble: bool = False,
    ticker: str | None = None,
    market: Market | None = None,
    vote: bool = False,
) -> BacktestReport:
    """Backtest a run directory (its ``best.pt``) or checkpoint out of sample against buy-and-hold and
    rule baselines, costs included, as ``tradea3c backtest`` does (`backtest_run`).

    ``runs``: one run, or several (seeds of one configuration: all enter the seed table and the
    deflated Sharpe; ``ensemble=True`` averages them into one policy, or their Q-values for
    value-based runs; with ``vote=True`` each member's greedy action is one vote).
    ``start``/``end``: ISO dates
    (default: the test range after the checkpoint's ``val_end``; earlier dates need
    ``allow_in_sample`` and are labelled in-sample). ``costs``: the cost sweep, flat bps per side.
    ``html``: write the tear sheet there (and its trade blotter beside it); ``json_out``: every number
    as JSON. ``sampled``: sample actions (with ``seed``) instead of the greedy policy; ``trials``:
    configurations tried, for the DSR (default: the number of runs); ``ticker``: score a one-asset
    policy on that ticker alone; ``market``: a `Market` to score on instead of the checkpoint's.
    """
    report = backtest_run(
        runs,
        start,
        end,
        costs_bps=tuple(float(c) for c in costs),
        allow_in_sample=allow_in_sample,
        greedy=not sampled,
        seed=seed,
        n_trials=trials,
        ensemble=ensemble,
        ticker=ticker,
        market=market,
        vote=vote,
    )
    if json_out is not None:
        write_json(report, json_out)
    if html is not None:
        from tradea3c.backtest.report import write_html  # jinja2, matplotlib, quantstats: on demand

        write_html(report, html)
    return report


class _CallableModule(types.ModuleType):
    """This package, callable: ``tradea3c.backtest(...)`` is `_backtest` (see the module docstring)."""

    def __call__(self, *args: Any, **kwargs: Any) -> BacktestReport:
        return _backtest(*args, **kwargs)

    @property
    def __signature__(self) -> inspect.Signature:  # help() and IDEs show the verb's own arguments
        return inspect.signature(_backtest)


sys.modules[__name__].__class__ = _CallableModule
