"""The embedded demo market: daily GOOGL 2009-05-22..2018-08-29 shipped inside gym-anytrading.

Read from the installed package at run time (never copied into this repo), so it works offline.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

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
        raise FileNotFoundError(f"demo data {path} missing from gym-anytrading; reinstall gym-anytrading==2.0.0")
    return path


def demo_market():  # -> Market (import kept local: data.market is the only dependency)
    """The demo market as a `Market` (adjusted: 'Adj Close' ratio applied to O/H/L)."""
    import pandas as pd

    from tradea3c.data.market import Market

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
    return Market.from_frames({DEMO_TICKER: frame}, source="gym-anytrading", adjusted=True, name="demo")
