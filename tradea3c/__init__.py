"""tradea3c: A3C for stock trading, from cached market data to honest out-of-sample backtests.

The verbs, each what the CLI command of that name calls, with its option names::

    import tradea3c
    market = tradea3c.load_market("demo")                 # tradea3c.data.load_market
    run = tradea3c.train("signal", steps=20_000, out="runs/signal")
    report = tradea3c.backtest(run.run_dir, html="runs/signal/tearsheet.html")
    study = tradea3c.study("signal", market="dow30", seeds=(0, 1, 2))
    orders = tradea3c.signal(run.run_dir, capital=100_000).orders   # tradea3c.experiment.signal

``import tradea3c`` registers the Gymnasium envs (``tradea3c/Market-v0``, ``tradea3c/Portfolio-v0``)
and nothing heavier: everything else loads on first use (``tradea3c.backtest`` is the callable
subpackage, see its docstring).
"""

from __future__ import annotations

from typing import Any

from tradea3c._registration import MARKET_ENV_ID, PORTFOLIO_ENV_ID, register_envs
from tradea3c._verbs import signal, study, train
from tradea3c._version import __version__

register_envs()

__all__ = [
    "MARKET_ENV_ID",
    "PORTFOLIO_ENV_ID",
    "Market",
    "__version__",
    "backtest",
    "load_market",
    "signal",
    "study",
    "synthetic_market",
    "train",
]


def __getattr__(name: str) -> Any:
    if name in ("Market", "synthetic_market"):
        from tradea3c.data import market

        return getattr(market, name)
    if name == "load_market":
        from tradea3c.data.load import load_market

        return load_market
    if name == "backtest":  # the subpackage, callable: tradea3c.backtest(run_dir, ...)
        import tradea3c.backtest as backtest

        return backtest
    raise AttributeError(f"module 'tradea3c' has no attribute {name!r}")
