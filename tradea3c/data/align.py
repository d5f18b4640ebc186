"""Align several tickers' clean daily bars on one trading calendar.

The rule (also in docs/data.md):

1. Span: from the earliest first date to the latest last date over all tickers, so a universe
   whose membership changes keeps every member's whole history (no common-range cut).
2. Calendar: the dates in that span on which at least half of the tickers *listed on that date*
   have a bar. A date only a minority has (a stray holiday or weekend row) is dropped for those
   tickers (reported): one bad file cannot insert a day into everyone else's history.
3. Listing: a ticker is listed from its first to its last bar; outside that it is not tradable
   (the `tradable` column, False) and its prices are placeholders -- the first open before the
   listing, the last close after the delisting, volume 0 -- reported once per ticker.
4. Missing day inside the listing: a halt. Filled flat from the previous close (open = high = low =
   close = previous close) with volume 0, reported, and marked in the ``halted`` mask: the asset
   stays listed but is not tradable there (`Market.halted`: the envs hold its position and mark it
   at that price, its last one). Flat filling is causal (uses only the past) and a zero-volume bar
   is easy to spot downstream.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradea3c.data.errors import DataError, Finding
from tradea3c.data.market import FIELDS
from tradea3c.data.validate import MAX_PER_CHECK


@dataclass(frozen=True)
class AlignedPanel:
    """Clean frames aligned on one calendar, as arrays of shape ``(n_bars, n_assets)``."""

    dates: pd.DatetimeIndex  # the trading calendar, named "date"
    tickers: tuple[str, ...]
    bars: dict[str, np.ndarray]  # field -> float64 (n_bars, n_assets), in FIELDS order
    tradable: np.ndarray  # bool (n_bars, n_assets): listed on that bar (rule 3)
    halted: np.ndarray | None = None  # bool (n_bars, n_assets): a missing day inside the listing (rule 4)


def _dates_ns(frames: dict[str, pd.DataFrame]) -> tuple[list[np.ndarray], pd.DatetimeIndex]:
    """Each frame's dates as int64 nanoseconds, and an empty index of the calendar's dtype."""
    if not frames:
        raise DataError("no tickers to align")
    indexes = [pd.DatetimeIndex(df.index) for df in frames.values()]
    tz = indexes[0].tz
    odd = [t for t, ix in zip(frames, indexes, strict=True) if ix.tz != tz]
    if odd:
        first = next(iter(frames))
        raise DataError(f"tickers {' '.join(odd[:8])} have dates in another time zone than {first}")
    dates = [ix.as_unit("ns").asi8 for ix in indexes]
    units = [ix.unit for ix in indexes]
    unit = units[0]
    if len(set(units)) > 1:
        # as pandas unites the dates as Timestamps: the finest unit among the first holder of each day
        _, first_at = np.unique(np.concatenate(dates), return_index=True)
        holders = np.unique(np.searchsorted(np.cumsum([len(d) for d in dates]), first_at, side="right"))
        unit = max((units[i] for i in holders), key=("s", "ms", "us", "ns").index)
    return dates, indexes[0][:0].as_unit(unit)


def _sorted_unique(ns: np.ndarray) -> bool:
    """Non-empty, strictly increasing and without NaT (the smallest int64)."""
    return len(ns) > 0 and ns[0] != np.iinfo(np.int64).min and bool((ns[1:] > ns[:-1]).all())


def _calendar_ns(dates: list[np.ndarray]) -> np.ndarray:
    """Rules 1-2 on each ticker's int64 dates: the calendar as sorted int64. A ticker is listed
    from its first to its last row (as given: clean frames are sorted)."""
    days, have = np.unique(
        np.concatenate([d if _sorted_unique(d) else np.unique(d) for d in dates]), return_counts=True
    )
    firsts = np.searchsorted(days, [d[0] for d in dates], side="left")
    ends = np.searchsorted(days, [d[-1] for d in dates], side="right")
    span = firsts < ends  # an unsorted frame may end before it starts: listed nowhere
    listed = np.cumsum(
        np.bincount(firsts[span], minlength=len(days) + 1) - np.bincount(ends[span], minlength=len(days) + 1)
    )[:-1]
    return days[2 * have >= listed]


def _as_index(ns: np.ndarray, like: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """int64 nanoseconds as a DatetimeIndex named "date" of ``like``'s unit and time zone."""
    index = pd.DatetimeIndex(ns.view("datetime64[ns]"), name="date")
    if like.tz is not None:
        index = index.tz_localize("UTC").tz_convert(like.tz)
    return index.as_unit(like.unit)


def trading_calendar(frames: dict[str, pd.DataFrame]) -> pd.DatetimeIndex:
    """Dates on which at least half the tickers listed on that date trade (rules 1-2)."""
    dates, like = _dates_ns(frames)
    return _as_index(_calendar_ns(dates), like)


def _rows_finding(
    ticker: str, dates: pd.DatetimeIndex, check: str, action: str, detail: str
) -> list[Finding]:
    if len(dates) > MAX_PER_CHECK:
        return [
            Finding(
                ticker,
                str(dates[0].date()),
                check,
                action,  # type: ignore[arg-type]
                f"{detail} (and {len(dates) - 1} more days, to {dates[-1].date()})",
            )
        ]
    return [Finding(ticker, str(d.date()), check, action, detail) for d in dates]  # type: ignore[arg-type]


def align_panel(frames: dict[str, pd.DataFrame]) -> tuple[AlignedPanel, list[Finding]]:
    """Align clean per-ticker frames (sorted, unique dates; `clean_frame` output) on
    `trading_calendar` (rules 3-4) straight into arrays: one numpy pass per ticker, no reindexing."""
    dates, like = _dates_ns(frames)
    bad = [t for t, d in zip(frames, dates, strict=True) if not _sorted_unique(d)]
    if bad:
        raise DataError(f"tickers {' '.join(bad[:8])}: dates not sorted and unique; run clean_frame first")
    cal_ns = _calendar_ns(dates)
    if len(cal_ns) == 0:
        raise DataError("aligned calendar is empty; the tickers share no trading days")
    cal = _as_index(cal_ns, like)
    n, m = len(cal_ns), len(frames)
    bars = {f: np.empty((n, m)) for f in FIELDS}
    tradable = np.zeros((n, m), dtype=bool)
    halted = np.zeros((n, m), dtype=bool)
    findings: list[Finding] = []
    for j, ((t, df), d) in enumerate(zip(frames.items(), dates, strict=True)):
        o, h, lo, c, v = (df[f].to_numpy(dtype=np.float64) for f in FIELDS)
        on_cal = cal_ns[np.minimum(np.searchsorted(cal_ns, d), n - 1)] == d
        if not on_cal.all():
            findings += _rows_finding(
                t, df.index[~on_cal], "off-calendar", "dropped", "date most other tickers lack; bar dropped"
            )
        # the ticker's last bar at or before each calendar day (a dropped off-calendar bar included:
        # its close is still the previous close of the next day, causal)
        k = np.searchsorted(d, cal_ns, side="right") - 1
        a, b = int(np.searchsorted(cal_ns, d[0])), int(np.searchsorted(cal_ns, d[-1], side="right"))
        kk = k[a:b]  # listed rows: k >= 0 there
        own = d[kk] == cal_ns[a:b]
        missing = np.flatnonzero(~own) + a
        if len(missing):
            findings += _rows_finding(
                t,
                cal[missing],
                "missing-day",
                "repaired",
                "no bar on a trading day; halted: filled flat from previous close, volume 0, not tradable",
            )
            halted[missing, j] = True
        prev = c[kk]
        bars["close"][a:b, j] = prev
        for f, x in (("open", o), ("high", h), ("low", lo)):
            bars[f][a:b, j] = np.where(own, x[kk], prev)
        bars["volume"][a:b, j] = np.where(own, v[kk], 0.0)
        tradable[a:b, j] = True
        if a or b < n:
            parts = [f"listed {df.index[0].date()}..{df.index[-1].date()}"]
            if a:
                parts.append(f"{a} bars before at the first open")
            if b < n:
                parts.append(f"{n - b} bars after at the last close")
            findings.append(
                Finding(t, None, "listing", "repaired", "; ".join(parts) + ", not tradable, volume 0")
            )
            for f in ("open", "high", "low", "close"):
                bars[f][:a, j] = o[0]
                bars[f][b:, j] = c[-1]
            bars["volume"][:a, j] = 0.0
            bars["volume"][b:, j] = 0.0
    return AlignedPanel(cal, tuple(frames), bars, tradable, halted if halted.any() else None), findings


def align_frames(frames: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """`align_panel` as one frame per ticker on the calendar index (columns FIELDS, plus a bool
    ``tradable`` column for a ticker listed late or delisted early, and a bool ``halted`` column for
    one with halts, see rule 4)."""
    panel, findings = align_panel(frames)
    out: dict[str, pd.DataFrame] = {}
    for j, t in enumerate(panel.tickers):
        cols: dict[str, np.ndarray] = {f: panel.bars[f][:, j] for f in FIELDS}
        if not panel.tradable[:, j].all():
            cols["tradable"] = panel.tradable[:, j]
        if panel.halted is not None and panel.halted[:, j].any():
            cols["halted"] = panel.halted[:, j]
        out[t] = pd.DataFrame(cols, index=panel.dates)
    return out, findings
