"""Align several tickers' clean daily bars on one trading calendar.

The rule (also in the README):

1. Common range: from the latest first date to the earliest last date over all tickers; bars
   outside it are trimmed (reported once per ticker), so every asset exists on every bar.
2. Calendar: the dates inside that range on which at least half of the tickers have a bar.
   A date only a minority has (a stray holiday or weekend row) is dropped for those tickers
   (reported): one bad file cannot insert a day into everyone else's history.
3. Missing day: a ticker without a bar on a calendar date is filled flat from its previous
   close (open = high = low = close = previous close) with volume 0, and reported. Flat
   filling is causal (uses only the past) and a zero-volume bar is easy to spot downstream.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradea3c.data.errors import DataError, Finding
from tradea3c.data.market import FIELDS
from tradea3c.data.validate import MAX_PER_CHECK


def trading_calendar(frames: dict[str, pd.DataFrame]) -> pd.DatetimeIndex:
    """Dates within the common range on which at least half the tickers trade (rules 1-2)."""
    if not frames:
        raise DataError("no tickers to align")
    start = max(df.index[0] for df in frames.values())
    end = min(df.index[-1] for df in frames.values())
    if start > end:
        spans = ", ".join(f"{t} {df.index[0].date()}..{df.index[-1].date()}" for t, df in frames.items())
        raise DataError(f"tickers have no common date range ({spans}); choose tickers that overlap")
    counts = pd.concat([df.index.to_series() for df in frames.values()]).value_counts()
    need = int(np.ceil(len(frames) / 2))
    days = counts.index[(counts.to_numpy() >= need)]
    days = pd.DatetimeIndex(days).sort_values()
    return days[(days >= start) & (days <= end)].rename("date")


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


def align_frames(frames: dict[str, pd.DataFrame]) -> tuple[dict[str, pd.DataFrame], list[Finding]]:
    """Reindex clean per-ticker frames onto `trading_calendar` (rule 3 for missing days)."""
    cal = trading_calendar(frames)
    if len(cal) == 0:
        raise DataError("aligned calendar is empty; the tickers share no trading days")
    findings: list[Finding] = []
    out: dict[str, pd.DataFrame] = {}
    for t, df in frames.items():
        before, after = int((df.index < cal[0]).sum()), int((df.index > cal[-1]).sum())
        if before or after:
            findings.append(
                Finding(
                    t,
                    None,
                    "common-range",
                    "dropped",
                    f"trimmed {before} bars before {cal[0].date()} and {after} after {cal[-1].date()}",
                )
            )
        inside = df[(df.index >= cal[0]) & (df.index <= cal[-1])]
        stray = inside.index.difference(cal)
        if len(stray):
            findings += _rows_finding(
                t, stray, "off-calendar", "dropped", "date most other tickers lack; bar dropped"
            )
        missing = cal.difference(df.index)
        # previous close for every calendar day, from all of this ticker's history (causal)
        prev_close = df["close"].reindex(df.index.union(cal)).ffill().reindex(cal)
        aligned = df.reindex(cal)
        if len(missing):
            if prev_close[missing].isna().any():  # cannot happen inside the common range; guard anyway
                raise DataError(f"{t}: no earlier close to fill {missing[0].date()} from")
            findings += _rows_finding(
                t,
                missing,
                "missing-day",
                "repaired",
                "no bar on a trading day; filled flat from previous close, volume 0",
            )
            for f in ("open", "high", "low", "close"):
                aligned.loc[missing, f] = prev_close[missing]
            aligned.loc[missing, "volume"] = 0.0
        out[t] = aligned[list(FIELDS)]
    return out, findings
