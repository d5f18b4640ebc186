"""Intraday bars: the intervals, the regular US session, its bar grid, and where they are cached.

Intraday bars are stored and traded as exchange-local (America/New_York), tz-naive bar *start*
times inside the regular session 09:30-16:00 ET (13:00 on half days), on the interval's grid from
09:30: 1h bars start 09:30, 10:30, ..., 15:30 (the last one half an hour: 7 bars a session).
Daily bars are cached as ``<cache>/<TICKER>.parquet``; intraday ones as
``<cache>/<interval>/<TICKER>.parquet`` (`cache_dir`).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tradea3c.data.errors import DataError, Finding

DAILY = "1d"
INTRADAY_INTERVALS: tuple[str, ...] = ("1h", "30m", "15m", "5m", "1m")
INTERVALS: tuple[str, ...] = (DAILY, *INTRADAY_INTERVALS)
MINUTES: dict[str, int] = {"1h": 60, "30m": 30, "15m": 15, "5m": 5, "1m": 1}
EXCHANGE_TZ = "America/New_York"
SESSION_OPEN_MIN = 9 * 60 + 30  # 09:30 ET
SESSION_CLOSE_MIN = 16 * 60  # 16:00 ET (13:00 on half days: bars stop early, nothing is missing)

YAHOO_LIMIT_DAYS: dict[str, int] = {"1m": 30, "2m": 60, "5m": 60, "15m": 60, "30m": 60, "60m": 730, "1h": 730}
"""How far back yfinance serves each intraday interval (days before today); 1m also at most 7
days per request (`fetch` splits a 1m range into 7-day requests)."""
YAHOO_LIMIT_TEXT: dict[str, str] = {
    "1m": "30 days back (7 days a request)",
    "2m": "60 days back",
    "5m": "60 days back",
    "15m": "60 days back",
    "30m": "60 days back",
    "60m": "730 days back",
    "1h": "730 days back",
}


def check_interval(interval: str) -> str:
    """``interval`` when supported, else a one-line `DataError` naming the supported ones."""
    if interval not in INTERVALS:
        raise DataError(f"interval {interval!r} is not supported; use one of {', '.join(INTERVALS)}")
    return interval


def is_intraday(interval: str) -> bool:
    return interval != DAILY


def cache_dir(data_dir: str | Path, interval: str = DAILY) -> Path:
    """The folder holding ``interval``'s parquet files: ``data_dir`` for daily bars,
    ``data_dir/<interval>`` for intraday ones."""
    check_interval(interval)
    return Path(data_dir) if interval == DAILY else Path(data_dir) / interval


def session_grid(day: object, interval: str, close_min: int = SESSION_CLOSE_MIN) -> pd.DatetimeIndex:
    """The bar start times of one regular session of ``day`` (tz-naive ET): from 09:30 every
    ``interval`` minutes, the last one starting before the close."""
    step = MINUTES[interval]
    d = pd.Timestamp(day).normalize()
    return pd.DatetimeIndex([d + pd.Timedelta(minutes=m) for m in range(SESSION_OPEN_MIN, close_min, step)])


def session_dates(start: object, days: int, interval: str) -> np.ndarray:
    """Bar times of ``days`` business-day sessions from ``start`` (synthetic markets and tests)."""
    out = [session_grid(d, interval) for d in pd.bdate_range(start, periods=days)]
    return pd.DatetimeIndex(np.concatenate([g.to_numpy() for g in out])).to_numpy()


def to_exchange_time(index: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Timestamps as tz-naive exchange-local times: aware ones converted to America/New_York (the
    instant is kept), naive ones taken as already local."""
    if index.tz is not None:
        index = index.tz_convert(EXCHANGE_TZ).tz_localize(None)
    return index


def check_session(frame: pd.DataFrame, interval: str, ticker: str) -> tuple[pd.DataFrame, list[Finding]]:
    """Keep the bars of ``frame`` (tz-naive ET index; NaT rows are kept for validation) that start on
    ``interval``'s grid inside the regular session (09:30 <= start < 16:00, minutes from 09:30 a
    multiple of the bar length);
    the others are dropped with one finding per kind (pre-/post-market, off the grid). Days with
    fewer bars (half days, a late first trade) are kept as they are: nothing inside a session is
    filled, and the gaps between sessions (nights, weekends, holidays) are no missing bars."""
    step = MINUTES[interval]
    idx = pd.DatetimeIndex(frame.index)
    nat = np.asarray(idx.isna())  # unparseable stamps: kept here, validation drops and reports them
    minute = np.where(nat, SESSION_OPEN_MIN, np.nan_to_num(idx.hour * 60 + idx.minute)).astype(np.int64)
    secs = np.nan_to_num(
        np.asarray(idx.second, dtype=np.float64) + np.asarray(idx.microsecond, dtype=np.float64)
    )
    outside = (minute < SESSION_OPEN_MIN) | (minute >= SESSION_CLOSE_MIN)
    off = ~outside & (((minute - SESSION_OPEN_MIN) % step != 0) | (secs != 0))
    findings: list[Finding] = []
    for mask, what in (
        (outside, "outside the regular session 09:30-16:00 ET"),
        (off, f"off the {interval} grid"),
    ):
        if mask.any():
            first = idx[mask][0]
            findings.append(
                Finding(
                    ticker,
                    str(first.date()),
                    "session",
                    "dropped",
                    f"{int(mask.sum())} bars {what} (first {first:%Y-%m-%d %H:%M})",
                )
            )
    keep = ~(outside | off)
    return (frame if keep.all() else frame[keep]), findings
