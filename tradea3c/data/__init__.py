"""Market data: sources (yfinance, CSV, shipped demo), parquet cache, validation, the `Market` panel.

Pandas/pyarrow-heavy submodules are imported lazily so `import tradea3c` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from tradea3c.data.errors import DataError
from tradea3c.data.market import Market, synthetic_market

_LAZY = {
    "load_market": "tradea3c.data.load",
    "load_csv_market": "tradea3c.data.load",
    "default_data_dir": "tradea3c.data.cache",
    "list_cache": "tradea3c.data.cache",
    "fetch_tickers": "tradea3c.data.fetch",
    "import_csv": "tradea3c.data.fetch",
    "universe_tickers": "tradea3c.data.universes",
    "demo_market": "tradea3c.data.demo",
    "MarketSpec": "tradea3c.data.spec",
    "Membership": "tradea3c.data.membership",
    "load_market_spec": "tradea3c.data.spec",
}

__all__ = [
    "DataError",
    "Market",
    "MarketSpec",
    "Membership",
    "default_data_dir",
    "demo_market",
    "fetch_tickers",
    "import_csv",
    "list_cache",
    "load_csv_market",
    "load_market",
    "load_market_spec",
    "synthetic_market",
    "universe_tickers",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tradea3c.data' has no attribute {name!r}")
