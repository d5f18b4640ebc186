"""The embedded demo market: daily GOOGL 2009-05-22..2018-08-29 shipped inside gym-anytrading.

Read from the installed package at run time (never copied into this repo), so it works offline.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradea3c.data.fetch import TickerResult
    from tradea3c.data.market import Market

DEMO_TICKER = "GOOGL"


def demo_csv_path() -> Path:
    """Path of the GOOGL CSV inside the installed gym-anytrading package."""
    try:
        root = resources.files("gym_anytrading") / "datasets" / "data" / "STOCKS_GOOGL.csv"
    except ModuleNotFoundError:
        raise FileNotFoundError(
            "the demo market needs the gym-anytrading package; reinstall tradea3c (pip install -e .)"
        ) from None
    path = Path(str(root))
    if not path.is_file():
        raise FileNotFoundError(
            f"demo data {path} missing from gym-anytrading; reinstall gym-anytrading==2.0.0"
        )
    return path


def demo_market() -> Market:
    """The demo market as a validated `Market` (adjusted: 'Adj Close' ratio applied to O/H/L)."""
    import pandas as pd

    from tradea3c.data.market import Market
    from tradea3c.data.validate import clean_frame

    df = pd.read_csv(demo_csv_path(), parse_dates=["Date"]).sort_values("Date")
    factor = df["Adj Close"] / df["Close"]
    frame = pd.DataFrame(
        {
            "open": df["Open"] * factor,
            "high": df["High"] * factor,
            "low": df["Low"] * factor,
            "close": df["Adj Close"],
            "volume": df["Volume"].astype(float),
        }
    ).set_index(pd.DatetimeIndex(df["Date"], name="date"))
    clean, _ = clean_frame(frame, DEMO_TICKER)
    return Market.from_frames({DEMO_TICKER: clean}, source="gym-anytrading", adjusted=True, name="demo")


@dataclass
class DemoResult:
    """What `prepare_demo` did: the market, its cache entry and where the cache lives."""

    market: Market
    cached: TickerResult
    data_dir: Path


def prepare_demo(data_dir: str | Path | None = None) -> DemoResult:
    """Step 1 of the offline quick start: cache the demo market and return it (later steps such as
    train and backtest build on the returned `Market`). Offline and well under a second."""
    from tradea3c.data.cache import resolve_data_dir

    ddir = resolve_data_dir(data_dir)
    return DemoResult(demo_market(), cache_demo(ddir), ddir)


def cache_demo(data_dir: str | Path | None = None) -> TickerResult:
    """Put the demo market (GOOGL from gym-anytrading) into the cache. An existing GOOGL file from
    another source (real yfinance or CSV data) is left alone rather than replaced by demo data."""
    from tradea3c.data import cache
    from tradea3c.data.fetch import TickerResult

    ddir = cache.resolve_data_dir(data_dir)
    market = demo_market()
    path = cache.ticker_path(ddir, DEMO_TICKER)
    if path.is_file():
        meta = cache.read_meta(path)
        if meta.source != "gym-anytrading":
            return TickerResult(
                DEMO_TICKER, "up to date", rows=meta.rows, detail=f"kept cached {meta.source} data"
            )
        if meta.rows == market.n_bars and meta.last == str(market.end.date()):
            return TickerResult(DEMO_TICKER, "up to date", rows=meta.rows, detail="demo already cached")
    meta = cache.write_ticker(
        ddir,
        DEMO_TICKER,
        market.frame(),
        source="gym-anytrading",
        adjusted=market.adjusted,
        origin="gym-anytrading",
    )
    return TickerResult(
        DEMO_TICKER, "fetched", rows=meta.rows, added=meta.rows, detail="demo market (gym-anytrading)"
    )
