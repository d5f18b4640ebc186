"""The library entry points later stages use: a validated, aligned `Market` from cache or CSV.

A universe with point-in-time membership (sp500 by default, or any market with ``membership=FILE``)
loads every ticker that was a member at any time in the range of its cached data, not today's
list, and masks each bar by the membership on that date (`tradea3c.data.membership`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pandas as pd

from tradea3c.data import cache
from tradea3c.data.align import align_panel
from tradea3c.data.errors import DataError, Finding, UnreadableCacheError
from tradea3c.data.intraday import cache_dir, check_interval, check_session
from tradea3c.data.market import Market
from tradea3c.data.membership import Membership, as_day, resolve_membership, survivorship_note
from tradea3c.data.universes import UNIVERSES, universe_tickers
from tradea3c.data.validate import clean_frame

SPECIAL = ("demo", "cached")


@dataclass
class LoadReport:
    """What loading found and did (validation + alignment findings), for logs and the CLI."""

    source: str
    findings: list[Finding] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # ticker -> columns used (CSV)


def resolve_tickers(market: str | Sequence[str], data_dir: Path | None = None) -> tuple[list[str], str]:
    """(tickers, name) for a universe name, 'cached', a comma list or a sequence of tickers.

    A lower-case string that is not a known name is treated as a typo (`DataError`), an upper-case
    one as a ticker, so ``load_market("AAPL")`` works and ``load_market("sp5000")`` explains itself.
    """
    if isinstance(market, str):
        key = market.strip()
        if key.lower() in UNIVERSES:
            return universe_tickers(key)[0], key.lower()
        if key.lower() == "cached":
            ddir = cache.resolve_data_dir(data_dir)
            metas, unreadable = cache.scan_cache(ddir)
            if not metas and not unreadable:
                raise DataError(f"the cache {ddir} is empty; run `tradea3c fetch ...` first")
            # unreadable files keep their ticker: loading it names the file (or, skipping, reports it)
            names = [m.ticker for m in metas] + [p.name.removesuffix(".parquet") for p in unreadable]
            return sorted(names, key=lambda t: f"{t}.parquet"), "cached"  # file order, as scanned
        if key.islower() and "," not in key:
            raise DataError(
                f"unknown market {market!r}: use demo, cached, {', '.join(UNIVERSES)}, or tickers like AAPL"
            )
        names = [t for t in key.replace(" ", ",").split(",") if t]
        return [cache.normalize_ticker(t) for t in names], ",".join(names).upper()
    names = [cache.normalize_ticker(t) for t in market]
    if not names:
        raise DataError("empty ticker list; name at least one ticker")
    return list(dict.fromkeys(names)), ",".join(names[:5]) + ("..." if len(names) > 5 else "")


def _window(df: pd.DataFrame, start: object, end: object) -> pd.DataFrame:
    if start is not None:
        df = df[df.index >= pd.Timestamp(start)]
    if end is not None:
        df = df[df.index <= pd.Timestamp(end)]
    return df


def build_market(
    frames: dict[str, pd.DataFrame],
    *,
    source: str,
    adjusted: bool,
    name: str,
    start: object = None,
    end: object = None,
    skip_refused: bool = False,
    min_history: int = 0,
    interval: str = "1d",
) -> tuple[Market, list[Finding]]:
    """Validate each raw/cached frame, cut to [start, end], align, and build the `Market`.

    A refused series raises `DataError`, or with ``skip_refused`` is left out and reported. With
    several tickers, one without bars in [start, end] or with fewer than ``min_history`` bars
    there is left out and reported by name (`DataError` when none is left).

    ``interval`` (`tradea3c.data.intraday`): intraday bars are kept only on the interval's grid
    inside the regular session (`check_session`, the rest dropped and reported), and a date-only
    ``end`` takes that whole day's bars."""
    findings: list[Finding] = []
    clean: dict[str, pd.DataFrame] = {}
    intraday = interval != "1d"
    if intraday and end is not None and pd.Timestamp(end) == pd.Timestamp(end).normalize():
        end = pd.Timestamp(end) + pd.Timedelta(days=1) - pd.Timedelta(1, "ns")
    for t, df in frames.items():
        if intraday:  # before validation, as on import
            df, f = check_session(df, interval, t)
            findings += f
        try:
            c, f = clean_frame(df, t)
        except DataError as exc:
            if not skip_refused:
                raise
            findings.append(Finding(t, None, "validate", "refused", str(exc)))
            continue
        findings += f
        c = _window(c, start, end)
        if len(c) == 0 and len(frames) == 1:
            raise DataError(
                f"{t}: no bars between {start or 'the start'} and {end or 'the end'}; widen the range"
            )
        if len(c) < max(min_history, 1):
            findings.append(
                Finding(
                    t, None, "min-history", "dropped", f"{len(c)} bars in range, min_history {min_history}"
                )
            )
            continue
        clean[t] = c
    short = [f.ticker for f in findings if f.check == "min-history"]
    if short:
        findings.append(
            Finding(
                name or "market",
                None,
                "min-history",
                "dropped",
                f"{len(short)} tickers with too little history: {' '.join(short[:20])}"
                + (f" (+{len(short) - 20} more)" if len(short) > 20 else ""),
            )
        )
    if not clean:
        if short:
            raise DataError(
                f"no ticker has {max(min_history, 1)} bars between {start or 'the start'} and "
                f"{end or 'the end'}; lower --min-history or widen the range"
            )
        raise DataError(f"every series was refused: {findings[0].detail if findings else 'no data'}")
    panel, f = align_panel(clean)
    findings += f
    market = Market(
        tickers=panel.tickers,
        dates=panel.dates.to_numpy(),
        **panel.bars,
        source=source,
        adjusted=adjusted,
        name=name,
        tradable=panel.tradable,  # None in the Market when every bar is tradable
        halted=panel.halted,  # halts inside a listing: not tradable, marked at the last close
        interval=interval,
    )
    return market, findings


def load_market_with_report(
    market: str | Sequence[str] = "demo",
    *,
    data_dir: str | Path | None = None,
    start: object = None,
    end: object = None,
    max_tickers: int | None = None,
    min_history: int = 0,
    skip_unreadable: bool = False,
    membership: str | Path | Membership | None = None,
    on_exit: Literal["sell", "hold"] = "sell",
    interval: str = "1d",
) -> tuple[Market, LoadReport]:
    """`load_market` plus the findings of validation and alignment. An unreadable cache file raises
    `UnreadableCacheError` (one line: the file and the fix), or with ``skip_unreadable`` is left out
    and reported as a refused ``unreadable`` finding (`tradea3c data validate`).

    ``membership`` (`resolve_membership`): None = point-in-time for sp500, today's list (reported
    as a ``survivorship`` finding) for dow30 / nasdaq100; "pit"; "today"; a CSV path; a
    `Membership`. ``on_exit``: what a holding that leaves the index does (`Market.with_membership`).

    ``interval``: "1d" (daily, ``<cache>/<TICKER>.parquet``) or an intraday interval read from
    ``<cache>/<interval>/<TICKER>.parquet`` (`tradea3c.data.intraday`); the demo market and
    point-in-time membership are daily only (`DataError`)."""
    if on_exit not in ("sell", "hold"):
        raise DataError(f"on_exit must be 'sell' or 'hold', got {on_exit!r}")
    check_interval(interval)
    intraday = interval != "1d"
    is_demo = isinstance(market, str) and market.strip().lower() == "demo"
    if intraday and is_demo:
        raise DataError(
            f"the demo market holds daily bars only; drop --interval {interval} or load cached tickers"
        )
    if is_demo:
        from tradea3c.data.demo import DEMO_TICKER, demo_market

        demo = demo_market()
        m, findings = build_market(
            {DEMO_TICKER: demo.frame()},
            source=demo.source,
            adjusted=demo.adjusted,
            name="demo",
            start=start,
            end=end,
        )
        return m, LoadReport("gym-anytrading", findings)
    ddir = cache.resolve_data_dir(data_dir)
    if intraday:
        ddir = cache_dir(ddir, interval)
    if max_tickers is not None and max_tickers < 1:
        raise DataError(f"max_tickers must be >= 1 (got {max_tickers})")
    key = market.strip().lower() if isinstance(market, str) else ""
    if intraday and key == "sp500" and membership is None:
        membership = "today"  # point-in-time membership is daily only (below)
    members = resolve_membership(key if key in UNIVERSES else None, membership)
    if intraday and members is not None:
        raise DataError(
            f"index membership (--membership {membership}) is applied to daily bars only; drop it or "
            f"--interval {interval}"
        )
    if members is not None:
        return _load_members(
            market, members, ddir, start, end, max_tickers, min_history, skip_unreadable, on_exit
        )
    how = ""
    if key in UNIVERSES:  # today's list: survivorship-biased, said loudly (a "survivorship" finding)
        (tickers, how), name = universe_tickers(key), key
    else:
        tickers, name = resolve_tickers(market, ddir)
    if max_tickers is not None:
        tickers = tickers[:max_tickers]
    frames, metas, missing, unreadable = _read_cached(ddir, tickers, skip_unreadable)
    shown = _shown(missing)
    is_universe = isinstance(market, str) and name in UNIVERSES
    universe_note: list[Finding] = []
    if is_universe:
        universe_note.append(Finding(name, None, "survivorship", "kept", survivorship_note(name, how)))
    if missing and is_universe and frames:
        # A universe is today's membership; a historical import (e.g. the 2006-2017 DJIA CSVs) holds
        # only part of it. Train on the cached members and say which ones are left out, loudly.
        universe_note.append(
            Finding(
                name,
                None,
                "universe",
                "dropped",
                f"{len(missing)} of {len(tickers)} members not cached: {shown}",
            )
        )
        missing = []
    if unreadable and not frames:
        raise DataError(unreadable[0].detail)
    if missing:
        how = f"--market {name}" if is_universe else shown
        raise _not_cached(missing, len(tickers), ddir, how + (f" --interval {interval}" if intraday else ""))
    sources = sorted({m.source for m in metas})
    m, findings = build_market(
        frames,
        source="+".join(sources),
        adjusted=all(m.adjusted for m in metas),
        name=name,
        start=start,
        end=end,
        min_history=min_history,
        interval=interval,
    )
    return m, LoadReport("+".join(sources), unreadable + universe_note + findings)


def _shown(tickers: list[str], n: int = 8) -> str:
    return " ".join(tickers[:n]) + (f" (+{len(tickers) - n} more)" if len(tickers) > n else "")


def _not_cached(missing: list[str], total: int, ddir: Path, how: str) -> DataError:
    """The one line for asked-for tickers the cache lacks; ``how``: what to pass to `tradea3c fetch`."""
    return DataError(
        f"{len(missing)} of {total} tickers not in the cache {ddir}: {_shown(missing)}; "
        f"run `tradea3c fetch {how}` (online) or `tradea3c fetch --from-csv DIR` (offline)"
    )


def _read_cached(
    ddir: Path, tickers: Sequence[str], skip_unreadable: bool
) -> tuple[dict[str, pd.DataFrame], list[cache.CacheMeta], list[str], list[Finding]]:
    """(frames, their metadata, tickers not cached, unreadable findings) of ``tickers`` in the cache."""
    frames: dict[str, pd.DataFrame] = {}
    metas: list[cache.CacheMeta] = []
    missing: list[str] = []
    unreadable: list[Finding] = []
    for t in tickers:
        try:
            got = cache.read_ticker(ddir, t)
        except UnreadableCacheError as exc:
            if not skip_unreadable:
                raise
            unreadable.append(Finding(t, None, "unreadable", "refused", str(exc)))
            continue
        if got is None:
            missing.append(t)
            continue
        frames[t], meta = got
        metas.append(meta)
    return frames, metas, missing, unreadable


def _load_members(
    market: str | Sequence[str],
    members: Membership,
    ddir: Path,
    start: object,
    end: object,
    max_tickers: int | None,
    min_history: int,
    skip_unreadable: bool,
    on_exit: Literal["sell", "hold"],
) -> tuple[Market, LoadReport]:
    """A market whose assets trade only while members (`load_market_with_report` with a membership).

    A universe (or "cached") takes every ticker that was a member at any time in the range of its
    cached data: ``[start, end]`` cut to the first and last cached bar of the candidates; a range
    without ``start`` begins at the membership's coverage start (an explicit earlier ``start`` is a
    `DataError`). A ticker list keeps its tickers (a missing one is a `DataError`, as without a
    membership) and leaves out those never listed while a member (reported)."""
    key = market.strip().lower() if isinstance(market, str) else ""
    lo = members.check_range(start)[0] if start is not None else members.coverage_start
    hi = None if end is None else as_day(end)
    by_range = key in UNIVERSES or key == "cached"
    if key in UNIVERSES:
        name, candidates = key, members.members_between(lo, hi)
    else:
        tickers, name = resolve_tickers(market, ddir)
        wanted = set(members.members_between(lo, hi)) if key == "cached" else None
        candidates = [t for t in tickers if wanted is None or t in wanted]
    frames, metas, missing, unreadable = _read_cached(ddir, candidates, skip_unreadable)
    meta_of = dict(zip(frames, metas, strict=True))
    notes: list[Finding] = []

    def note(status: str, detail: str) -> None:
        notes.append(Finding(name, None, "membership", status, detail))

    if missing and not by_range:
        raise _not_cached(missing, len(candidates), ddir, _shown(missing))
    if not frames:
        if unreadable:
            raise DataError(unreadable[0].detail)
        raise DataError(
            f"{name}: none of the {len(candidates)} members since {lo} ({members.source}) is in the cache "
            f"{ddir}; run `tradea3c fetch --market {key or 'NAME'} --start {lo}` (online) or "
            "`tradea3c fetch --from-csv DIR` (offline)"
        )
    earliest = min(as_day(df.index.min()) for df in frames.values())
    first = max(lo, earliest)
    last = max(as_day(df.index.max()) for df in frames.values())
    last = last if hi is None else min(hi, last)
    if first > last:
        raise DataError(f"{name}: no cached bars between {lo} and {hi}; widen the range or fetch it")
    if start is None and earliest < lo:
        note(
            "dropped",
            f"{name}: {members.source} starts on {lo}: cached bars before it are left out "
            "(the membership then is unknown)",
        )
    if members.coverage_end is not None and last > members.coverage_end:
        note(
            "kept",
            f"{name}: {members.source} ends on {members.coverage_end}: later bars use the last known "
            "membership (update pitindex for fresher data)",
        )
    if by_range:
        in_range = members.members_between(first, last)
        in_range = [t for t in in_range if key in UNIVERSES or t in candidates]
    else:
        in_range = candidates
    in_range = in_range[:max_tickers] if max_tickers is not None else in_range
    gone = {f.ticker for f in unreadable}
    cached = [t for t in in_range if t in frames]
    absent = [t for t in in_range if t not in frames and t not in gone]
    detail = (
        f"{name}: {len(in_range)} point-in-time members {first}..{last} ({members.source}), "
        f"{len(cached)} cached" + (f"; {len(absent)} not cached: {_shown(absent, 12)}" if absent else "")
    )
    note("dropped" if absent else "kept", detail)
    m, findings = build_market(
        {t: frames[t] for t in cached},
        source="+".join(sorted({meta_of[t].source for t in cached})),
        adjusted=all(meta_of[t].adjusted for t in cached),
        name=name,
        start=pd.Timestamp(lo),
        end=end,
        min_history=min_history,
    )
    member = members.mask(m.tickers, m.dates)
    ever = (m.tradable_mask & member).any(axis=0)
    if not ever.all():
        never = [t for t, e in zip(m.tickers, ever, strict=True) if not e]
        note(
            "dropped",
            f"{len(never)} tickers never listed while members in range, left out: {_shown(never, 20)}",
        )
        if not ever.any():
            raise DataError(f"{name}: no cached ticker is listed while a member of {members.source}")
        keep_cols = [t for t, e in zip(m.tickers, ever, strict=True) if e]
        m, member = m.select(keep_cols), member[:, ever]
    m = m.with_membership(member, on_exit=on_exit)
    return m, LoadReport(m.source, unreadable + notes + findings)


def load_market(
    market: str | Sequence[str] = "demo",
    *,
    data_dir: str | Path | None = None,
    start: object = None,
    end: object = None,
    max_tickers: int | None = None,
    min_history: int = 0,
    membership: str | Path | Membership | None = None,
    on_exit: Literal["sell", "hold"] = "sell",
    interval: str = "1d",
) -> Market:
    """A validated, aligned `Market`.

    ``market``: "demo" (the embedded GOOGL data set, no cache needed); a universe name ("sp500",
    "dow30", "nasdaq100"); "cached" (every cached ticker); or tickers (a list, or "AAPL,MSFT").
    Universe and ticker markets are read from the parquet cache in ``data_dir`` (default
    `default_data_dir()`); a missing ticker raises `DataError` saying which fetch to run. A universe
    uses the members that are cached (the rest are reported as a "universe" finding) and fails only
    when none is cached.
    Members listed late or delisted early keep their history: the market spans the union of their
    dates with a `Market.tradable` mask; ``min_history`` drops members with fewer bars in
    [start, end] (reported). ``adjusted`` is True only if every ticker's cached prices are adjusted.
    ``membership`` / ``on_exit``: index membership (sp500: point-in-time by default; see
    `load_market_with_report`): the members of the range, tradable only while members.
    ``interval``: "1d", or intraday bars from ``<cache>/<interval>/`` (`Market.interval`).
    """
    return load_market_with_report(
        market,
        data_dir=data_dir,
        start=start,
        end=end,
        max_tickers=max_tickers,
        min_history=min_history,
        membership=membership,
        on_exit=on_exit,
        interval=interval,
    )[0]


def load_csv_market_with_report(
    path: str | Path, tickers: Sequence[str] | None = None, interval: str = "1d"
) -> tuple[Market, LoadReport]:
    """`load_csv_market` plus findings, CSV read errors (as refused findings) and columns used;
    ``interval``: "1d" or intraday bars (`tradea3c.data.csv_import.parse_timestamps`)."""
    from tradea3c.data.csv_import import read_csv_source

    check_interval(interval)
    want = [cache.normalize_ticker(t) for t in tickers] if tickers else None
    series, errors = read_csv_source(path, want, interval=interval)
    if want is not None and any(t in errors for t in want):
        missing = [t for t in want if t in errors]
        raise DataError(f"tickers {' '.join(missing)} not found under {path}")
    if not series:
        first = next(iter(errors.values()), f"no usable CSV under {path}")
        raise DataError(first)
    report = LoadReport(f"csv:{path}")
    report.findings += [Finding(Path(k).stem, None, "read", "refused", v) for k, v in errors.items()]
    frames = {cache.normalize_ticker(s.ticker): s.frame for s in series}
    report.columns = {cache.normalize_ticker(s.ticker): s.columns_used() for s in series}
    m, findings = build_market(
        frames,
        source="csv",
        adjusted=all(s.adjusted for s in series),
        name=Path(path).name,
        skip_refused=True,
        interval=interval,
    )
    report.findings += findings
    return m, report


def load_csv_market(path: str | Path, tickers: Sequence[str] | None = None) -> Market:
    """Read per-ticker CSVs in a folder (or one long CSV with a ticker column) straight into a
    validated, aligned `Market`, without touching the cache. Unreadable files are skipped (see
    `load_csv_market_with_report`); `DataError` when nothing usable remains."""
    return load_csv_market_with_report(path, tickers)[0]
