"""The local parquet cache: one file per ticker, metadata stored inside the file.

Layout: ``<data_dir>/<TICKER>.parquet`` (daily bars, columns open/high/low/close/volume, index
``date``); intraday bars live in ``<data_dir>/<interval>/<TICKER>.parquet`` (`tradea3c.data.intraday.
cache_dir`: every function here takes that folder as its ``data_dir``), index the bar start times.
The metadata (source, origin, adjusted, interval, fetched_at, rows, first, last,
requested range) lives in the parquet schema under the key ``tradea3c``: data and metadata are
one file, written atomically (temp file + rename), so they can never disagree and a failed write
leaves the previous file intact: an OS error while writing (disk full, read-only folder) becomes a
one-line `CacheWriteError` naming the file. A file that cannot be read (truncated, not parquet) is
named by `UnreadableCacheError` (`scan_cache` lists such files instead of skipping them).

A read-merge-write of one ticker (a CSV import merging into the cached history, an incremental
yfinance fetch) runs under `ticker_lock`: an OS file lock ``<data_dir>/.locks/<TICKER>.lock``, so two
processes importing into one cache at once cannot lose each other's rows. The lock folder is hidden
and holds no ``.parquet`` file, so `scan_cache` (``data list``) never sees it.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tradea3c.atomic import atomic_path
from tradea3c.data.errors import CacheWriteError, DataError, UnreadableCacheError
from tradea3c.data.market import FIELDS

META_KEY = b"tradea3c"
SCHEMA_VERSION = 1
_TICKER_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-=^]{0,19}$|^\^[A-Z0-9.\-=]{1,19}$")


def default_data_dir() -> Path:
    """``$TRADEA3C_DATA`` if set, else ``./data/cache`` (relative to the working directory)."""
    env = os.environ.get("TRADEA3C_DATA")
    return Path(env) if env else Path("data") / "cache"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    """``data_dir``, else `default_data_dir`, checked by `check_data_dir` (`DataError` for a file)."""
    if data_dir is not None:
        return check_data_dir(data_dir)
    env = os.environ.get("TRADEA3C_DATA")
    if env:
        return check_data_dir(env, origin="TRADEA3C_DATA")
    return check_data_dir(default_data_dir(), origin="the default cache folder")


def check_data_dir(path: str | os.PathLike[str], origin: str = "--data-dir") -> Path:
    """``path`` as a `Path` when it can be the cache folder (a folder, or missing: it is created on the
    first write); `DataError` naming it when it, or a folder above it, is a regular file.

    ``origin`` says where the path came from: "--data-dir" (also a strategy's ``market.data_dir``),
    "TRADEA3C_DATA" or "the default cache folder"."""
    p = Path(path)
    blocker = next((a for a in (p, *p.parents) if a.exists()), None)
    if blocker is not None and not blocker.is_dir():
        what = f"TRADEA3C_DATA={p}" if origin == "TRADEA3C_DATA" else f"{origin} {p}"
        where = "" if blocker == p else f": {blocker}"
        fix = {
            "TRADEA3C_DATA": "point TRADEA3C_DATA at a folder (it is created if missing) or pass --data-dir",
            "--data-dir": "pass a folder for the cache (it is created if missing)",
        }.get(origin, "pass --data-dir DIR or set TRADEA3C_DATA to a folder")
        raise DataError(f"{what}{where} is a file, not a folder; {fix}")
    return p


def normalize_ticker(ticker: str) -> str:
    """Upper-case Yahoo-style symbol; `DataError` for anything that cannot be a file-safe ticker."""
    t = str(ticker).strip().upper()
    if not _TICKER_RE.match(t):
        raise DataError(
            f"invalid ticker {ticker!r}: use Yahoo symbols such as AAPL, BRK-B or ^GSPC "
            "(letters, digits, '.', '-', '^', '=')"
        )
    return t


@dataclass(frozen=True)
class CacheMeta:
    """What is known about one cached series (stored inside its parquet file)."""

    ticker: str
    source: str  # yfinance | csv | gym-anytrading
    adjusted: bool
    rows: int
    first: str
    last: str
    fetched_at: str
    interval: str = "1d"
    origin: str = ""  # file path for csv imports, '' otherwise
    requested_start: str | None = None
    schema_version: int = SCHEMA_VERSION

    def to_json(self) -> bytes:
        return json.dumps(asdict(self), sort_keys=True).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> CacheMeta:
        d = json.loads(raw)
        return cls(**{k: d[k] for k in cls.__dataclass_fields__ if k in d})


def ticker_path(data_dir: Path, ticker: str) -> Path:
    return Path(data_dir) / f"{normalize_ticker(ticker)}.parquet"


LOCK_DIR = ".locks"
"""Folder of the per-ticker lock files inside the cache folder (hidden: no cache entry)."""
LOCK_TIMEOUT_S = 600.0
"""How long `ticker_lock` waits for another process's read-merge-write of the same ticker."""
_NO_LOCK_NEEDED = (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOSPC, errno.EDQUOT)


def lock_path(data_dir: Path, ticker: str) -> Path:
    """The lock file of ``ticker``: ``<data_dir>/.locks/<TICKER>.lock``."""
    return Path(data_dir) / LOCK_DIR / f"{normalize_ticker(ticker)}.lock"


@contextmanager
def ticker_lock(data_dir: Path, ticker: str, timeout: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """Hold ``ticker``'s cache lock (an OS file lock, released if the process dies) while a
    read-merge-write runs, so a concurrent import or fetch of the same ticker waits instead of
    overwriting this one's rows. `DataError` after ``timeout`` seconds of waiting. When the lock
    file cannot be created because the folder is not writable (read-only, no permission, full),
    the body runs unlocked: any write there fails anyway, with `write_ticker`'s one-line error."""
    from filelock import FileLock, Timeout

    target, where = ticker_path(data_dir, ticker), lock_path(data_dir, ticker)
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        lock = FileLock(where, timeout=timeout)
        lock.acquire()
    except Timeout:
        raise DataError(
            f"{target} is being written by another tradea3c process (its lock {where} was held for "
            f"{timeout:g} s); wait for that command to finish and run this one again"
        ) from None
    except OSError as exc:
        if exc.errno not in _NO_LOCK_NEEDED:
            why = exc.strerror or (str(exc).splitlines() or [type(exc).__name__])[0]
            kept = f"{target.name} is unchanged" if target.is_file() else "nothing was written"
            raise CacheWriteError(
                f"cannot create the cache lock file {where}: {why}; make {where.parent} a writable "
                f"folder (delete it if it is a file) or pass another --data-dir ({kept})"
            ) from None
        yield
        return
    try:
        yield
    finally:
        lock.release()


def now_utc() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def write_ticker(
    data_dir: Path,
    ticker: str,
    frame: pd.DataFrame,
    *,
    source: str,
    adjusted: bool,
    origin: str = "",
    requested_start: str | None = None,
    fetched_at: str | None = None,
    interval: str = "1d",
) -> CacheMeta:
    """Atomically write one ticker's clean bars plus metadata; return the metadata written
    (``first`` / ``last``: dates, or for intraday bars "YYYY-MM-DD HH:MM")."""
    if len(frame) == 0:
        raise DataError(f"{ticker}: refusing to cache an empty series")
    df = frame[list(FIELDS)].astype("float64")
    df.index = pd.DatetimeIndex(frame.index, name="date").as_unit("ns")
    when = (lambda t: str(t.date())) if interval == "1d" else (lambda t: f"{t:%Y-%m-%d %H:%M}")
    meta = CacheMeta(
        ticker=normalize_ticker(ticker),
        source=source,
        adjusted=bool(adjusted),
        rows=len(df),
        first=when(df.index[0]),
        last=when(df.index[-1]),
        fetched_at=fetched_at or now_utc(),
        interval=interval,
        origin=origin,
        requested_start=requested_start,
    )
    table = pa.Table.from_pandas(df, preserve_index=True, nthreads=1)  # 5 columns: threads only cost
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), META_KEY: meta.to_json()})
    path = ticker_path(data_dir, ticker)
    existed = path.is_file()
    try:
        with atomic_path(path) as tmp:
            pq.write_table(table, tmp)
    except OSError as exc:  # disk full, read-only or missing permissions: atomic_path left no temp file
        raise CacheWriteError(_write_error(path, exc, existed)) from None
    return meta


def _write_error(path: Path, exc: OSError, existed: bool) -> str:
    """One line for a failed cache write: the file, the OS's words, the fix, what was kept."""
    code = exc.errno
    why = exc.strerror or (str(exc).splitlines() or [type(exc).__name__])[0]
    name = f" ({errno.errorcode[code]})" if code in errno.errorcode else ""
    if code in (errno.ENOSPC, errno.EDQUOT):
        fix = "free disk space and run the command again"
    elif code in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = f"make {path.parent} writable or pass another --data-dir"
    else:
        fix = f"check {path.parent} or pass another --data-dir"
    kept = f"{path.name} is unchanged" if existed else "nothing was written"
    return f"cannot write the cache file {path}: {why}{name}; {fix} ({kept})"


def unreadable_message(path: Path, exc: BaseException) -> str:
    """The one line for a cache file that cannot be read: which file, and how to fix it."""
    reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:120]
    t = path.name.removesuffix(".parquet")
    return (
        f"cache file {path} is unreadable (truncated?): re-import it with `tradea3c fetch {t}` or "
        f"`tradea3c fetch --from-csv DIR`, or delete it [{reason}]"
    )


def keep_unreadable(path: Path) -> Path:
    """Keep the bytes of an unreadable cache file as ``<file>.unreadable`` before it is replaced
    (a hard link when possible: no copy, and the original stays until the atomic rename)."""
    aside = path.with_name(path.name + ".unreadable")
    aside.unlink(missing_ok=True)
    try:
        os.link(path, aside)
    except OSError:
        shutil.copy2(path, aside)
    return aside


def read_meta(path: Path) -> CacheMeta:
    """Metadata only (reads the parquet footer, not the data)."""
    try:
        raw = (pq.read_schema(path).metadata or {}).get(META_KEY)
    except (OSError, pa.ArrowException) as exc:
        raise UnreadableCacheError(unreadable_message(path, exc)) from None
    if raw is None:
        raise DataError(f"cache file {path} has no tradea3c metadata; delete it and fetch again")
    return CacheMeta.from_json(raw)


def _bars_of(table: pa.Table) -> pd.DataFrame | None:
    """The bars of a table as `write_ticker` stores them (float64 fields, tz-naive ns "date"
    index), built from numpy without pandas' generic conversion; None for any other layout."""
    schema = table.schema
    if schema.names != [*FIELDS, "date"] or schema.field("date").type != pa.timestamp("ns"):
        return None
    if any(schema.field(f).type != pa.float64() for f in FIELDS):
        return None
    if json.loads((schema.metadata or {}).get(b"pandas", b"{}")).get("index_columns") != ["date"]:
        return None
    index = pd.DatetimeIndex(table.column("date").to_numpy(), name="date")
    return pd.DataFrame({f: table.column(f).to_numpy() for f in FIELDS}, index=index)


def read_ticker(data_dir: Path, ticker: str) -> tuple[pd.DataFrame, CacheMeta] | None:
    """(bars, metadata) of a cached ticker, or None when it is not cached."""
    path = ticker_path(data_dir, ticker)
    if not path.is_file():
        return None
    try:  # one open for data and metadata: the common case of a file written by `write_ticker`
        with pq.ParquetFile(path) as pf:
            table = pf.read()
    except (OSError, pa.ArrowException):
        table = None  # the slow path below says what is wrong with it
    raw = None if table is None else (table.schema.metadata or {}).get(META_KEY)
    bars = None if raw is None else _bars_of(table)
    if bars is not None:
        return bars, CacheMeta.from_json(raw)
    meta = read_meta(path)
    try:
        df = pq.read_table(path).to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise UnreadableCacheError(unreadable_message(path, exc)) from None
    df.index = pd.DatetimeIndex(df.index, name="date").as_unit("ns")
    return df[list(FIELDS)].astype("float64"), meta


def list_cache(data_dir: Path) -> list[CacheMeta]:
    """Metadata of every readable cached ticker, sorted by ticker (see `scan_cache` for the rest)."""
    return scan_cache(data_dir)[0]


def scan_cache(data_dir: Path) -> tuple[list[CacheMeta], dict[Path, str]]:
    """(metadata of every readable cached ticker sorted by ticker, {unreadable file: one-line message})."""
    d = Path(data_dir)
    if not d.is_dir():
        return [], {}
    out, bad = [], {}
    for p in sorted(d.glob("*.parquet")):
        try:
            out.append(read_meta(p))
        except DataError as exc:
            bad[p] = str(exc)
    return out, bad
