"""tradea3c: A3C for stock trading, from cached market data to honest out-of-sample backtests."""

from tradea3c.data.market import Market, synthetic_market

__version__ = "0.1.0"
__all__ = ["Market", "synthetic_market", "__version__"]
