"""The local parquet cache: one file per ticker, metadata stored inside the file.

Layout: ``<data_dir>/<TICKER>.parquet`` (daily bars, columns open/high/low/close/volume, index
``date``). The metadata (source, origin, adjusted, interval, fetched_at, rows, first, last,
requested range) lives in the parquet schema under the key ``tradea3c``: data and metadata are
one file, written atomically (temp file + rename), so they can never disagree and a failed write
leaves the previous file intact.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from tradea3c.atomic import atomic_path
from tradea3c.data.errors import DataError
from tradea3c.data.market import FIELDS

META_KEY = b"tradea3c"
SCHEMA_VERSION = 1
_TICKER_RE = re.compile(r"^[A-Z0-9][A-Z0-9.\-=^]{0,19}$|^\^[A-Z0-9.\-=]{1,19}$")


def default_data_dir() -> Path:
    """``$TRADEA3C_DATA`` if set, else ``./data/cache`` (relative to the working directory)."""
    env = os.environ.get("TRADEA3C_DATA")
    return Path(env) if env else Path("data") / "cache"


def resolve_data_dir(data_dir: str | os.PathLike[str] | None) -> Path:
    return Path(data_dir) if data_dir is not None else default_data_dir()


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
) -> CacheMeta:
    """Atomically write one ticker's clean bars plus metadata; return the metadata written."""
    if len(frame) == 0:
        raise DataError(f"{ticker}: refusing to cache an empty series")
    df = frame[list(FIELDS)].astype("float64")
    df.index = pd.DatetimeIndex(frame.index, name="date").as_unit("ns")
    meta = CacheMeta(
        ticker=normalize_ticker(ticker),
        source=source,
        adjusted=bool(adjusted),
        rows=len(df),
        first=str(df.index[0].date()),
        last=str(df.index[-1].date()),
        fetched_at=fetched_at or now_utc(),
        origin=origin,
        requested_start=requested_start,
    )
    table = pa.Table.from_pandas(df, preserve_index=True, nthreads=1)  # 5 columns: threads only cost
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), META_KEY: meta.to_json()})
    with atomic_path(ticker_path(data_dir, ticker)) as tmp:
        pq.write_table(table, tmp)
    return meta


def read_meta(path: Path) -> CacheMeta:
    """Metadata only (reads the parquet footer, not the data)."""
    try:
        raw = (pq.read_schema(path).metadata or {}).get(META_KEY)
    except (OSError, pa.ArrowException) as exc:
        raise DataError(f"cache file {path} is unreadable ({exc}); delete it and fetch again") from None
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
        raise DataError(f"cache file {path} is unreadable ({exc}); delete it and fetch again") from None
    df.index = pd.DatetimeIndex(df.index, name="date").as_unit("ns")
    return df[list(FIELDS)].astype("float64"), meta


def list_cache(data_dir: Path) -> list[CacheMeta]:
    """Metadata of every cached ticker, sorted by ticker (unreadable files are skipped)."""
    d = Path(data_dir)
    if not d.is_dir():
        return []
    out = []
    for p in sorted(d.glob("*.parquet")):
        try:
            out.append(read_meta(p))
        except DataError:
            continue
    return out
