"""Fill the cache: incremental yfinance fetch and CSV import (the demo market: `data.demo`).

Every source goes through `clean_frame` before anything is written, and every write is atomic,
so a failed or refused ticker never aborts the others and never damages its cached file. A failed
write (`CacheWriteError`: disk full, read-only folder) does abort the run, as one line: every later
ticker would fail the same way. An unreadable cache file is replaced by the new data, its bytes
kept as ``<file>.unreadable``. Each ticker's read-merge-write holds `cache.ticker_lock`, so two
fetches or imports into one cache at once wait for each other per ticker and keep both's rows.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np
import pandas as pd

from tradea3c.data import cache
from tradea3c.data.errors import CacheWriteError, DataError, Finding, UnreadableCacheError
from tradea3c.data.intraday import (
    YAHOO_LIMIT_DAYS,
    YAHOO_LIMIT_TEXT,
    cache_dir,
    check_interval,
    check_session,
)
from tradea3c.data.membership import Membership, resolve_membership
from tradea3c.data.validate import clean_frame
from tradea3c.data.yahoo import (
    OFFLINE_HINT,
    Downloader,
    FetchError,
    call_with_retries,
    normalize_yf_frame,
    yf_download,
)

if TYPE_CHECKING:
    from tradea3c.data.csv_import import RawSeries

Status = Literal["fetched", "up to date", "failed"]
SUPPORTED_INTERVALS = ("1d", "1h", "30m", "15m", "5m", "1m")
MINUTE_CHUNK_DAYS = 7
"""yfinance serves 1m bars for at most 7 days a request: a longer range is asked in such chunks."""
TINY_SERIES = 20
"""A series with fewer bars is imported with a ``short-series`` finding: too short to train on."""


@dataclass
class TickerResult:
    """Outcome for one ticker (one row of the CLI summary table)."""

    ticker: str
    status: Status
    rows: int = 0  # rows in the cache after the run
    added: int = 0  # new rows this run
    detail: str = ""
    findings: list[Finding] = field(default_factory=list)
    columns: str = ""  # CSV import: which columns were used


@dataclass
class FetchReport:
    results: list[TickerResult] = field(default_factory=list)

    def count(self, status: Status) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def ok(self) -> bool:
        """True when at least one ticker is usable (fetched or already up to date)."""
        return any(r.status != "failed" for r in self.results)

    @property
    def findings(self) -> list[Finding]:
        return [f for r in self.results for f in r.findings]


def _day(s: str | date | pd.Timestamp | None) -> date | None:
    if s is None:
        return None
    try:
        return pd.Timestamp(s).date()
    except (ValueError, TypeError):
        raise DataError(f"invalid date {s!r}: use YYYY-MM-DD") from None


def _merge(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """Old bars plus new ones; the newer download wins on overlapping dates."""
    both = pd.concat([old[~old.index.isin(new.index)], new])
    return both.sort_index()


def _merge_checked(
    old: pd.DataFrame, new: pd.DataFrame, findings: list[Finding], ticker: str
) -> tuple[pd.DataFrame, list[Finding]]:
    """`_merge` validated as a whole (`DataError` when refused, e.g. a garbage jump where the file
    meets the cache): the clean merged bars, and ``findings`` plus the merged series' findings on
    the file's dates and anything dropped (not the cached history's old findings again)."""
    clean, merged_findings = clean_frame(_merge(old, new), ticker)
    days = {str(d.date()) for d in new.index}
    seen = {(f.date, f.check) for f in findings}
    extra = [
        f
        for f in merged_findings
        if (f.date in days or f.action == "dropped") and (f.date, f.check) not in seen
    ]
    return clean, findings + extra


def _check_replace(meta: cache.CacheMeta, rows: int, path: Path, source: Path) -> int:
    """The cached row count ``rows`` file rows may replace; `DataError` when they are fewer than half."""
    if rows < 0.5 * meta.rows:
        raise DataError(
            f"--replace would replace the {meta.rows} cached rows ({meta.first} to {meta.last}) of {path} "
            f"with the {rows} row{'s' if rows != 1 else ''} of {Path(source).name}; refused: drop --replace "
            f"to merge by date, or delete {path} first to keep only the file's rows"
        )
    return meta.rows


def fetch_one(
    ticker: str,
    data_dir: Path,
    *,
    start: date | None,
    end: date | None,
    interval: str,
    adjusted: bool,
    downloader: Downloader,
    retry: Callable[[Callable[[], pd.DataFrame]], pd.DataFrame],
    today: date,
) -> TickerResult:
    """Fetch one ticker incrementally. Raises `FetchError` / `DataError`; the caller records them.

    Incremental rule: when the cache holds yfinance data with the same adjustment and started no
    later than asked, only dates from the last cached bar on are requested. That one overlapping
    bar is compared with the cache: if its close moved (a new split or dividend re-adjusted the
    history), the full history is fetched again instead of mixing two adjustment bases.
    """
    cached, unreadable = _read_cached(data_dir, ticker)
    req_start = start
    incremental = False
    intraday = interval != "1d"
    if intraday:
        downloader = _intraday_downloader(downloader, today)
    if cached is not None:
        old, meta = cached
        same_basis = meta.source == "yfinance" and meta.adjusted == adjusted
        if start is None:
            covers = meta.requested_start is None
        else:
            covers = meta.requested_start is None or _day(meta.requested_start) <= start
        if same_basis and covers:
            last = old.index[-1].date()
            stop = end or today + timedelta(days=1)
            done = last + timedelta(days=1) >= stop or (end is None and last >= today)
            if done and not (intraday and end is None):  # today's bars may still be coming
                return TickerResult(ticker, "up to date", rows=len(old), detail=f"cached to {last}")
            req_start, incremental = last, True
    try:
        raw = retry(lambda: downloader(ticker, req_start, end, interval, adjusted))
    except FetchError as exc:
        if incremental and cached is not None and exc.kind == "no_data":  # nothing new since last bar
            return TickerResult(
                ticker, "up to date", rows=len(cached[0]), detail=f"no new bars after {req_start}"
            )
        raise
    new = _bars(raw, ticker, adjusted, interval)
    detail = ""
    if incremental and cached is not None:
        old, meta = cached
        overlap = new.index.intersection(old.index[-1:])
        if len(overlap) and not np.isclose(
            new.at[overlap[0], "close"], old.at[overlap[0], "close"], rtol=1e-6
        ):
            raw = retry(lambda: downloader(ticker, _day(meta.requested_start), end, interval, adjusted))
            new = _bars(raw, ticker, adjusted, interval)
            incremental, detail = False, "history re-adjusted upstream (split/dividend); refetched in full"
    if incremental and cached is not None:
        old, meta = cached
        added = int((~new.index.isin(old.index)).sum())
        if added == 0:
            return TickerResult(
                ticker, "up to date", rows=len(old), detail=f"no new bars after {old.index[-1].date()}"
            )
        merged, requested = _merge(old, new), meta.requested_start
    else:
        merged, requested = new, None if start is None else str(start)
        added = len(new) if cached is None else int((~new.index.isin(cached[0].index)).sum())
        if cached is not None and not detail:
            detail = (
                f"replaced {cached[1].source} data ({'adjusted' if cached[1].adjusted else 'unadjusted'})"
            )
    clean, findings = clean_frame(merged, ticker)
    if unreadable:
        detail = _set_aside(data_dir, ticker)
    meta = cache.write_ticker(
        data_dir,
        ticker,
        clean,
        source="yfinance",
        adjusted=adjusted,
        requested_start=requested,
        interval=interval,
    )
    return TickerResult(ticker, "fetched", rows=meta.rows, added=added, detail=detail, findings=findings)


def _bars(raw: pd.DataFrame, ticker: str, adjusted: bool, interval: str) -> pd.DataFrame:
    """`normalize_yf_frame`; intraday bars kept only on the session grid (`check_session`; Yahoo's
    regular-hours bars all are)."""
    new = normalize_yf_frame(raw, ticker, adjusted=adjusted, interval=interval)
    return new if interval == "1d" else check_session(new, interval, ticker)[0]


def intraday_start(interval: str, start: date | None, today: date) -> date:
    """The first day to ask Yahoo for ``interval`` bars: ``start``, or without one the earliest day
    it serves (`YAHOO_LIMIT_DAYS` back from ``today``); a ``start`` earlier than that is a one-line
    `DataError` stating the limit."""
    limit = YAHOO_LIMIT_DAYS[interval]
    earliest = today - timedelta(days=limit - 1)
    if start is None:
        return earliest
    if start < earliest:
        raise DataError(
            f"--start {start} is too early for {interval} bars: Yahoo serves {interval} bars only "
            f"{YAHOO_LIMIT_TEXT[interval]} (from {earliest}); pass --start {earliest} or later, or "
            f"import older bars with --from-csv DIR --interval {interval}"
        )
    return start


def _intraday_downloader(downloader: Downloader, today: date) -> Downloader:
    """``downloader`` for intraday bars: the start clamped to what Yahoo serves (a full refetch
    from an older requested start), and 1m ranges asked in `MINUTE_CHUNK_DAYS` chunks (a chunk with
    no bars, a weekend, is skipped)."""

    def call(
        ticker: str, start: date | None, end: date | None, interval: str, adjusted: bool
    ) -> pd.DataFrame:
        earliest = today - timedelta(days=YAHOO_LIMIT_DAYS[interval] - 1)
        lo = earliest if start is None or start < earliest else start
        if interval != "1m":
            return downloader(ticker, lo, end, interval, adjusted)
        stop = end or today + timedelta(days=1)
        parts, last_error = [], None
        while lo < stop:
            hi = min(lo + timedelta(days=MINUTE_CHUNK_DAYS), stop)
            try:
                parts.append(downloader(ticker, lo, hi, interval, adjusted))
            except FetchError as exc:
                if exc.kind != "no_data":
                    raise
                last_error = exc
            lo = hi
        if not parts:
            raise last_error or FetchError("no_data", "no rows returned")
        return pd.concat(parts)

    return call


def _read_cached(data_dir: Path, ticker: str) -> tuple[tuple[pd.DataFrame, cache.CacheMeta] | None, bool]:
    """(cached bars and metadata or None, whether the cache file exists but is unreadable)."""
    try:
        return cache.read_ticker(data_dir, ticker), False
    except UnreadableCacheError:
        return None, True


def _set_aside(data_dir: Path, ticker: str) -> str:
    """Keep an unreadable cache file's bytes before it is replaced; the note saying so."""
    aside = cache.keep_unreadable(cache.ticker_path(data_dir, ticker))
    return f"the cache file was unreadable: replaced, its bytes kept as {aside.name}"


def universe_fetch_list(
    market: str | None,
    *,
    start: str | date | None = None,
    end: str | date | None = None,
    membership: str | Path | Membership | None = None,
) -> tuple[list[str], str, bool]:
    """(tickers, where they come from, point-in-time?) for `tradea3c fetch --market NAME`: with a
    membership (sp500 by default, or ``membership``: "pit", a CSV path) every ticker that was a
    member on any day of ``[start, end)`` (``end`` exclusive, as the fetch's; no ``start`` = the
    membership's coverage start); without one ("today", or dow30 / nasdaq100) today's list.
    ``market`` None with a ``membership`` file: the file's members."""
    from tradea3c.data.universes import UNIVERSES, universe_tickers

    key = (market or "").strip().lower()
    if market is not None and key not in UNIVERSES:
        universe_tickers(key)  # the one-line "unknown universe" error
    members = resolve_membership(key or None, membership)
    if members is None:
        if market is None:
            raise DataError(f"--membership {membership} needs --market NAME; alone, pass a membership FILE")
        names, how = universe_tickers(key)
        return names, how, False
    lo = members.check_range(_day(start))[0] if start is not None else members.coverage_start
    end_d = _day(end)
    hi = None if end_d is None else end_d - timedelta(days=1)
    names = members.members_between(lo, hi)
    return names, f"{members.source}, members {lo}..{hi or 'today'}", True


def fetch_tickers(
    tickers: Sequence[str],
    *,
    data_dir: str | Path | None = None,
    start: str | date | None = None,
    end: str | date | None = None,
    interval: str = "1d",
    adjusted: bool = True,
    downloader: Downloader | None = None,
    retries: int = 3,
    base_delay: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
    rng: np.random.Generator | None = None,
    today: date | None = None,
    on_result: Callable[[TickerResult], None] | None = None,
    on_retry: Callable[[str, int, float, FetchError], None] | None = None,
) -> FetchReport:
    """Download daily OHLCV for ``tickers`` into the cache; one result per ticker, never raises
    for a single ticker's failure. Once the network is found to be unreachable the remaining
    tickers are marked failed without further attempts (each would only repeat the DNS timeout).
    ``downloader`` defaults to `yf_download`; ``sleep`` and ``rng`` drive the retry backoff.

    ``interval`` "1h", "30m", "15m", "5m", "1m": intraday bars (regular session, New York times)
    into ``<cache>/<interval>/``; Yahoo serves them only so far back (`YAHOO_LIMIT_DAYS`: 1h 730
    days, 30m-5m 60, 1m 30, at most 7 a request): an earlier ``start`` is a one-line `DataError`,
    no ``start`` asks from the earliest day served."""
    if interval not in SUPPORTED_INTERVALS:
        raise DataError(
            f"interval {interval!r} is not supported; use one of {', '.join(SUPPORTED_INTERVALS)}"
        )
    start_d, end_d = _day(start), _day(end)
    if start_d and end_d and start_d >= end_d:
        raise DataError(f"--start {start_d} must be before --end {end_d}")
    if interval != "1d":
        start_d = intraday_start(interval, start_d, today or date.today())
    names = [cache.normalize_ticker(t) for t in tickers]
    if not names:
        raise DataError("no tickers given: name some (tradea3c fetch AAPL MSFT) or use --market / --from-csv")
    ddir = cache_dir(cache.resolve_data_dir(data_dir), interval)
    dl = downloader or yf_download
    rng = rng if rng is not None else np.random.default_rng()
    today = today or date.today()
    report = FetchReport()
    offline = False
    for t in dict.fromkeys(names):
        if offline:
            res = TickerResult(t, "failed", detail=f"skipped: no network (see first error); {OFFLINE_HINT}")
        else:

            def retry(fn: Callable[[], pd.DataFrame], _t: str = t) -> pd.DataFrame:
                cb = None if on_retry is None else (lambda n, d, e: on_retry(_t, n, d, e))
                return call_with_retries(
                    fn, retries=retries, base_delay=base_delay, sleep=sleep, rng=rng, on_retry=cb
                )

            try:
                with cache.ticker_lock(ddir, t):  # read-merge-write: a concurrent fetch waits
                    res = fetch_one(
                        t, ddir, start=start_d, end=end_d, interval=interval, adjusted=adjusted,
                        downloader=dl, retry=retry, today=today,
                    )  # fmt: skip
            except FetchError as exc:
                res = TickerResult(t, "failed", detail=_explain(exc, t, cache.ticker_path(ddir, t).is_file()))
                offline = exc.kind == "offline"
            except CacheWriteError:
                raise  # disk full or read-only: every later ticker would fail the same way
            except DataError as exc:
                res = TickerResult(t, "failed", detail=f"refused: {exc}")
            existing = cache.ticker_path(ddir, t)
            if res.status == "failed" and existing.is_file():
                try:
                    res.rows = cache.read_meta(existing).rows
                except DataError:
                    res.rows = 0  # unreadable: the detail of a load or `data list` names it
        report.results.append(res)
        if on_result is not None:
            on_result(res)
    return report


def _explain(exc: FetchError, ticker: str, has_cache: bool) -> str:
    keep = "; cached data kept" if has_cache else ""
    if exc.kind == "offline":
        return f"no network (Yahoo Finance unreachable: {exc}){keep}; {OFFLINE_HINT}"
    if exc.kind == "no_data":
        return f"no data from Yahoo: unknown or delisted ticker {ticker}? ({exc}){keep}"
    if exc.kind == "rate_limit":
        return f"rate limited by Yahoo after retries; try again later{keep}"
    return f"{exc}{keep}"


def import_csv(
    path: str | Path,
    *,
    data_dir: str | Path | None = None,
    tickers: Sequence[str] | None = None,
    replace: bool = False,
    decimal: str | None = None,
    interval: str = "1d",
) -> FetchReport:
    """Validate every series under ``path`` and write the accepted ones to the cache. A ticker
    already cached is merged by date (the file wins on overlapping dates; the result says how many
    rows were kept, replaced and added), so importing a shorter file never loses history; cached
    prices of the other kind (adjusted vs not) are refused, since mixing them fakes jumps, and so is
    a merged series that fails validation (e.g. a x100 jump where the file meets the cache).
    ``replace=True`` overwrites instead, except that a file with fewer than half the cached rows is
    refused (a one-row file must not wipe years of history by accident: delete the cache file first
    to really start over). A refused series leaves its cache file untouched. A series shorter than
    `TINY_SERIES` bars gets a ``short-series`` finding. `CacheWriteError` (disk full...) aborts.
    Each ticker's read-merge-write holds `cache.ticker_lock`: two imports into one cache at once
    keep both files' rows. ``decimal`` ("." or ","; None = detect) as in `read_csv_source`.

    ``interval`` "1h", "30m", "15m", "5m" or "1m": the files hold intraday bars (timestamps converted
    to New York time, `tradea3c.data.csv_import.parse_timestamps`), kept on the interval's grid
    inside the regular session (`tradea3c.data.intraday.check_session`: the rest dropped, reported)
    and written to ``<cache>/<interval>/``."""
    from tradea3c.data.csv_import import read_csv_source

    check_interval(interval)
    ddir = cache_dir(cache.resolve_data_dir(data_dir), interval)
    series, errors = read_csv_source(
        path, list(tickers) if tickers else None, decimal=decimal, interval=interval
    )
    report = FetchReport()
    for where, err in errors.items():
        report.results.append(TickerResult(Path(where).stem.split("_")[0].upper(), "failed", detail=err))
    for s in series:
        res = TickerResult(s.ticker, "failed", columns=s.columns_used())
        try:
            ticker = cache.normalize_ticker(s.ticker)
            raw, session = s.frame, []
            if interval != "1d":  # before validation: pre-market prints must not decide its checks
                raw, session = check_session(raw, interval, ticker)
                if raw.index.notna().sum() == 0:
                    raise DataError(
                        f"{Path(s.path).name}: no {interval} bar inside the regular session 09:30-16:00 "
                        "New York time; check the file's time zone (write a UTC offset) or --interval"
                    )
            clean, findings = clean_frame(raw, ticker)  # findings describe the file itself
            findings = session + findings
            with cache.ticker_lock(ddir, ticker):  # read-merge-write: a concurrent import waits
                meta, added, findings, notes = _import_series(
                    s, ticker, clean, findings, ddir, replace, interval
                )
            res.status, res.rows, res.added, res.findings = "fetched", meta.rows, added, findings
            res.detail = "; ".join(notes)
        except CacheWriteError as exc:
            done = sum(r.status == "fetched" for r in report.results)
            kept = f"; the {done} tickers imported before it are in the cache" if done else ""
            raise CacheWriteError(f"{exc}{kept}") from None
        except DataError as exc:
            res.detail = f"refused: {exc}"
        report.results.append(res)
    report.results.sort(key=lambda r: r.ticker)
    return report


def _import_series(
    s: RawSeries,
    ticker: str,
    clean: pd.DataFrame,
    findings: list[Finding],
    ddir: Path,
    replace: bool,
    interval: str = "1d",
) -> tuple[cache.CacheMeta, int, list[Finding], list[str]]:
    """One CSV series into the cache (`import_csv`'s rules; the caller holds the ticker's lock):
    (metadata written, rows added, findings, notes). `DataError` when refused (nothing written)."""
    path = cache.ticker_path(ddir, ticker)
    cached, unreadable, old_rows = None, False, 0
    if replace and path.is_file():
        try:
            old_rows = _check_replace(cache.read_meta(path), len(clean), path, s.path)
        except UnreadableCacheError:
            unreadable = True
    elif not replace:
        cached, unreadable = _read_cached(ddir, ticker)
    notes = list(s.notes)
    if old_rows:
        notes.append(f"replaced the {old_rows} cached rows (--replace)")
    if cached is not None:
        old, meta = cached
        if meta.adjusted != s.adjusted:
            kind = "adjusted" if meta.adjusted else "unadjusted"
            raise DataError(
                f"the cache holds {kind} prices for {ticker} and this file the other kind; "
                "merging them would fake jumps: pass --replace to overwrite the cached history"
            )
        overlap = int(old.index.isin(clean.index).sum())
        clean, findings = _merge_checked(old, clean, findings, ticker)
        notes.append(
            f"merged with the cache: {len(old) - overlap} cached rows kept, {overlap} replaced by "
            "the file (it wins on overlapping dates); --replace overwrites instead"
        )
    if len(clean) < TINY_SERIES:
        n = len(clean)
        findings.append(
            Finding(
                ticker,
                None,
                "short-series",
                "kept",
                f"only {n} row{'s' if n != 1 else ''} ({Path(s.path).name}): too short to train or "
                "backtest on; import the full history",
            )
        )
    if unreadable:
        notes.append(_set_aside(ddir, ticker))
    meta = cache.write_ticker(
        ddir,
        s.ticker,
        clean,
        source="csv",
        adjusted=s.adjusted,
        origin=str(Path(s.path).resolve()),
        interval=interval,
    )
    added = meta.rows - (0 if cached is None else len(cached[0]))
    return meta, max(added, 0), findings, notes
