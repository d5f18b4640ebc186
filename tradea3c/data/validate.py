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
from dataclasses import dataclass, field

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

    The checks mirror the rules of `REPAIRS`: a frame passes only if none of them would drop,
    repair or report anything. The silent changes `_repair` still makes (high/low widened to a close, and the
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


@dataclass
class _Bars:
    """One ticker's bars while the repair rules run, and what a rule leaves for later ones."""

    out: pd.DataFrame
    """The bars as read (float columns open..volume, ns dates); rows are dropped as rules go."""
    rep: _Report
    max_drop_frac: float
    max_price: float
    n_in: int
    """Rows read, for the share of dropped rows (duplicate dates do not count)."""
    n_nat: int = 0
    absurd_ohl: pd.Series = field(default_factory=lambda: pd.Series(dtype=bool))
    """Rows whose open/high/low were absurd (reported as absurd-price, not again as missing-price)."""
    o: np.ndarray = field(default_factory=lambda: np.empty(0))
    h: np.ndarray = field(default_factory=lambda: np.empty(0))
    lo: np.ndarray = field(default_factory=lambda: np.empty(0))
    c: np.ndarray = field(default_factory=lambda: np.empty(0))
    any_miss: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))
    """Rows where open, high or low was rebuilt (their open is not reported as out of range)."""
    v: np.ndarray = field(default_factory=lambda: np.empty(0))
    bad_v: np.ndarray = field(default_factory=lambda: np.empty(0, dtype=bool))


def _read_bars(df: pd.DataFrame, rep: _Report, max_drop_frac: float, max_price: float) -> _Bars:
    """Every field as float (unparseable and infinite values become NaN); a missing column is all NaN
    and reported (volume is then 0, prices are rebuilt like missing ones)."""
    out = pd.DataFrame(index=_ns_index(df.index, rep.ticker))
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
    return _Bars(out, rep, max_drop_frac, max_price, len(out))


# ---- dates


def _drop_bad_dates(b: _Bars) -> None:
    """A row without a valid date cannot be placed on any calendar: dropped (and counted)."""
    nat = b.out.index.isna()
    b.n_nat = int(nat.sum())
    if nat.any():
        b.rep.add(None, "bad-date", "dropped", f"{b.n_nat} rows without a valid date")
        b.out = b.out[~nat]


def _sort_dates(b: _Bars) -> None:
    """Sources (CSV exports especially) list dates newest first or shuffled: sorted, stable."""
    if not b.out.index.is_monotonic_increasing:
        descending = b.out.index.is_monotonic_decreasing
        b.out = b.out.sort_index(kind="stable")
        detail = "dates in descending order; sorted ascending" if descending else "dates out of order; sorted"
        b.rep.add(None, "unsorted", "repaired", detail)


def _dedupe_dates(b: _Bars) -> None:
    """One bar per date: the last row of a date is kept (a re-fetch appends the newer values); exact
    copies and same-date rows with other values are reported apart. Not invalid rows: they do not
    count towards the dropped share."""
    dup = b.out.index.duplicated(keep="last")
    if not dup.any():
        return
    exact = dup & _same_as_kept(b.out)
    b.rep.rows(  # one finding per date, however many copies it had
        b.out.index[exact].unique(),
        "duplicate-row",
        "dropped",
        lambda d: "exact duplicate row; kept the last copy",
    )
    b.rep.rows(
        b.out.index[dup & ~exact].unique(),
        "duplicate-date",
        "dropped",
        lambda d: "duplicate date with other values; kept the last row",
    )
    b.out = b.out[~dup]
    b.n_in = len(b.out) + b.n_nat


# ---- rows that cannot be trusted


def _drop_absurd_close(b: _Bars) -> None:
    """A close above ``max_price`` is a unit or parsing error, and the close is what everything is
    computed from: nothing trustworthy to repair from, so the row is dropped."""
    absurd = b.out["close"] > b.max_price
    if absurd.any():
        closes = b.out.loc[absurd, "close"]
        b.rep.rows(
            closes.index,
            "absurd-price",
            "dropped",
            lambda d: f"close {closes[d]:g} is absurd (above {b.max_price:g}); row dropped",
        )
        b.out = b.out[~absurd]


def _rebuild_absurd_ohl(b: _Bars) -> None:
    """An absurd open/high/low beside a sane close is treated as missing (rebuilt from the close
    later): the bar is still usable."""
    ohl = ["open", "high", "low"]
    big = b.out[ohl] > b.max_price
    if big.any(axis=None):
        sub = b.out.loc[big.any(axis=1), ohl]
        b.rep.rows(
            sub.index,
            "absurd-price",
            "repaired",
            lambda d: (
                ", ".join(f"{c} {sub.at[d, c]:g}" for c in sub.columns if sub.at[d, c] > b.max_price)
                + f" absurd (above {b.max_price:g}); rebuilt from the close like a missing price"
            ),
        )
        b.out[ohl] = b.out[ohl].mask(big)
    b.absurd_ohl = big.any(axis=1)


def _drop_bad_close(b: _Bars) -> None:
    """A missing, zero or negative close leaves nothing to compute returns from: row dropped."""
    bad_close = ~(b.out["close"] > 0)
    if bad_close.any():
        closes = b.out.loc[bad_close, "close"]
        b.rep.rows(closes.index, "bad-close", "dropped", lambda d: f"close {_fmt(closes[d])}; row dropped")
        b.out = b.out[~bad_close]


def _zero_ohl_is_missing(b: _Bars) -> None:
    """A zero open/high/low beside a valid close is how many sources encode "missing": made NaN, so
    the missing-price repair rebuilds it (silently here; that repair reports it)."""
    ohl = b.out[["open", "high", "low"]]
    b.out[["open", "high", "low"]] = ohl.mask(ohl == 0)


def _drop_negative_ohl(b: _Bars) -> None:
    """A negative price is corrupt data, not a missing value: row dropped."""
    ohl = b.out[["open", "high", "low"]]
    nonpos = (ohl < 0).any(axis=1)
    if nonpos.any():
        sub = ohl[nonpos]
        b.rep.rows(
            sub.index,
            "negative-price",
            "dropped",
            lambda d: (
                "negative " + ", ".join(f"{c} {sub.at[d, c]:g}" for c in sub.columns if sub.at[d, c] < 0)
            ),
        )
        b.out = b.out[~nonpos]


def _refuse_mostly_dropped(b: _Bars) -> None:
    """A series with nothing left, or more than ``max_drop_frac`` of its rows dropped, is not data to
    train on: refused (`DataError`, with an example of what was wrong), nothing written."""
    ticker, rep, n_in = b.rep.ticker, b.rep, b.n_in
    if len(b.out) == 0:
        raise DataError(
            f"{ticker}: no valid rows left after cleaning ({n_in} read{_refusal_example(rep)}); refused"
        )
    dropped = n_in - len(b.out)
    if dropped > b.max_drop_frac * n_in:
        raise DataError(
            f"{ticker}: {dropped} of {n_in} rows invalid (> {b.max_drop_frac:.0%}{_refusal_example(rep)}); "
            "refused, fix the source"
        )


# ---- repairs: missing open/high/low, inconsistent bars


def _fill_missing_prices(b: _Bars) -> None:
    """A missing (or zero, or absurd) open is the previous close (the bar's own close on the first
    row), a missing high/low the max/min of open and close: the most neutral bar the close allows.
    A column missing entirely is reported once (missing-column), absurd ones as absurd-price."""
    out = b.out
    o, h, lo, c = (out[f].to_numpy(copy=True) for f in PRICE_FIELDS)
    prev_close = np.concatenate([[c[0]], c[:-1]])
    miss_o, miss_h, miss_l = np.isnan(o), np.isnan(h), np.isnan(lo)
    o = np.where(miss_o, prev_close, o)
    h = np.where(miss_h, np.maximum(o, c), h)
    lo = np.where(miss_l, np.minimum(o, c), lo)
    any_miss = miss_o | miss_h | miss_l
    whole = {f: m.all() for f, m in zip(("open", "high", "low"), (miss_o, miss_h, miss_l), strict=True)}
    per_row = any_miss & ~(miss_o & whole["open"] | miss_h & whole["high"] | miss_l & whole["low"])
    per_row &= ~b.absurd_ohl.reindex(out.index, fill_value=False).to_numpy()  # reported as absurd-price
    if per_row.any():
        idx = {d: i for i, d in enumerate(out.index)}

        def _miss(d: pd.Timestamp) -> str:
            i = idx[d]
            parts = [n for n, m in (("open", miss_o), ("high", miss_h), ("low", miss_l)) if m[i]]
            return f"missing or zero {'/'.join(parts)}; open=previous close, high/low=max/min(open, close)"

        b.rep.rows(out.index[per_row], "missing-price", "repaired", _miss)
    b.o, b.h, b.lo, b.c, b.any_miss = o, h, lo, c, any_miss


def _swap_high_low(b: _Bars) -> None:
    """High below low is two fields swapped (a column mix-up): swapped back."""
    swapped = b.h < b.lo
    if swapped.any():
        out = b.out
        b.rep.rows(
            out.index[swapped],
            "high<low",
            "repaired",
            lambda d: f"high {out.at[d, 'high']:g} < low {out.at[d, 'low']:g}; swapped",
        )
        b.h, b.lo = np.where(swapped, b.lo, b.h), np.where(swapped, b.h, b.lo)


def _widen_range_to_close(b: _Bars) -> None:
    """The close is the trusted field (returns are computed from it): a close outside [low, high]
    widens the range to include it (beyond a 1e-9 relative tolerance it is reported)."""
    tol = 1e-9 * b.c
    c_out = (b.c - b.h > tol) | (b.lo - b.c > tol)
    if c_out.any():
        out = b.out
        b.rep.rows(
            out.index[c_out],
            "close-outside-range",
            "repaired",
            lambda d: "close {:g} outside [low {:g}, high {:g}]; range widened to include it".format(
                *out.loc[d, ["close", "low", "high"]]
            ),
        )
    b.h, b.lo = np.maximum(b.h, b.c), np.minimum(b.lo, b.c)


def _clamp_open(b: _Bars) -> None:
    """An open outside [low, high] is clamped into the range rather than stretching the range to it:
    such opens are typos (BA 2007-02-08: open 200, close 89.5). Rebuilt opens are not reported."""
    tol = 1e-9 * b.c
    o_out = (b.o - b.h > tol) | (b.lo - b.o > tol)
    if (o_out & ~b.any_miss).any():
        out = b.out
        b.rep.rows(
            out.index[o_out & ~b.any_miss],
            "open-outside-range",
            "repaired",
            lambda d: "open {:g} outside [low {:g}, high {:g}]; clamped into the range".format(
                *out.loc[d, ["open", "low", "high"]]
            ),
        )
    b.o = np.clip(b.o, b.lo, b.h)


def _repair_volume(b: _Bars) -> None:
    """A missing or negative volume is 0 (unknown, not traded on); reported unless the source has no
    volume at all (then the missing column was reported)."""
    v = b.out["volume"].to_numpy(copy=True)
    bad_v = np.isnan(v) | (v < 0)
    if bad_v.any() and not np.isnan(v).all():
        vol = b.out["volume"]
        b.rep.rows(b.out.index[bad_v], "bad-volume", "repaired", lambda d: f"volume {_fmt(vol[d])} -> 0")
    v[bad_v] = 0.0
    b.v, b.bad_v = v, bad_v


REPAIRS: tuple[Callable[[_Bars], None], ...] = (
    _drop_bad_dates,
    _sort_dates,
    _dedupe_dates,
    _drop_absurd_close,
    _rebuild_absurd_ohl,
    _drop_bad_close,
    _zero_ohl_is_missing,
    _drop_negative_ohl,
    _refuse_mostly_dropped,
    _fill_missing_prices,
    _swap_high_low,
    _widen_range_to_close,
    _clamp_open,
    _repair_volume,
)
"""The repair rules of `clean_frame`, applied in this order (the module docstring lists them):
dates first, then rows that cannot be trusted are dropped (and too many refuse the series), then
prices and volume are repaired. Each rule reads and updates one `_Bars`."""


def _repair(
    df: pd.DataFrame, rep: _Report, max_drop_frac: float, max_price: float
) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """`REPAIRS` applied in order to ``df``; returns the index, open/high/low/close/volume and where
    volume was repaired."""
    bars = _read_bars(df, rep, max_drop_frac, max_price)
    for rule in REPAIRS:
        rule(bars)
    return bars.out.index, bars.o, bars.h, bars.lo, bars.c, bars.v, bars.bad_v


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
