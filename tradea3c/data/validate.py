"""Validation and cleaning of one ticker's daily OHLCV series.

Runs on every import, fetch and load, so a `Market` never sees NaN, non-positive prices,
inconsistent bars or unsorted dates. Rules (each finding names ticker, date and action):

* dates: unparseable dates are dropped; unsorted dates are sorted; duplicate dates keep the last row
  (exact duplicate rows and same-date rows with other values are reported apart, and neither counts
  as an invalid row). A date pandas cannot store (after 2262-04-11) refuses the series.
* close: missing, non-positive or absurd (above ``max_price``, default 1e9: far above any listed
  share, e.g. BRK-A ~7e5, yet low enough for float maths to stay finite) -> row dropped (nothing
  trustworthy to repair from).
* open/high/low: negative -> row dropped; missing, zero or absurd (above ``max_price``) -> repaired:
  open = previous close (the bar's own close on the first row), high = max(open, close),
  low = min(open, close).
* High < Low -> swapped; Close outside [Low, High] -> range widened (close is trusted);
  Open outside [Low, High] -> clamped into the range (a typo'd open must not stretch the bar).
* volume: missing or negative -> 0 (repaired); zero -> kept and reported (the price may be stale).
* placeholders: a leading run of ``stale_run`` or more bars at one constant close with zero volume
  (a listing's placeholder) is dropped, and so is a trailing one after its first bar (a delisted
  ticker's stale quotes); a one-day close move beyond ``garbage_ratio`` (x100 either way) ends a
  garbage prefix (penny placeholders before a listing-sized jump): the bars before it are dropped
  when they are at most half the series, else the ticker is refused. Each is reported.
* one-day close moves beyond ``jump_ratio`` (default x1.8 either way, e.g. an unadjusted 2:1 split)
  and calendar gaps longer than ``gap_days`` -> kept and reported: they can be real.
* a series is refused (`DataError`, nothing written) when it has no rows, no close prices, or more
  than ``max_drop_frac`` of its rows had to be dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from tradea3c.data.errors import Action, DataError, Finding
from tradea3c.data.market import FIELDS

PRICE_FIELDS = ("open", "high", "low", "close")
MAX_PER_CHECK = 20  # beyond this, one aggregated finding per check keeps reports readable


def _day(ts: pd.Timestamp) -> str:
    return str(pd.Timestamp(ts).date())


class _Report:
    """Collects findings for one ticker, aggregating long runs of the same check."""

    def __init__(self, ticker: str) -> None:
        self.ticker = ticker
        self.findings: list[Finding] = []

    def add(self, date: pd.Timestamp | None, check: str, action: Action, detail: str) -> None:
        self.findings.append(
            Finding(self.ticker, None if date is None else _day(date), check, action, detail)
        )

    def rows(
        self, dates: Sequence[pd.Timestamp], check: str, action: Action, detail: Callable[[pd.Timestamp], str]
    ) -> None:
        if len(dates) > MAX_PER_CHECK:  # only the first and last date are read: no Timestamp per row
            self.add(
                dates[0],
                check,
                action,
                f"{detail(dates[0])} (and {len(dates) - 1} more rows, to {_day(dates[-1])})",
            )
            return
        for d in dates:
            self.add(d, check, action, detail(d))


def _fmt(x: float) -> str:
    return "missing" if not np.isfinite(x) else f"{x:g}"


MAX_PRICE = 1e9


def _ns_index(index: pd.Index, ticker: str) -> pd.DatetimeIndex:
    """``index`` as a nanosecond DatetimeIndex; `DataError` naming the first date that cannot be one."""
    dates = pd.DatetimeIndex(index)
    try:
        return dates.as_unit("ns")
    except (pd.errors.OutOfBoundsDatetime, OverflowError):
        bad = dates[(dates > pd.Timestamp.max) | (dates < pd.Timestamp.min)]
        when = str(bad[0].date()) if len(bad) else "out of range"
        raise DataError(
            f"{ticker}: date {when} is outside the dates pandas can store (1677-09-22 to 2262-04-11); "
            "fix or delete that row in the source"
        ) from None


def _same_as_kept(out: pd.DataFrame) -> np.ndarray:
    """Per row: True when every value equals the row kept for its date (the last one; NaN == NaN)."""
    pos = pd.Series(np.arange(len(out)), index=out.index).groupby(level=0).transform("last").to_numpy()
    vals = out.to_numpy()
    kept = vals[pos]
    return ((vals == kept) | (np.isnan(vals) & np.isnan(kept))).all(axis=1)


def _refusal_example(rep: _Report) -> str:
    """'; e.g. <first dropped row>' for a refusal message, so it says what was wrong."""
    f = next((f for f in rep.findings if f.action == "dropped"), None)
    return "" if f is None else f"; e.g. {f.date + ' ' if f.date else ''}{f.detail}"


def clean_frame(
    df: pd.DataFrame,
    ticker: str,
    *,
    max_drop_frac: float = 0.2,
    jump_ratio: float = 1.8,
    gap_days: int = 7,
    garbage_ratio: float = 100.0,
    stale_run: int = 5,
    max_price: float = MAX_PRICE,
) -> tuple[pd.DataFrame, list[Finding]]:
    """Validate and repair one ticker's bars; return (clean frame, findings).

    ``df`` has a DatetimeIndex (may be unsorted, duplicated or contain NaT) and lower-case columns
    among open/high/low/close/volume; ``close`` is required. Raises `DataError` when refused.
    """
    rep = _Report(ticker)
    if "close" not in df.columns:
        raise DataError(f"{ticker}: no close prices (columns: {', '.join(map(str, df.columns))}); refused")
    if len(df) == 0:
        raise DataError(f"{ticker}: no rows; refused")
    clean = _already_clean(df, ticker, max_price)
    if clean is not None:  # the common case (a cached frame): no repair can apply, skip the pandas work
        index, (o, h, lo, c, v) = clean
        bad_v = np.zeros(len(v), dtype=bool)
    else:
        index, o, h, lo, c, v, bad_v = _repair(df, rep, max_drop_frac, max_price)
    return _finish(index, o, h, lo, c, v, bad_v, rep, jump_ratio, gap_days, garbage_ratio, stale_run)


def _already_clean(
    df: pd.DataFrame, ticker: str, max_price: float
) -> tuple[pd.DatetimeIndex, tuple[np.ndarray, ...]] | None:
    """(index, float64 open/high/low/close/volume) when no rule of `_repair` would fire, else None.

    The checks mirror `_repair`: a frame passes only if `_repair` would neither drop, repair nor
    report anything. The silent changes `_repair` still makes (high/low widened to a close, and the
    open clamped into the range, when off by less than the 1e-9 tolerance) are made here the same
    way, so both paths give identical bars. Cached frames, validated when written, pass.
    """
    if not isinstance(df.index, pd.DatetimeIndex) or df.index.tz is not None or not df.columns.is_unique:
        return None
    if any(f not in df.columns for f in FIELDS):
        return None
    series = [df[f] for f in FIELDS]
    if any(s.dtype != np.float64 for s in series):
        return None
    index = _ns_index(df.index, ticker)
    t = index.asi8
    if t[0] == np.iinfo(np.int64).min or not (t[1:] > t[:-1]).all():  # NaT, unsorted or duplicated
        return None
    o, h, lo, c, v = (s.to_numpy() for s in series)
    with np.errstate(invalid="ignore"):
        ok = (c > 0) & (o > 0) & (lo > 0) & (h >= lo) & (v >= 0)  # False on NaN
        ok &= np.isfinite(c) & np.isfinite(o) & np.isfinite(h) & np.isfinite(v)  # low <= high: finite too
        ok &= (c <= max_price) & (o <= max_price) & (h <= max_price)  # low <= high
        if not ok.all():
            return None
        tol = 1e-9 * c
        if ((c - h > tol) | (lo - c > tol)).any():
            return None
        h, lo = np.maximum(h, c), np.minimum(lo, c)
        if ((o - h > tol) | (lo - o > tol)).any():
            return None
    return index, (np.clip(o, lo, h), h, lo, c, v)


def _repair(
    df: pd.DataFrame, rep: _Report, max_drop_frac: float, max_price: float
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Dates, rows that cannot be trusted, price and volume repairs (module docstring); returns the
    index, open/high/low/close/volume and where volume was repaired."""
    ticker = rep.ticker
    out = pd.DataFrame(index=_ns_index(df.index, ticker))
    for f in FIELDS:
        if f in df.columns:
            out[f] = pd.to_numeric(pd.Series(df[f].to_numpy(), index=out.index), errors="coerce").astype(
                float
            )
        else:
            out[f] = np.nan
            what = "set to 0" if f == "volume" else "rebuilt from close/previous close"
            rep.add(None, "missing-column", "repaired", f"no {f} column; {what}")
    out = out.replace([np.inf, -np.inf], np.nan)
    n_in = len(out)

    # ---- dates: NaT, order, duplicates
    nat = out.index.isna()
    if nat.any():
        rep.add(None, "bad-date", "dropped", f"{int(nat.sum())} rows without a valid date")
        out = out[~nat]
    if not out.index.is_monotonic_increasing:
        descending = out.index.is_monotonic_decreasing
        out = out.sort_index(kind="stable")
        detail = "dates in descending order; sorted ascending" if descending else "dates out of order; sorted"
        rep.add(None, "unsorted", "repaired", detail)
    dup = out.index.duplicated(keep="last")
    if dup.any():  # not invalid rows: the documented rule keeps the last one, so they don't count below
        exact = dup & _same_as_kept(out)
        rep.rows(  # one finding per date, however many copies it had
            out.index[exact].unique(),
            "duplicate-row",
            "dropped",
            lambda d: "exact duplicate row; kept the last copy",
        )
        rep.rows(
            out.index[dup & ~exact].unique(),
            "duplicate-date",
            "dropped",
            lambda d: "duplicate date with other values; kept the last row",
        )
        out = out[~dup]
        n_in = len(out) + int(nat.sum())

    # ---- rows that cannot be trusted: absurd, missing or non-positive close, non-positive O/H/L
    absurd = out["close"] > max_price
    if absurd.any():
        closes = out.loc[absurd, "close"]
        rep.rows(
            closes.index,
            "absurd-price",
            "dropped",
            lambda d: f"close {closes[d]:g} is absurd (above {max_price:g}); row dropped",
        )
        out = out[~absurd]
    big = out[["open", "high", "low"]] > max_price
    if big.any(axis=None):
        sub = out.loc[big.any(axis=1), ["open", "high", "low"]]
        rep.rows(
            sub.index,
            "absurd-price",
            "repaired",
            lambda d: (
                ", ".join(f"{c} {sub.at[d, c]:g}" for c in sub.columns if sub.at[d, c] > max_price)
                + f" absurd (above {max_price:g}); rebuilt from the close like a missing price"
            ),
        )
        out[["open", "high", "low"]] = out[["open", "high", "low"]].mask(big)
    absurd_ohl = big.any(axis=1)
    bad_close = ~(out["close"] > 0)
    if bad_close.any():
        closes = out.loc[bad_close, "close"]
        rep.rows(closes.index, "bad-close", "dropped", lambda d: f"close {_fmt(closes[d])}; row dropped")
        out = out[~bad_close]
    ohl = out[["open", "high", "low"]]
    zero = ohl == 0  # zero O/H/L with a valid close is how many sources encode "missing"
    out[["open", "high", "low"]] = ohl.mask(zero)
    ohl = out[["open", "high", "low"]]
    nonpos = (ohl < 0).any(axis=1)
    if nonpos.any():
        sub = ohl[nonpos]
        rep.rows(
            sub.index,
            "negative-price",
            "dropped",
            lambda d: (
                "negative " + ", ".join(f"{c} {sub.at[d, c]:g}" for c in sub.columns if sub.at[d, c] < 0)
            ),
        )
        out = out[~nonpos]
    if len(out) == 0:
        raise DataError(
            f"{ticker}: no valid rows left after cleaning ({n_in} read{_refusal_example(rep)}); refused"
        )
    dropped = n_in - len(out)
    if dropped > max_drop_frac * n_in:
        raise DataError(
            f"{ticker}: {dropped} of {n_in} rows invalid (> {max_drop_frac:.0%}{_refusal_example(rep)}); "
            "refused, fix the source"
        )

    # ---- repairs: missing open/high/low, inconsistent bars
    o, h, lo, c = (out[f].to_numpy(copy=True) for f in PRICE_FIELDS)
    prev_close = np.concatenate([[c[0]], c[:-1]])
    miss_o, miss_h, miss_l = np.isnan(o), np.isnan(h), np.isnan(lo)
    o = np.where(miss_o, prev_close, o)
    h = np.where(miss_h, np.maximum(o, c), h)
    lo = np.where(miss_l, np.minimum(o, c), lo)
    any_miss = miss_o | miss_h | miss_l
    whole = {f: m.all() for f, m in zip(("open", "high", "low"), (miss_o, miss_h, miss_l), strict=True)}
    per_row = any_miss & ~(miss_o & whole["open"] | miss_h & whole["high"] | miss_l & whole["low"])
    per_row &= ~absurd_ohl.reindex(out.index, fill_value=False).to_numpy()  # reported as absurd-price
    if per_row.any():
        idx = {d: i for i, d in enumerate(out.index)}

        def _miss(d: pd.Timestamp) -> str:
            i = idx[d]
            parts = [n for n, m in (("open", miss_o), ("high", miss_h), ("low", miss_l)) if m[i]]
            return f"missing or zero {'/'.join(parts)}; open=previous close, high/low=max/min(open, close)"

        rep.rows(out.index[per_row], "missing-price", "repaired", _miss)
    # close is the trusted field (returns are computed from it): a close outside [low, high]
    # widens the range; an open outside it (typos such as BA 2007-02-08 open 200, close 89.5)
    # is clamped into the range rather than stretching the range to the typo.
    swapped = h < lo
    if swapped.any():
        rep.rows(
            out.index[swapped],
            "high<low",
            "repaired",
            lambda d: f"high {out.at[d, 'high']:g} < low {out.at[d, 'low']:g}; swapped",
        )
        h, lo = np.where(swapped, lo, h), np.where(swapped, h, lo)
    tol = 1e-9 * c
    c_out = (c - h > tol) | (lo - c > tol)
    if c_out.any():
        rep.rows(
            out.index[c_out],
            "close-outside-range",
            "repaired",
            lambda d: "close {:g} outside [low {:g}, high {:g}]; range widened to include it".format(
                *out.loc[d, ["close", "low", "high"]]
            ),
        )
    h, lo = np.maximum(h, c), np.minimum(lo, c)
    o_out = (o - h > tol) | (lo - o > tol)
    if (o_out & ~any_miss).any():
        rep.rows(
            out.index[o_out & ~any_miss],
            "open-outside-range",
            "repaired",
            lambda d: "open {:g} outside [low {:g}, high {:g}]; clamped into the range".format(
                *out.loc[d, ["open", "low", "high"]]
            ),
        )
    o = np.clip(o, lo, h)

    # ---- volume
    v = out["volume"].to_numpy(copy=True)
    bad_v = np.isnan(v) | (v < 0)
    if bad_v.any() and not np.isnan(v).all():
        vol = out["volume"]
        rep.rows(out.index[bad_v], "bad-volume", "repaired", lambda d: f"volume {_fmt(vol[d])} -> 0")
    v[bad_v] = 0.0
    return out.index, o, h, lo, c, v, bad_v


def _finish(
    index: pd.DatetimeIndex,
    o: np.ndarray,
    h: np.ndarray,
    lo: np.ndarray,
    c: np.ndarray,
    v: np.ndarray,
    bad_v: np.ndarray,
    rep: _Report,
    jump_ratio: float,
    gap_days: int,
    garbage_ratio: float,
    stale_run: int,
) -> tuple[pd.DataFrame, list[Finding]]:
    """Placeholders (dropped), zero volume, jumps and gaps (reported) on repaired bars; the clean frame."""
    # ---- placeholders: never train on them
    first, end = _placeholder_bounds(index, c, v, rep, garbage_ratio, stale_run)
    index, c, v, bad_v = index[first:end], c[first:end], v[first:end], bad_v[first:end]
    zero_v = (v == 0) & ~bad_v
    if zero_v.any():
        rep.rows(index[zero_v], "zero-volume", "kept", lambda d: "zero volume (price may be stale)")

    # ---- reported only: split-like jumps, calendar gaps
    ratio = c[1:] / c[:-1]
    jumps = np.flatnonzero((ratio > jump_ratio) | (ratio < 1.0 / jump_ratio)) + 1
    if len(jumps):
        r = dict(zip(index[jumps], ratio[jumps - 1], strict=True))
        rep.rows(index[jumps], "jump", "kept", lambda d: _jump_detail(float(r[d])))
    if len(index) > 1:
        gaps = np.diff(index.asi8) // 86_400_000_000_000  # whole calendar days (ns index)
        gap_at = np.flatnonzero(gaps > gap_days) + 1
        if len(gap_at):
            g = dict(zip(index[gap_at], gaps[gap_at - 1], strict=True))
            rep.rows(
                index[gap_at], "gap", "kept", lambda d: f"{int(g[d])} calendar days since the previous bar"
            )

    cols = (o[first:end], h[first:end], lo[first:end], c, v)
    out = pd.DataFrame(dict(zip(FIELDS, cols, strict=True)), index=index.rename("date"))
    return out, rep.findings


def _placeholder_bounds(
    dates: pd.DatetimeIndex, c: np.ndarray, v: np.ndarray, rep: _Report, garbage_ratio: float, stale_run: int
) -> tuple[int, int]:
    """Rows ``[lo, hi)`` left after dropping stale placeholder runs at either end and a garbage prefix
    before a listing-sized jump (module docstring); refuses a garbage jump with too much after it."""
    n, lo, hi = len(c), 0, len(c)
    stale = (v == 0) & np.concatenate([[False], c[1:] == c[:-1]])  # zero volume, same close as before
    lead = 1 + _leading_run(stale[1:]) if v[0] == 0 else 0
    if lead >= stale_run:
        detail = (
            f"{lead} leading bars at a constant close {c[0]:g} with zero volume (placeholder before listing)"
        )
        rep.add(dates[0], "placeholder", "dropped", detail)
        lo = lead
    trail = _leading_run(stale[::-1])
    if trail >= stale_run and hi - trail > lo:
        last = _day(dates[hi - trail - 1])
        detail = (
            f"{trail} trailing bars repeating the close {c[-1]:g} of {last} with zero volume (stale quotes)"
        )
        rep.add(dates[hi - trail], "placeholder", "dropped", detail)
        hi -= trail
    ratio = c[lo + 1 : hi] / c[lo : hi - 1]
    big = np.flatnonzero((ratio > garbage_ratio) | (ratio < 1.0 / garbage_ratio)) + lo + 1
    if len(big):
        j = int(big[-1])
        r = c[j] / c[j - 1]
        if j - lo > (hi - lo) / 2:
            when = _day(dates[j])
            raise DataError(
                f"{rep.ticker}: close x{r:.4g} in one day on {when} (beyond x{garbage_ratio:g}) with "
                f"{hi - j} bars after it; refused, fix the source (garbage or unadjusted prices)"
            )
        rep.add(
            dates[j],
            "garbage-prefix",
            "dropped",
            f"{j - lo} bars before a x{r:.4g} one-day move "
            f"(placeholder prices before a listing); the series starts on {_day(dates[j])}",
        )
        lo = j
    if hi - lo < min(n, 2):
        raise DataError(f"{rep.ticker}: nothing but placeholder prices; refused")
    return lo, hi


def _leading_run(mask: np.ndarray) -> int:
    """How many leading entries of ``mask`` are True."""
    return len(mask) if mask.all() else int(np.argmin(mask))


def _jump_detail(ratio: float) -> str:
    """Describe a one-day close ratio, naming the split it resembles (n:1 or 1:n) if any."""
    n = ratio if ratio >= 1 else 1.0 / ratio
    k = round(n)
    like = ""
    if k >= 2 and abs(n - k) / k < 0.05:
        like = (
            f"; looks like an unadjusted {'1:' + str(k) + ' reverse' if ratio >= 1 else str(k) + ':1'} split"
        )
    return f"close x{ratio:.3f} in one day{like}; kept, fetch adjusted prices if this is a split"
