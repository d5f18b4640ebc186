"""tradea3c: A3C for stock trading, from cached market data to honest out-of-sample backtests.

The four verbs: ``load_market``, ``train``, ``backtest`` and ``study`` (each what the CLI command of
that name calls). ``import tradea3c`` registers the Gymnasium envs (``tradea3c/Market-v0``,
``tradea3c/Portfolio-v0``) and nothing heavier: everything else loads on first use.
"""

from __future__ import annotations

from typing import Any

from tradea3c._registration import MARKET_ENV_ID, PORTFOLIO_ENV_ID, register_envs
from tradea3c._verbs import load_market, study, train
from tradea3c._version import __version__

register_envs()

__all__ = [
    "MARKET_ENV_ID",
    "PORTFOLIO_ENV_ID",
    "Market",
    "__version__",
    "backtest",
    "load_market",
    "study",
    "synthetic_market",
    "train",
]


def __getattr__(name: str) -> Any:
    if name in ("Market", "synthetic_market"):
        from tradea3c.data import market

        return getattr(market, name)
    if name == "backtest":  # the subpackage, callable: tradea3c.backtest(run_dir, ...)
        import tradea3c.backtest as backtest

        return backtest
    raise AttributeError(f"module 'tradea3c' has no attribute {name!r}")
