"""Market data: sources (yfinance, CSV, shipped demo), parquet cache, validation, the `Market` panel.

Pandas/pyarrow-heavy submodules are imported lazily so `import tradea3c` stays light.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from tradea3c.data.errors import DataError, Finding
from tradea3c.data.market import FIELDS, Market, synthetic_market

_LAZY = {
    "load_market": "tradea3c.data.load",
    "load_market_with_report": "tradea3c.data.load",
    "load_csv_market": "tradea3c.data.load",
    "load_csv_market_with_report": "tradea3c.data.load",
    "LoadReport": "tradea3c.data.load",
    "default_data_dir": "tradea3c.data.cache",
    "list_cache": "tradea3c.data.cache",
    "CacheMeta": "tradea3c.data.cache",
    "clean_frame": "tradea3c.data.validate",
    "align_frames": "tradea3c.data.align",
    "trading_calendar": "tradea3c.data.align",
    "fetch_tickers": "tradea3c.data.fetch",
    "import_csv": "tradea3c.data.fetch",
    "cache_demo": "tradea3c.data.demo",
    "FetchReport": "tradea3c.data.fetch",
    "TickerResult": "tradea3c.data.fetch",
    "universe_tickers": "tradea3c.data.universes",
    "UNIVERSES": "tradea3c.data.universes",
    "demo_market": "tradea3c.data.demo",
    "prepare_demo": "tradea3c.data.demo",
    "DemoResult": "tradea3c.data.demo",
    "MarketSpec": "tradea3c.data.spec",
    "load_market_spec": "tradea3c.data.spec",
}

__all__ = ["FIELDS", "DataError", "Finding", "Market", "synthetic_market", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'tradea3c.data' has no attribute {name!r}")
