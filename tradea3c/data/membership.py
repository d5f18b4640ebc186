"""Point-in-time index membership: which tickers were in an index on each date.

A universe named by today's list ("sp500" from pytickersymbols) is survivorship-biased: members that
left the index are missing and members that joined later are traded before they joined. A
`Membership` holds each ticker's ``[start, end)`` intervals in the index (end None = still a
member), so a load can take every ticker that was a member at any time in its range and mask each
bar by the membership *on that bar's date* (no look-ahead).

Sources: `Membership.from_pitindex` (the S&P 500/400/600 change logs shipped in the pitindex wheel,
read offline from its package data, not from ``~/.cache/pitindex``, so a pinned version gives the
same intervals everywhere) and `Membership.from_csv` (columns ``ticker,start,end``; end blank =
still a member). Tickers are Yahoo symbols (`universes.yahoo_symbol`: BRK.B -> BRK-B).

Coverage: a range that starts before the source's first known date is a `DataError` (the
membership before it is unknown; guessing it would bring the bias back). The loader clips a range
without an explicit start to the coverage start instead (`tradea3c.data.load`).
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from importlib import resources
from pathlib import Path

import numpy as np

from tradea3c.data.errors import DataError
from tradea3c.data.universes import yahoo_symbol

Interval = tuple[date, date | None]
"""``[start, end)``: a member from ``start`` (inclusive) to ``end`` (exclusive); end None = still one."""

POINT_IN_TIME: dict[str, str] = {"sp500": "sp500"}
"""Universes with point-in-time data: universe name -> pitindex index."""

CSV_COLUMNS = ("ticker", "start", "end")
CSV_HINT = "a CSV with columns ticker,start,end (YYYY-MM-DD; end blank = still a member)"


def as_day(value: object) -> date:
    """A date from a `date`, a numpy/pandas timestamp or an ISO string (`DataError` otherwise)."""
    if isinstance(value, date):
        return value if type(value) is date else date(value.year, value.month, value.day)
    if isinstance(value, np.datetime64):
        return date.fromisoformat(str(value.astype("datetime64[D]")))
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise DataError(f"invalid date {value!r}: use YYYY-MM-DD") from None


def _merge(intervals: Iterable[Interval]) -> tuple[Interval, ...]:
    """Sorted intervals with overlapping or touching ones merged (a same-day remove + add is one)."""
    out: list[list[date | None]] = []
    for s, e in sorted(intervals, key=lambda iv: iv[0]):
        if out and (out[-1][1] is None or out[-1][1] >= s):  # type: ignore[operator]
            last_end = out[-1][1]
            out[-1][1] = None if last_end is None or e is None else max(last_end, e)
        else:
            out.append([s, e])
    return tuple((s, e) for s, e in out)  # type: ignore[misc]


@dataclass(frozen=True, eq=False)
class Membership:
    """Index membership intervals per Yahoo ticker, with where they came from and what they cover."""

    intervals: Mapping[str, tuple[Interval, ...]]
    source: str
    """Where the intervals come from, for logs ("pitindex 0.2.1 sp500 (built 2026-07-13)", a file)."""
    coverage_start: date
    """First date the membership is known on; earlier ranges are a `DataError`."""
    coverage_end: date | None = None
    """Last date the source knows of (its build date); later bars use the last known membership."""

    # ------------------------------------------------------------ queries
    @property
    def tickers(self) -> list[str]:
        return sorted(self.intervals)

    def check_range(self, start: object, end: object | None = None) -> tuple[date, date | None]:
        """``(start, end)`` as dates; `DataError` when ``start`` precedes the coverage."""
        lo, hi = as_day(start), None if end is None else as_day(end)
        if lo < self.coverage_start:
            raise DataError(
                f"{self.source} starts on {self.coverage_start}: the membership on {lo} is unknown; "
                f"start on {self.coverage_start} or later (--start), or pass --membership FILE "
                "with intervals that cover it"
            )
        if hi is not None and hi < lo:
            raise DataError(f"membership range ends ({hi}) before it starts ({lo}); swap the dates")
        return lo, hi

    def members_between(self, start: object, end: object | None = None) -> list[str]:
        """Sorted tickers that were members on any date of ``[start, end]`` (end None = today on)."""
        lo, hi = self.check_range(start, end)
        return [
            t
            for t in self.tickers
            if any((hi is None or s <= hi) and (e is None or e > lo) for s, e in self.intervals[t])
        ]

    def is_member(self, ticker: str, day: object) -> bool:
        d = as_day(day)
        return any(s <= d and (e is None or d < e) for s, e in self.intervals.get(yahoo_symbol(ticker), ()))

    def mask(self, tickers: Sequence[str], dates: Sequence[object] | np.ndarray) -> np.ndarray:
        """Bool ``(n_bars, n_assets)``: ticker ``i`` is a member on ``dates[t]`` (the membership on
        that date only). A ticker the source does not know is never a member."""
        days = np.asarray(dates).astype("datetime64[D]")
        if len(days):
            self.check_range(days.min())
        out = np.zeros((len(days), len(tickers)), dtype=bool)
        for j, t in enumerate(tickers):
            for s, e in self.intervals.get(yahoo_symbol(t), ()):
                inside = days >= np.datetime64(s, "D")
                if e is not None:
                    inside &= days < np.datetime64(e, "D")
                out[:, j] |= inside
        return out

    # ------------------------------------------------------------ sources
    @classmethod
    def from_intervals(
        cls,
        intervals: Mapping[str, Iterable[Interval]],
        *,
        source: str,
        coverage_start: object | None = None,
        coverage_end: object | None = None,
    ) -> Membership:
        """From ``{ticker: [(start, end), ...]}`` (tickers normalised to Yahoo symbols, overlapping
        intervals merged); coverage starts at the earliest start unless given."""
        merged: dict[str, list[Interval]] = {}
        for t, ivs in intervals.items():
            days = ((as_day(s), None if e is None else as_day(e)) for s, e in ivs)
            merged.setdefault(yahoo_symbol(t), []).extend(days)
        clean = {t: _merge(ivs) for t, ivs in merged.items() if ivs}
        if not clean:
            raise DataError(f"{source}: no membership intervals; give {CSV_HINT}")
        first = min(iv[0] for ivs in clean.values() for iv in ivs)
        return cls(
            clean,
            source,
            first if coverage_start is None else as_day(coverage_start),
            None if coverage_end is None else as_day(coverage_end),
        )

    @classmethod
    def from_pitindex(cls, index: str = "sp500") -> Membership:
        """The point-in-time intervals of ``index`` (sp500, sp400, sp600) from the seed snapshot and
        change log shipped in the installed pitindex wheel (offline). Coverage starts on the first
        change date (the seed is the snapshot just before it; pitindex's first changes fix the
        seed's tickers, e.g. LEHMQ -> LEH on 2005-01-03) and ends on its build date."""
        try:
            import pitindex
        except ImportError:
            raise DataError(
                "point-in-time membership needs the pitindex package: pip install 'pitindex>=0.2.1,<0.3', "
                "or pass --membership FILE"
            ) from None
        data = resources.files("pitindex.data")
        key = index.strip().lower()
        try:
            seed_rows = list(csv.DictReader((data / f"{key}_seed.csv").read_text("utf-8").splitlines()))
            change_rows = list(csv.DictReader((data / f"{key}_changes.csv").read_text("utf-8").splitlines()))
            meta = json.loads((data / "build_metadata.json").read_text("utf-8"))
        except FileNotFoundError:
            raise DataError(f"pitindex has no data for index {index!r}; use sp500, sp400 or sp600") from None
        seed_day = date.fromisoformat(seed_rows[0]["effective_date"])
        events = sorted(
            ((date.fromisoformat(r["date"]), r["action"], r["ticker"]) for r in change_rows),
            key=lambda ev: (ev[0], 0 if ev[1] == "removed" else 1, ev[2]),  # pitindex's own order
        )
        opened: dict[str, date] = {r["ticker"]: seed_day for r in seed_rows}
        closed: dict[str, list[Interval]] = {}
        for day, action, ticker in events:
            if action == "added" and ticker not in opened:
                opened[ticker] = day
            elif action == "removed" and ticker in opened:
                closed.setdefault(ticker, []).append((opened.pop(ticker), day))
        for ticker, since in opened.items():
            closed.setdefault(ticker, []).append((since, None))
        built = ((meta.get("indices") or {}).get(key) or meta).get("end_date")
        coverage_start = min((day for day, _, _ in events if day > seed_day), default=seed_day)
        version = getattr(pitindex, "__version__", "?")
        return cls.from_intervals(
            closed,
            source=f"pitindex {version} {key}" + (f" (built {built})" if built else ""),
            coverage_start=coverage_start,
            coverage_end=built,
        )

    @classmethod
    def from_csv(cls, path: str | Path) -> Membership:
        """Intervals from a CSV with columns ``ticker,start,end`` (more columns are ignored; end blank
        = still a member; a ticker may have several rows). Any problem is a one-line `DataError`
        naming the file (and line) and the fix."""
        p = Path(path)
        try:
            text = p.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            why = "not found" if isinstance(exc, FileNotFoundError) else f"unreadable ({type(exc).__name__})"
            raise DataError(f"membership file {p} is {why}; pass {CSV_HINT}") from None
        reader = csv.DictReader(text.splitlines())
        columns = [c.strip().lower() for c in reader.fieldnames or []]
        if any(c not in columns for c in CSV_COLUMNS):
            raise DataError(
                f"membership file {p} has columns {','.join(columns) or '(none)'}; expected {CSV_HINT}"
            )
        reader.fieldnames = columns
        intervals: dict[str, list[Interval]] = {}
        for line, row in enumerate(reader, start=2):
            where = f"membership file {p} line {line}"
            ticker = (row.get("ticker") or "").strip()
            if not ticker:
                raise DataError(f"{where}: empty ticker; every row needs ticker,start[,end]")
            try:
                start = date.fromisoformat((row.get("start") or "").strip())
                end_text = (row.get("end") or "").strip()
                end = date.fromisoformat(end_text) if end_text else None
            except ValueError:
                raise DataError(
                    f"{where}: bad date in {row.get('start')!r},{row.get('end')!r}; use YYYY-MM-DD "
                    "(end blank = still a member)"
                ) from None
            if end is not None and end <= start:
                raise DataError(f"{where}: end {end} is not after start {start}; [start, end) needs a day")
            intervals.setdefault(ticker, []).append((start, end))
        if not intervals:
            raise DataError(f"membership file {p} has no rows; give {CSV_HINT}")
        return cls.from_intervals(intervals, source=f"membership file {p}")

    def to_csv(self, path: str | Path) -> Path:
        """Write the intervals as a ``ticker,start,end`` CSV (`from_csv` reads it back), e.g. to
        edit the pitindex intervals by hand."""
        p = Path(path)
        rows = [
            f"{t},{s.isoformat()},{'' if e is None else e.isoformat()}"
            for t in self.tickers
            for s, e in self.intervals[t]
        ]
        p.write_text("\n".join([",".join(CSV_COLUMNS), *rows]) + "\n", encoding="utf-8")
        return p

    def __repr__(self) -> str:
        return f"Membership({self.source}: {len(self.intervals)} tickers from {self.coverage_start})"


def resolve_membership(universe: str | None, membership: str | Path | Membership | None) -> Membership | None:
    """The membership a load of ``universe`` uses: None (the default) = the point-in-time data of a
    universe that has it (`POINT_IN_TIME`), else none; "pit" = that data (`DataError` for a universe
    without it); "today" = none (today's list, survivorship-biased); anything else = a CSV path."""
    key = (universe or "").strip().lower()
    if isinstance(membership, Membership):
        return membership
    choice = None if membership is None else str(membership).strip()
    if choice is None or choice.lower() == "pit":
        if key in POINT_IN_TIME:
            return Membership.from_pitindex(POINT_IN_TIME[key])
        if choice is None:
            return None
        raise DataError(
            f"--membership pit: {universe or 'this market'} has no point-in-time data (only "
            f"{', '.join(POINT_IN_TIME)}); pass --membership FILE ({CSV_HINT})"
        )
    if choice.lower() == "today":
        return None
    return Membership.from_csv(choice)


def survivorship_note(universe: str, how: str) -> str:
    """The loud line for a universe loaded from today's list."""
    return (
        f"{universe} is today's list ({how}), not point-in-time: SURVIVORSHIP-BIASED (members that left "
        "the index are missing, today's members are traded before they joined); pass --membership FILE "
        "(ticker,start,end) for point-in-time members"
    )
