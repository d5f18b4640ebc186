"""Read OHLCV CSVs in the layouts people actually have, into raw per-ticker frames.

Accepted: a folder of per-ticker files (ticker = the file's ticker column if it holds one value,
else the file name up to the first '_'), or one long file with a ticker column. Column names
match in any case, with common aliases (Date/timestamp/datetime, Adj Close/adjusted_close,
Vol, Symbol/Name...). Dates: ISO, day-first or month-first (chosen by which parses every row,
and, when both do, which gives ordered dates), or unix epoch seconds/milliseconds. A date pandas
cannot store (before 1677-09-22 or after 2262-04-11, e.g. a typo'd year) refuses the file with a
`DataError` naming the data row, so a folder import goes on with the other files. Cleaning is
not done here: `tradea3c.data.validate.clean_frame` does it, so CSV, cache and yfinance data
pass the same rules.
"""

from __future__ import annotations

import re
import typing
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from tradea3c.data.errors import DataError

ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("date", "timestamp", "datetime", "time", "day", "trade_date", "trading_date", "dt"),
    "open": ("open", "open_price", "opening_price", "o"),
    "high": ("high", "high_price", "h"),
    "low": ("low", "low_price", "l"),
    "close": ("close", "close_price", "closing_price", "last", "price", "c"),
    "adj_close": ("adj_close", "adjclose", "adjusted_close", "adj_close_price", "adjusted"),
    "volume": ("volume", "vol", "v", "shares_traded"),
    "ticker": ("ticker", "symbol", "name", "tic", "stock", "code"),
}
_LOOKUP = {alias: canon for canon, names in ALIASES.items() for alias in names}
_DATE_FORMATS = {
    "day-first": ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y"),
    "month-first": ("%m/%d/%Y", "%m-%d-%Y", "%m.%d.%Y"),
}


@dataclass
class RawSeries:
    """One ticker's raw bars from a CSV plus how they were read (for the user-facing report)."""

    ticker: str
    frame: pd.DataFrame  # DatetimeIndex (unsorted, maybe NaT), lower-case OHLCV columns, floats
    path: Path
    columns: dict[str, str]  # canonical field -> header used
    adjusted: bool
    notes: list[str] = field(default_factory=list)

    def columns_used(self) -> str:
        return ", ".join(f"{k}<-{v}" for k, v in self.columns.items())


def _norm_header(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", str(name).strip().lower()).strip("_")


def map_columns(headers: list[str], where: str) -> dict[str, str]:
    """Canonical field -> original header; `DataError` if no date or no close-like column."""
    found: dict[str, str] = {}
    for h in headers:
        canon = _LOOKUP.get(_norm_header(h))
        if canon and canon not in found:
            found[canon] = h
    if "date" not in found:
        raise DataError(
            f"{where}: no date column (headers: {', '.join(map(str, headers))}); "
            "name it Date, timestamp or datetime"
        )
    if "close" not in found and "adj_close" not in found:
        raise DataError(
            f"{where}: no close column (headers: {', '.join(map(str, headers))}); "
            "need Close, Adj Close or Price"
        )
    return found


def parse_dates(
    values: pd.Series, where: str, rows: np.ndarray | None = None
) -> tuple[pd.DatetimeIndex, str]:
    """Parse a date column; return (dates, how). Unparseable cells become NaT only when rare.
    ``rows`` (data-row numbers, for messages) as in `check_date_range`."""
    s = values.astype("string").str.strip()
    n = int(s.notna().sum())
    if n == 0:
        raise DataError(f"{where}: the date column is empty")
    numeric = pd.to_numeric(s, errors="coerce")
    if numeric.notna().all() and (numeric > 1e8).all():  # unix epoch (s or ms), not yyyymmdd
        unit = "ms" if numeric.median() > 1e11 else "s"
        limit = pd.Timestamp.max.value / (1e6 if unit == "ms" else 1e9)
        if (numeric > limit).any():
            _out_of_range(s, int(np.flatnonzero((numeric > limit).to_numpy())[0]), where, rows)
        return pd.DatetimeIndex(pd.to_datetime(numeric, unit=unit)).normalize(), f"unix epoch ({unit})"
    candidates: list[tuple[str, pd.DatetimeIndex]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        iso = pd.to_datetime(s, format="ISO8601", errors="coerce", utc=True)
    if iso.notna().sum() == n:
        return pd.DatetimeIndex(iso.dt.tz_localize(None)).normalize(), "ISO (YYYY-MM-DD)"
    if re.fullmatch(r"\d{8}", str(s.dropna().iloc[0])):
        ymd = pd.to_datetime(s, format="%Y%m%d", errors="coerce")
        if ymd.notna().sum() == n:
            return pd.DatetimeIndex(ymd), "YYYYMMDD"
    for label, fmts in _DATE_FORMATS.items():
        for fmt in fmts:
            d = pd.to_datetime(s, format=fmt, errors="coerce")
            if d.notna().sum() == n:
                candidates.append((label, pd.DatetimeIndex(d)))
                break
    if len(candidates) == 2:  # ambiguous (every day <= 12): prefer the reading that is ordered
        ordered = [c for c in candidates if c[1].is_monotonic_increasing or c[1].is_monotonic_decreasing]
        label, d = (ordered or candidates[1:])[0]
        return (
            d,
            f"{label} (ambiguous; chosen because dates are ordered)"
            if ordered
            else "month-first (ambiguous)",
        )
    if candidates:
        return candidates[0][1], candidates[0][0]
    # mostly parseable: keep, let validation drop the rest (reported there)
    best = max(
        [iso.dt.tz_localize(None)]
        + [
            pd.to_datetime(s, format=f, errors="coerce")
            for f in (*_DATE_FORMATS["day-first"], *_DATE_FORMATS["month-first"])
        ],
        key=lambda d: int(d.notna().sum()),
    )
    ok = int(best.notna().sum())
    if ok >= 0.9 * n:
        return pd.DatetimeIndex(best).normalize(), f"mixed ({n - ok} unparseable dates)"
    bad = s[best.isna() & s.notna()].iloc[0]
    raise DataError(
        f"{where}: cannot parse dates such as {bad!r} (tried ISO YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY, "
        "YYYYMMDD, unix epoch); convert the column to YYYY-MM-DD"
    )


def _out_of_range(raw: pd.Series, i: int, where: str, rows: np.ndarray | None = None) -> typing.NoReturn:
    """`DataError` for a date pandas cannot store: the file, the data row and the fix."""
    row = int(rows[i]) if rows is not None else i + 1
    raise DataError(
        f"{where}: date {str(raw.iloc[i]).strip()!r} on data row {row} is outside the dates pandas can "
        "store (1677-09-22 to 2262-04-11); fix or delete that row (the file was not imported)"
    )


def check_date_range(
    dates: pd.DatetimeIndex, raw: pd.Series, where: str, rows: np.ndarray | None = None
) -> None:
    """`DataError` (`_out_of_range`) unless every date fits a nanosecond timestamp (what the cache stores).

    ``rows``: 1-based data-row numbers of ``dates`` in the file (default: 1, 2, ...)."""
    bad = (dates > pd.Timestamp.max) | (dates < pd.Timestamp.min)
    if bad.any():
        _out_of_range(raw, int(np.flatnonzero(bad)[0]), where, rows)


def _to_number(col: pd.Series, name: str, where: str) -> pd.Series:
    """Numeric column; thousands separators and '$' stripped; mostly-text columns are refused."""
    if pd.api.types.is_numeric_dtype(col):
        return col.astype(float)
    s = col.astype("string").str.strip().str.replace(r"[,$\s]", "", regex=True)
    s = s.mask(s.isin(["", "-", "null", "None", "NaN", "nan", "NA", "N/A"]))
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.sum() > 0.5 * max(int(s.notna().sum()), 1):
        raise DataError(
            f"{where}: column {name!r} is not numeric (e.g. {str(s[bad].iloc[0])!r}); fix or drop it"
        )
    return num.astype(float)


def _frame_from(
    df: pd.DataFrame, cols: dict[str, str], where: str, rows: np.ndarray | None = None
) -> tuple[pd.DataFrame, bool, list[str]]:
    dates, how = parse_dates(df[cols["date"]], where, rows)
    check_date_range(dates, df[cols["date"]], where, rows)
    out = pd.DataFrame(index=dates.as_unit("ns"))
    for f in ("open", "high", "low", "close", "adj_close", "volume"):
        if f in cols:
            out[f] = _to_number(df[cols[f]], cols[f], where).to_numpy()
    notes = [f"dates: {how}"]
    adjusted = "adj_close" in out.columns
    if adjusted:
        if "close" in out.columns:  # scale O/H/L by the adjustment factor so bars stay consistent
            factor = out["adj_close"] / out["close"]
            for f in ("open", "high", "low"):
                if f in out.columns:
                    out[f] = out[f] * factor
            notes.append("prices adjusted with Adj Close / Close")
        else:
            out = out.drop(columns=[c for c in ("open", "high", "low") if c in out.columns])
            notes.append("only Adj Close: open/high/low rebuilt from it")
        out["close"] = out.pop("adj_close")
    return out, adjusted, notes


def read_csv_file(path: Path) -> list[RawSeries]:
    """One CSV -> one RawSeries per ticker in it."""
    where = str(path)
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise DataError(f"{where}: file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{where}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    if len(df) == 0:
        raise DataError(f"{where}: no data rows (header only)")
    cols = map_columns(list(df.columns), where)
    tickers = None
    if "ticker" in cols:
        tickers = df[cols["ticker"]].astype("string").str.strip().str.upper()
    if tickers is None or tickers.nunique() <= 1:
        name = tickers.iloc[0] if tickers is not None and tickers.notna().iloc[0] else path.stem.split("_")[0]
        frame, adjusted, notes = _frame_from(df, cols, where)
        return [RawSeries(str(name).upper(), frame, path, cols, adjusted, notes)]
    out = []
    for t, part in df.groupby(tickers.to_numpy(), sort=True):
        rows = part.index.to_numpy() + 1  # data-row numbers in the whole file
        frame, adjusted, notes = _frame_from(part.reset_index(drop=True), cols, f"{where} [{t}]", rows)
        out.append(RawSeries(str(t), frame, path, cols, adjusted, notes))
    return out


def csv_files(path: Path) -> list[Path]:
    """CSV files of a folder (sorted), or the file itself."""
    p = Path(path)
    if p.is_file():
        return [p]
    if not p.is_dir():
        raise DataError(f"{p}: no such file or folder; pass a folder of per-ticker CSVs or one CSV file")
    files = sorted(
        f
        for f in p.iterdir()
        if f.is_file() and f.suffix.lower() in (".csv", ".txt") or f.name.lower().endswith(".csv.gz")
    )
    if not files:
        raise DataError(f"{p}: no .csv files in this folder")
    return files


def read_csv_source(
    path: str | Path, tickers: list[str] | None = None
) -> tuple[list[RawSeries], dict[str, str]]:
    """All series under ``path`` (optionally only ``tickers``); returns (series, {file: error})."""
    series: list[RawSeries] = []
    errors: dict[str, str] = {}
    wanted = {t.upper() for t in tickers} if tickers else None
    for f in csv_files(Path(path)):
        if wanted is not None and f.stem.split("_")[0].upper() not in wanted and len(wanted) < 1000:
            # cheap skip for per-ticker folders; long files are read and filtered below
            if not _maybe_long(f):
                continue
        try:
            got = read_csv_file(f)
        except DataError as exc:
            errors[str(f)] = str(exc)
            continue
        series += [s for s in got if wanted is None or s.ticker in wanted]
    seen: dict[str, RawSeries] = {}
    for s in series:
        if s.ticker in seen:
            errors[str(s.path)] = (
                f"{s.path}: ticker {s.ticker} also in {seen[s.ticker].path}; skipped this file"
            )
            continue
        seen[s.ticker] = s
    if wanted is not None:
        for t in sorted(wanted - set(seen)):
            errors.setdefault(t, f"ticker {t} not found under {path}")
    return list(seen.values()), errors


def _maybe_long(f: Path) -> bool:
    """True when a file has a ticker column (so it may hold several tickers)."""
    try:
        head = pd.read_csv(f, nrows=0)
    except Exception:  # noqa: BLE001 - unreadable files are reported when actually read
        return True
    return any(_LOOKUP.get(_norm_header(h)) == "ticker" for h in head.columns)
