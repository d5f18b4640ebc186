"""Market data: sources (yfinance, CSV, shipped demo), parquet cache, validation, the `Market` panel."""

from tradea3c.data.market import FIELDS, Market, synthetic_market

__all__ = ["FIELDS", "Market", "synthetic_market"]
