"""Read OHLCV CSVs in the layouts people actually have, into raw per-ticker frames.

Accepted: a folder of per-ticker files (ticker = the file's ticker column if it holds one value,
else the file name up to the first '_'), or one long file with a ticker column. Column names
match in any case, with common aliases (Date/timestamp/datetime, Adj Close/adjusted_close,
Vol, Symbol/Name...). Dates: ISO, day-first or month-first (chosen by which parses every row,
and, when both do, which gives ordered dates), or unix epoch seconds/milliseconds. A date pandas
cannot store (before 1677-09-22 or after 2262-04-11, e.g. a typo'd year) refuses the file with a
`DataError` naming the data row, so a folder import goes on with the other files. A timestamp with
a UTC offset (``2006-01-03T20:00-05:00``) keeps the date as written in its own offset (the
exchange-local date, not the UTC one), mixed offsets alike. Several rows on one date at different
times of day (minute or hourly bars) refuse the file unless an intraday ``interval`` is given
(``fetch --from-csv DIR --interval 1h``): then the timestamps are kept, aware ones (a UTC offset,
``Z``, or unix epoch seconds) converted to the exchange's time zone America/New_York, naive ones
taken as New York times already, and stored tz-naive (`tradea3c.data.intraday`).

Numbers: ``,``, ``;`` or tab separated (sniffed from the header line); the decimal mark is read
from the values (``20,45`` or ``1.234,5``: a decimal comma; ``20.45`` or ``1,234.5``: a decimal
point) or given (``decimal``, the CLI's ``--decimal``); a file where only ``1,234``-like values
decide, or that uses both marks, is refused, naming the file and ``--decimal``. Entries of a CSV
folder that are not regular files (a dangling symlink, a folder or FIFO named ``*.csv``) are
reported by name, never skipped silently. Cleaning is not done here:
`tradea3c.data.validate.clean_frame` does it, so CSV, cache and yfinance data pass the same rules.
"""

from __future__ import annotations

import contextlib
import contextvars
import gzip
import os
import re
import stat
import typing
import warnings
from collections.abc import Iterator
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
_OFFSET = re.compile(
    r"(\d[T ]\d{1,2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)\s*(?:Z|UTC|GMT|[+-]\d{2}(?::?\d{2})?)$", re.IGNORECASE
)
"""A time of day followed by a UTC offset (``Z``, ``+09:00``, ``-0500``): the offset is dropped, so
the date stays the one written (the exchange-local date), not the UTC one."""
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
    values: pd.Series, where: str, rows: np.ndarray | None = None, interval: str = "1d"
) -> tuple[pd.DatetimeIndex, str]:
    """Parse a date column; return (dates, how). Unparseable cells become NaT only when rare.
    ``rows`` (data-row numbers, for messages) as in `check_date_range`. ``interval`` other than
    "1d": intraday timestamps (`parse_timestamps`)."""
    s = values.astype("string").str.strip()
    n = int(s.notna().sum())
    if n == 0:
        raise DataError(f"{where}: the date column is empty")
    if interval != "1d":
        return parse_timestamps(s, where, interval, rows)
    numeric = pd.to_numeric(s, errors="coerce")
    if numeric.notna().all() and (numeric > 1e8).all():  # unix epoch (s or ms), not yyyymmdd
        unit = "ms" if numeric.median() > 1e11 else "s"
        limit = pd.Timestamp.max.value / (1e6 if unit == "ms" else 1e9)
        if (numeric > limit).any():
            _out_of_range(s, int(np.flatnonzero((numeric > limit).to_numpy())[0]), where, rows)
        stamps = pd.DatetimeIndex(pd.to_datetime(numeric, unit=unit))
        _refuse_intraday(stamps, where)
        return stamps.normalize(), f"unix epoch ({unit})"
    local = s.str.replace(_OFFSET, r"\1", regex=True)  # the date as written, in its own offset
    offsets = bool((local != s).any())
    candidates: list[tuple[str, pd.DatetimeIndex]] = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        iso = pd.to_datetime(local, format="ISO8601", errors="coerce", utc=True)
    if iso.notna().sum() == n:
        stamps = pd.DatetimeIndex(iso.dt.tz_localize(None))
        _refuse_intraday(stamps, where)
        how = "ISO (YYYY-MM-DD)" + (", the local date of each UTC offset" if offsets else "")
        return stamps.normalize(), how
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
        _refuse_intraday(pd.DatetimeIndex(best), where)
        return pd.DatetimeIndex(best).normalize(), f"mixed ({n - ok} unparseable dates)"
    bad = s[best.isna() & s.notna()].iloc[0]
    raise DataError(
        f"{where}: cannot parse dates such as {bad!r} (tried ISO YYYY-MM-DD, DD/MM/YYYY, MM/DD/YYYY, "
        "YYYYMMDD, unix epoch); convert the column to YYYY-MM-DD"
    )


def parse_timestamps(
    s: pd.Series, where: str, interval: str, rows: np.ndarray | None = None
) -> tuple[pd.DatetimeIndex, str]:
    """Intraday bar times as tz-naive America/New_York times: ISO timestamps with a UTC offset (or
    ``Z``) and unix epoch (UTC) converted, naive ISO ones kept as New York times. A file without
    times of day (daily bars) or with timestamps in another format is a `DataError`."""
    from tradea3c.data.intraday import EXCHANGE_TZ

    n = int(s.notna().sum())
    numeric = pd.to_numeric(s, errors="coerce")
    if numeric.notna().all() and (numeric > 1e8).all():
        unit = "ms" if numeric.median() > 1e11 else "s"
        limit = pd.Timestamp.max.value / (1e6 if unit == "ms" else 1e9)
        if (numeric > limit).any():
            _out_of_range(s, int(np.flatnonzero((numeric > limit).to_numpy())[0]), where, rows)
        utc = pd.to_datetime(numeric, unit=unit, utc=True)
        stamps = pd.DatetimeIndex(utc).tz_convert(EXCHANGE_TZ).tz_localize(None)
        how = f"unix epoch ({unit}), converted to {EXCHANGE_TZ}"
    else:
        aware = (s.str.replace(_OFFSET, r"\1", regex=True) != s).fillna(False).to_numpy(dtype=bool)
        out = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns]")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if aware.any():
                a = pd.to_datetime(s[aware], format="ISO8601", errors="coerce", utc=True)
                out[aware] = a.dt.tz_convert(EXCHANGE_TZ).dt.tz_localize(None).to_numpy()
            if (~aware).any():
                out[~aware] = pd.to_datetime(s[~aware], format="ISO8601", errors="coerce").to_numpy()
        ok = int(out.notna().sum())
        if ok < 0.9 * n:
            bad = s[out.isna() & s.notna()].iloc[0]
            raise DataError(
                f"{where}: cannot parse the timestamp {bad!r} of an intraday file; write them as ISO "
                "(YYYY-MM-DD HH:MM, with a UTC offset like -05:00 or Z when not New York time) or unix epoch"
            )
        stamps = pd.DatetimeIndex(out)
        how = "ISO timestamps" + (
            f", UTC offsets converted to {EXCHANGE_TZ}" if aware.any() else " (New York time)"
        )
        if ok < n:
            how += f" ({n - ok} unparseable)"
    t = stamps[~stamps.isna()]
    if len(t) and (t == t.normalize()).all():
        raise DataError(
            f"{where} holds no times of day (daily bars?); drop --interval {interval} to import it as "
            "daily bars"
        )
    return stamps.as_unit("ns"), how


def _refuse_intraday(stamps: pd.DatetimeIndex, where: str) -> None:
    """`DataError` when one date holds several rows at different times of day (intraday bars):
    collapsing them into a "daily" bar would invent prices, so the file is refused, never merged."""
    per_day = int(np.timedelta64(1, "D") / np.timedelta64(1, stamps.unit))  # stamps may be s, us or ns
    t = stamps.asi8[~stamps.isna()]
    day = t // per_day
    tod = t - day * per_day
    if len(t) < 2 or not tod.any():  # midnight stamps only: a daily file (the common case)
        return
    times = pd.DataFrame({"day": day, "tod": tod}).groupby("day")["tod"]
    multi = times.nunique()
    multi = multi[multi > 1]
    if len(multi):
        first = int(multi.index.min())
        n = int((day == first).sum())
        when = np.datetime64(first, "D")
        raise DataError(
            f"{where} holds intraday bars ({n} rows on {when} at different times); tradea3c imports "
            "daily bars only: resample to one row per day first, or pass --interval 1h (30m, 15m, 5m, 1m) "
            "to import them as intraday bars"
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


_DECIMAL: contextvars.ContextVar[str | None] = contextvars.ContextVar("csv_decimal", default=None)
DECIMAL_MARKS = (".", ",")
_COMMA_GROUPS = re.compile(r"^[-+]?[1-9]\d{0,2}(?:,\d{3})+$")  # 1,234 or 1,234,567: no decimals
_DOT_GROUPS = re.compile(r"^[-+]?[1-9]\d{0,2}(?:\.\d{3})+$")  # 1.234 or 1.234.567
_ONE_MARK = re.compile(r"^[-+]?\d*[.,]\d+$")  # 20,45 or 20.45: one mark with digits after it


@contextlib.contextmanager
def decimal_mark(decimal: str | None) -> Iterator[None]:
    """The decimal mark ("." or ",") every CSV read in this block uses when its caller gives none
    (None: detect it per file); `check_decimal` refuses anything else."""
    token = _DECIMAL.set(check_decimal(decimal))
    try:
        yield
    finally:
        _DECIMAL.reset(token)


def check_decimal(decimal: str | None) -> str | None:
    """``decimal`` when it is None, "." or ","; `DataError` naming ``--decimal`` otherwise."""
    if decimal is not None and decimal not in DECIMAL_MARKS:
        raise DataError(
            f"--decimal {decimal!r} is not a decimal mark: use '.' or ',' (the mark between the whole "
            "and the fractional part of the file's prices, e.g. --decimal , for 20,45)"
        )
    return decimal


def detect_decimal(df: pd.DataFrame, cols: dict[str, str], where: str) -> str:
    """The decimal mark of a file's number columns: "," when some value can only be read with a
    decimal comma (``20,45``, ``1.234,5``, ``1.234.567``), "." when some value can only be read with
    a decimal point (``20.45``, ``1,234.5``, ``1,234,567``) or nothing is in doubt. `DataError`
    naming the file and ``--decimal`` when both occur, or when only ``1,234``-like prices decide (a
    volume of ``1,234`` is read as 1234: no volume has decimals)."""
    prices = list(dict.fromkeys(cols[f] for f in ("close", "adj_close", "open", "high", "low") if f in cols))
    fields = [*prices, *([cols["volume"]] if "volume" in cols else [])]  # the close first: the example
    text = [df[c].astype("string") for c in dict.fromkeys(fields)]
    if not any((t.str.contains(",", regex=False) | (t.str.count(r"\.") > 1)).any() for t in text):
        return "."  # the common case, decided without a look at each value: no comma, no 1.234.567
    comma = point = ambiguous = None
    for col, cell in _number_cells(df, fields):
        has_comma, has_point = "," in cell, "." in cell
        if has_comma and has_point:
            if cell.rfind(",") > cell.rfind("."):
                comma = comma or cell
            else:
                point = point or cell
        elif has_comma:
            if _COMMA_GROUPS.match(cell):
                if cell.count(",") > 1:
                    point = point or cell
                elif col in prices:  # a volume of 1,234 is no decimal: 1.234 shares is no volume
                    ambiguous = ambiguous or cell
            elif _ONE_MARK.match(cell):
                comma = comma or cell
        elif has_point:
            if _DOT_GROUPS.match(cell):
                if cell.count(".") > 1:
                    comma = comma or cell
            elif _ONE_MARK.match(cell):
                point = point or cell
        if comma and point:
            raise DataError(
                f"{where}: numbers use both decimal marks (e.g. {comma!r} and {point!r}); pass "
                "--decimal , or --decimal . to say which one the file uses"
            )
    if comma:
        return ","
    if ambiguous and not point:
        raise DataError(
            f"{where}: numbers such as {ambiguous!r} read as {ambiguous.replace(',', '.')} with a decimal "
            f"comma or {ambiguous.replace(',', '')} with a thousands comma; pass --decimal , (decimal "
            "comma) or --decimal . (decimal point)"
        )
    return "."


def _number_cells(df: pd.DataFrame, fields: list[str]) -> Iterator[tuple[str, str]]:
    """(column, distinct cell without '$' and spaces) of the number columns ``fields``."""
    for col in dict.fromkeys(fields):
        cells = df[col].astype("string").str.replace(r"[$\s]", "", regex=True).dropna()
        for cell in pd.unique(cells.to_numpy()):
            yield col, str(cell)


def _to_number(col: pd.Series, name: str, where: str, decimal: str = ".") -> pd.Series:
    """Numeric column; thousands separators and '$' stripped (``decimal`` ",": '.' groups thousands
    and ',' is the decimal mark); mostly-text columns are refused."""
    if pd.api.types.is_numeric_dtype(col):
        return col.astype(float)
    s = col.astype("string").str.strip()
    if decimal == ",":
        s = s.str.replace(r"[.$\s]", "", regex=True).str.replace(",", ".", regex=False)
    else:
        s = s.str.replace(r"[,$\s]", "", regex=True)
    s = s.mask(s.isin(["", "-", "null", "None", "NaN", "nan", "NA", "N/A"]))
    num = pd.to_numeric(s, errors="coerce")
    bad = num.isna() & s.notna()
    if bad.sum() > 0.5 * max(int(s.notna().sum()), 1):
        raise DataError(
            f"{where}: column {name!r} is not numeric (e.g. {str(s[bad].iloc[0])!r}); fix or drop it"
        )
    return num.astype(float)


def _frame_from(
    df: pd.DataFrame,
    cols: dict[str, str],
    where: str,
    rows: np.ndarray | None = None,
    decimal: str = ".",
    interval: str = "1d",
) -> tuple[pd.DataFrame, bool, list[str]]:
    dates, how = parse_dates(df[cols["date"]], where, rows, interval)
    check_date_range(dates, df[cols["date"]], where, rows)
    out = pd.DataFrame(index=dates.as_unit("ns"))
    for f in ("open", "high", "low", "close", "adj_close", "volume"):
        if f in cols:
            out[f] = _to_number(df[cols[f]], cols[f], where, decimal).to_numpy()
    notes = [f"dates: {how}"]
    if decimal == ",":
        notes.append("numbers: decimal comma (20,45 = 20.45)")
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


def _sniff_sep(path: Path) -> str:
    """The field separator of a CSV from its header line: ";" or tab when they outnumber ","."""
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    try:
        with opener(path, "rt", encoding="utf-8", errors="replace") as fh:
            head = fh.readline()
    except OSError:
        return ","  # the read below reports it
    counts = {sep: head.count(sep) for sep in (",", ";", "\t")}
    return max(counts, key=lambda sep: (counts[sep], sep == ","))


def read_csv_file(path: Path, decimal: str | None = None, interval: str = "1d") -> list[RawSeries]:
    """One CSV -> one RawSeries per ticker in it. ``decimal``: "." or "," (None: `detect_decimal`,
    unless a `decimal_mark` block sets one). ``interval``: "1d" or intraday (`parse_timestamps`)."""
    where = str(path)
    decimal = check_decimal(decimal if decimal is not None else _DECIMAL.get())
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, skipinitialspace=True, sep=_sniff_sep(path))
    except pd.errors.EmptyDataError:
        raise DataError(f"{where}: file is empty") from None
    except (pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise DataError(f"{where}: not a readable CSV ({str(exc).splitlines()[0]})") from None
    if len(df) == 0:
        raise DataError(f"{where}: no data rows (header only)")
    cols = map_columns(list(df.columns), where)
    decimal = decimal or detect_decimal(df, cols, where)
    tickers = None
    if "ticker" in cols:
        tickers = df[cols["ticker"]].astype("string").str.strip().str.upper()
    if tickers is None or tickers.nunique() <= 1:
        name = tickers.iloc[0] if tickers is not None and tickers.notna().iloc[0] else path.stem.split("_")[0]
        frame, adjusted, notes = _frame_from(df, cols, where, decimal=decimal, interval=interval)
        return [RawSeries(str(name).upper(), frame, path, cols, adjusted, notes)]
    out = []
    for t, part in df.groupby(tickers.to_numpy(), sort=True):
        rows = part.index.to_numpy() + 1  # data-row numbers in the whole file
        frame, adjusted, notes = _frame_from(
            part.reset_index(drop=True), cols, f"{where} [{t}]", rows, decimal=decimal, interval=interval
        )
        out.append(RawSeries(str(t), frame, path, cols, adjusted, notes))
    return out


def _csv_named(name: str) -> bool:
    low = name.lower()
    return low.endswith((".csv", ".txt", ".csv.gz"))


def _not_a_file(f: Path) -> str:
    """Why a CSV-named folder entry is not a regular file to read (for the `skipped` line)."""
    try:
        mode = f.stat().st_mode
    except OSError as exc:
        if f.is_symlink():
            target = os.readlink(f)
            if isinstance(exc, FileNotFoundError):
                return f"a dangling symlink (its target {target} does not exist)"
            return f"a broken symlink to {target} ({exc.strerror or exc})"
        return f"cannot be read ({exc.strerror or exc})"
    if stat.S_ISDIR(mode):
        return "a folder, not a CSV file"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe), not a regular file"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file, not a regular file"
    if stat.S_ISSOCK(mode):
        return "a socket, not a regular file"
    return "not a regular file"


def csv_folder(path: Path) -> tuple[list[Path], dict[str, str]]:
    """(CSV files of a folder sorted, or the file itself; {CSV-named entry that is no regular file:
    'skipped <entry>: <why>'}): a dangling symlink, a folder or a FIFO named ``*.csv`` is named,
    never skipped silently (and never opened: a FIFO would block the read)."""
    p = Path(path)
    if p.is_file():
        return [p], {}
    if not p.is_dir():
        raise DataError(f"{p}: no such file or folder; pass a folder of per-ticker CSVs or one CSV file")
    files, skipped = [], {}
    for f in sorted(p.iterdir()):
        if not _csv_named(f.name):
            continue
        if f.is_file():
            files.append(f)
        else:
            skipped[str(f)] = f"skipped {f}: {_not_a_file(f)}"
    if not files:
        also = f" ({'; '.join(skipped.values())})" if skipped else ""
        raise DataError(f"{p}: no .csv files in this folder{also}")
    return files, skipped


def csv_files(path: Path) -> list[Path]:
    """CSV files of a folder (sorted), or the file itself (`csv_folder` also names the skipped entries)."""
    return csv_folder(path)[0]


def read_csv_source(
    path: str | Path, tickers: list[str] | None = None, decimal: str | None = None, interval: str = "1d"
) -> tuple[list[RawSeries], dict[str, str]]:
    """All series under ``path`` (optionally only ``tickers``); returns (series, {file: error}).

    The errors include every CSV-named entry that is no regular file (`csv_folder`). ``decimal``:
    "." or "," for every file (None: detected per file, unless a `decimal_mark` block sets it)."""
    series: list[RawSeries] = []
    decimal = check_decimal(decimal if decimal is not None else _DECIMAL.get())
    wanted = {t.upper() for t in tickers} if tickers else None
    files, skipped = csv_folder(Path(path))
    errors: dict[str, str] = {
        f: why for f, why in skipped.items() if wanted is None or Path(f).stem.split("_")[0].upper() in wanted
    }
    for f in files:
        if wanted is not None and f.stem.split("_")[0].upper() not in wanted and len(wanted) < 1000:
            # cheap skip for per-ticker folders; long files are read and filtered below
            if not _maybe_long(f):
                continue
        try:
            got = read_csv_file(f, decimal, interval)
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
        head = pd.read_csv(f, nrows=0, sep=_sniff_sep(f))
    except Exception:  # noqa: BLE001 - unreadable files are reported when actually read
        return True
    return any(_LOOKUP.get(_norm_header(h)) == "ticker" for h in head.columns)
