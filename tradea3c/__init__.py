"""tradea3c: A3C for stock trading, from cached market data to honest out-of-sample backtests.

``import tradea3c`` registers the Gymnasium envs (``tradea3c/Market-v0``, ``tradea3c/Portfolio-v0``)
and nothing heavier: `Market` and `synthetic_market` load on first use.
"""

from __future__ import annotations

from typing import Any

from tradea3c._registration import MARKET_ENV_ID, PORTFOLIO_ENV_ID, register_envs
from tradea3c._version import __version__

register_envs()

__all__ = ["MARKET_ENV_ID", "PORTFOLIO_ENV_ID", "Market", "__version__", "synthetic_market"]


def __getattr__(name: str) -> Any:
    if name in ("Market", "synthetic_market"):
        from tradea3c.data import market

        return getattr(market, name)
    raise AttributeError(f"module 'tradea3c' has no attribute {name!r}")
