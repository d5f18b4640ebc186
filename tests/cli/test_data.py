"""``tradea3c fetch`` and ``tradea3c data`` (``tradea3c.cli.data``), through typer's CliRunner and once
as a real subprocess; bad input and faults in the data layer give one line naming the input and the
fix, the rest of the work goes on, and the cache is never corrupted or silently replaced."""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from datetime import date
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yfinance as yf
from typer.testing import CliRunner

from tests.data.test_fetch import FakeYF
from tradea3c.cli import app
from tradea3c.data import DataError, cache, load_market
from tradea3c.data.fetch import fetch_tickers, import_csv
from tradea3c.data.spec import MarketSpec, load_market_spec
from tradea3c.data.validate import clean_frame

runner = CliRunner()


def test_fetch_tickers_summary_and_incremental(tmp_data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeYF()
    monkeypatch.setattr(yf, "download", fake)
    res = runner.invoke(app, ["fetch", "AAPL", "MSFT", "--start", "2024-01-02", "--end", "2024-02-01"])
    assert res.exit_code == 0, res.output
    assert "fetched 2, up to date 0, failed 0" in res.output
    res = runner.invoke(app, ["data", "list"])
    assert (
        res.exit_code == 0 and "AAPL" in res.output and "yfinance" in res.output and "2 tickers" in res.output
    )


def test_fetch_offline_exits_nonzero_with_one_line_per_ticker(tmp_data_dir: Path, monkeypatch) -> None:
    monkeypatch.setattr(yf, "download", FakeYF({"AAPL": ["offline"], "MSFT": ["offline"]}))
    res = runner.invoke(app, ["fetch", "AAPL", "MSFT"])
    assert res.exit_code == 1
    errs = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(errs) == 2 and all("no network" in e and "--from-csv" in e for e in errs)


def test_fetch_partial_failure_exit_zero(tmp_data_dir: Path, monkeypatch) -> None:
    monkeypatch.setattr(yf, "download", FakeYF({"ZZZZ": ["unknown"]}))
    res = runner.invoke(app, ["fetch", "ZZZZ", "AAPL", "--start", "2024-01-02"])
    assert res.exit_code == 0 and "failed 1" in res.output and "delisted" in res.stderr


@pytest.mark.parametrize(
    "args, phrase",
    [
        (["fetch"], "give exactly one of"),
        (["fetch", "AAPL", "--market", "sp500"], "give exactly one of"),
        (["fetch", "AA/PL"], "invalid ticker 'AA/PL'"),
        (["fetch", "AAPL", "--interval", "2h"], "interval '2h' is not supported; use one of 1d, 1h"),
        (["fetch", "AAPL", "--start", "yesterday-ish"], "invalid date"),
        (["fetch", "--market", "sp5000"], "unknown universe 'sp5000'"),
        (["fetch", "--from-csv", "/nonexistent/dir"], "no such file or folder"),
        (["data", "validate", "NOPE"], "run `tradea3c fetch NOPE`"),
    ],
)
def test_user_errors_are_one_line(tmp_data_dir: Path, args: list[str], phrase: str) -> None:
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and res.exception is None or isinstance(res.exception, SystemExit)
    assert (
        phrase in res.stderr and len(res.stderr.strip().splitlines()) == 1 and "Traceback" not in res.stderr
    )


def test_csv_import_list_validate_and_demo(tmp_data_dir: Path, tmp_path: Path) -> None:
    src = tmp_path / "csvs"
    src.mkdir()
    rows = "".join(f"2020-01-{d:02d},{d},{d + 1},{d - 0.5},{d + 0.5},{d}00\n" for d in range(2, 20))
    (src / "long.csv").write_text(
        "timestamp,Symbol,open,HIGH,low,Adj Close,Close,Vol\n"
        + "".join(
            f"{r.split(',')[0]},{t},{','.join(r.strip().split(',')[1:5])},{r.split(',')[4]},{r.strip().split(',')[5]}\n"
            for t in ("AAA", "BBB")
            for r in rows.splitlines()
        )
    )
    res = runner.invoke(app, ["fetch", "--from-csv", str(src)])
    assert res.exit_code == 0, res.output
    assert "columns used: date<-timestamp" in res.output and "adj_close<-Adj Close" in res.output
    assert "fetched 2" in res.output
    res = runner.invoke(app, ["data", "validate"])
    assert res.exit_code == 0 and "2 tickers" in res.output, res.output
    res = runner.invoke(app, ["demo", "--steps", "0"])
    assert res.exit_code == 0 and "GOOGL" in res.output and "2335" in res.output
    assert cache.read_meta(cache.ticker_path(tmp_data_dir, "GOOGL")).source == "gym-anytrading"


def test_real_subprocess_demo_and_list(tmp_path: Path) -> None:
    env = {**os.environ, "TRADEA3C_DATA": str(tmp_path / "c")}
    out = subprocess.run(
        [sys.executable, "-m", "tradea3c", "fetch", "--market", "demo"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0 and "fetched 1" in out.stdout, out.stderr
    out = subprocess.run(
        [sys.executable, "-m", "tradea3c", "data", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert out.returncode == 0 and "gym-anytrading" in out.stdout


# ---------------------------------------------------------------- bad input and faults
HEAD = "Date,Open,High,Low,Close,Volume\n"


def _rows(days: pd.DatetimeIndex, close: float = 10.0) -> str:
    return "".join(f"{d.date()},{close},{close + 1},{close - 1},{close},100\n" for d in days)


def _folder(root: Path, name: str, files: dict[str, str]) -> Path:
    src = root / name
    src.mkdir()
    for fname, text in files.items():
        (src / fname).write_text(text)
    return src


def _one_line_error(res, *phrases: str) -> str:  # noqa: ANN001 - click Result
    """The CLI failed with exit 2 and exactly one stderr line holding every phrase, no traceback."""
    assert res.exit_code == 2, (res.exit_code, res.output)
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    lines = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.output
    for p in phrases:
        assert p in lines[0], (p, lines[0])
    return lines[0]


DAYS = pd.bdate_range("2020-01-02", periods=60)


# ---- 5. a date pandas cannot store (after 2262-04-11)


def test_far_future_date_refuses_that_file_and_imports_the_rest(tmp_data_dir: Path, tmp_path: Path) -> None:
    src = _folder(
        tmp_path,
        "src",
        {
            "AAA.csv": HEAD + _rows(DAYS),
            "BBB.csv": HEAD + _rows(DAYS) + "2263-01-05,10,11,9,10,100\n",
            "CCC.csv": HEAD + _rows(DAYS),
        },
    )
    res = runner.invoke(app, ["fetch", "--from-csv", str(src)])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    # documented fetch exit codes: 0 while at least one ticker was imported; the refused file is listed
    assert res.exit_code == 0, res.output
    assert [m.ticker for m in cache.list_cache(tmp_data_dir)] == ["AAA", "CCC"]
    errs = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(errs) == 1, res.stderr
    assert "BBB.csv" in errs[0] and "2263-01-05" in errs[0] and "row 61" in errs[0]
    assert "fix or delete that row" in errs[0]
    assert "fetched 2, up to date 0, failed 1" in res.output

    res = runner.invoke(app, ["data", "validate", "--from-csv", str(src)])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == 1 and "ok: " in res.output and "2263-01-05" in res.output, res.output

    # a cleaner fed a frame with such dates directly (not via the CSV reader) names the ticker too
    frame = pd.DataFrame(
        {"close": [10.0, 11.0]}, index=pd.DatetimeIndex(["2020-01-02", "2263-01-05"]).as_unit("s")
    )
    with pytest.raises(DataError, match=r"ZZZ: date 2263-01-05 .* 2262-04-11"):
        clean_frame(frame, "ZZZ")


# ---- 6. absurd prices, one-row replacement, duplicate rows


def test_absurd_close_is_dropped_with_a_finding_never_stored(tmp_data_dir: Path, tmp_path: Path) -> None:
    src = _folder(tmp_path, "huge", {"HUG.csv": HEAD + _rows(DAYS[:30]) + "2020-02-13,10,11,9,1e308,100\n"})
    res = runner.invoke(app, ["fetch", "--from-csv", str(src)])
    assert res.exit_code == 0, res.output
    df, _ = cache.read_ticker(tmp_data_dir, "HUG")
    assert len(df) == 30 and df.to_numpy().max() < 1e6
    assert "1e+308" in res.output and "absurd" in res.output

    # one absurd row appended to a cached series: dropped, never merged into the cache
    before = cache.ticker_path(tmp_data_dir, "HUG").read_bytes()
    one = _folder(tmp_path, "one", {"HUG.csv": HEAD + "2020-03-02,10,11,9,1e308,100\n"})
    res = runner.invoke(app, ["fetch", "--from-csv", str(one)])
    assert res.exit_code == 1 and "HUG" in res.stderr and "1e+308" in res.stderr, res.output
    assert cache.ticker_path(tmp_data_dir, "HUG").read_bytes() == before

    # an absurd open/high/low next to a sane close is repaired like a missing one
    bars = pd.DataFrame(
        {
            "open": [10.0, 1e300],
            "high": [11.0, 11.0],
            "low": [9.0, 9.0],
            "close": [10.0, 10.5],
            "volume": 1.0,
        },
        index=pd.DatetimeIndex(["2020-01-02", "2020-01-03"]),
    )
    clean, findings = clean_frame(bars, "OPN")
    assert clean["open"].iloc[1] == 10.0 and any(f.check == "absurd-price" for f in findings)
    # a cached frame (the fast path) gets the same rule
    n = len(DAYS)
    close = np.full(n, 10.0)
    close[40] = 1e308
    cached_like = pd.DataFrame(
        {"open": 10.0, "high": np.maximum(close, 11.0), "low": 9.0, "close": close, "volume": 1.0},
        index=DAYS.rename("date"),
    )
    clean, findings = clean_frame(cached_like, "CCH")
    assert len(clean) == n - 1 and any(f.check == "absurd-price" and f.action == "dropped" for f in findings)


def test_one_row_file_never_silently_replaces_a_long_series(tmp_data_dir: Path, tmp_path: Path) -> None:
    long_days = pd.bdate_range("2010-01-04", periods=3019)
    long = _folder(tmp_path, "long", {"ABC.csv": HEAD + _rows(long_days)})
    assert runner.invoke(app, ["fetch", "--from-csv", str(long)]).exit_code == 0
    path = cache.ticker_path(tmp_data_dir, "ABC")
    before = path.read_bytes()
    one = _folder(tmp_path, "one", {"ABC.csv": HEAD + _rows(long_days[-1:], 10.2)})

    res = runner.invoke(app, ["fetch", "--from-csv", str(one), "--replace"])
    assert res.exit_code == 1, res.output  # nothing imported
    errs = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(errs) == 1 and "3019" in errs[0] and "1 row" in errs[0] and str(path) in errs[0], errs
    assert "drop --replace" in errs[0]
    assert path.read_bytes() == before

    # without --replace the row is merged by date and the summary says what was kept
    res = runner.invoke(app, ["fetch", "--from-csv", str(one)])
    assert res.exit_code == 0 and "3018 cached rows kept, 1 replaced" in " ".join(res.output.split())
    assert cache.read_meta(path).rows == 3019

    # a tiny file for a ticker not cached yet is imported, with a finding that it is too short
    tiny = _folder(tmp_path, "tiny", {"NEW.csv": HEAD + _rows(long_days[:1])})
    res = runner.invoke(app, ["fetch", "--from-csv", str(tiny)])
    assert res.exit_code == 0 and "short-series" in res.output and "only 1 row" in res.output, res.output


def test_exact_duplicate_rows_keep_the_last_and_are_reported(tmp_path: Path) -> None:
    body = _rows(DAYS[:30])
    same_date = "2020-01-02,10,11,9,10.25,100\n"  # same date, other values: this last row wins
    src = _folder(tmp_path, "dup", {"DUP.csv": HEAD + body + body + same_date})
    (res,) = import_csv(src, data_dir=tmp_path / "cache").results
    assert res.status == "fetched", res.detail
    df, _ = cache.read_ticker(tmp_path / "cache", "DUP")
    assert len(df) == 30 and df["close"].iloc[0] == 10.25
    checks = {f.check for f in res.findings}
    assert {"duplicate-row", "duplicate-date"} <= checks, res.findings
    assert all(
        f.action == "dropped" and "kept the last" in f.detail for f in res.findings if "dup" in f.check
    )


# ---- 7. a truncated parquet file in the cache


def _truncated_cache(data_dir: Path, tmp_path: Path) -> Path:
    src = _folder(tmp_path, "two", {"AAA.csv": HEAD + _rows(DAYS), "BBB.csv": HEAD + _rows(DAYS, 20.0)})
    import_csv(src, data_dir=data_dir)
    bad = cache.ticker_path(data_dir, "BBB")
    raw = bad.read_bytes()
    bad.write_bytes(raw[: len(raw) // 2])
    return bad


def test_truncated_parquet_is_named_by_list_and_validate(tmp_data_dir: Path, tmp_path: Path) -> None:
    bad = _truncated_cache(tmp_data_dir, tmp_path)
    want = f"cache file {bad} is unreadable (truncated?)"

    res = runner.invoke(app, ["data", "list"])
    assert res.exit_code == 0 and "AAA" in res.output and want in " ".join(res.output.split()), res.output
    assert "tradea3c fetch BBB" in res.output and "delete it" in res.output

    res = runner.invoke(app, ["data", "validate"])
    assert res.exception is None or isinstance(res.exception, SystemExit), repr(res.exception)
    assert res.exit_code == 1 and "ok: " in res.output and want in res.output, res.output
    assert "BBB - [unreadable] refused" in res.output


def test_truncated_parquet_fails_a_cached_load_with_one_line(tmp_data_dir: Path, tmp_path: Path) -> None:
    bad = _truncated_cache(tmp_data_dir, tmp_path)
    for load in (
        lambda: load_market("cached", data_dir=tmp_data_dir),
        lambda: load_market(["AAA", "BBB"], data_dir=tmp_data_dir),
        lambda: load_market_spec(MarketSpec(source="cached", data_dir=str(tmp_data_dir))),
    ):
        with pytest.raises(DataError) as exc:
            load()
        msg = str(exc.value)
        assert "\n" not in msg and f"cache file {bad} is unreadable (truncated?)" in msg
        assert "re-import it with `tradea3c fetch BBB`" in msg and "or delete it" in msg
    # re-importing replaces it, keeping the unreadable bytes aside instead of losing them
    raw = bad.read_bytes()
    src = _folder(tmp_path, "again", {"BBB.csv": HEAD + _rows(DAYS, 20.0)})
    (res,) = import_csv(src, data_dir=tmp_data_dir).results
    assert res.status == "fetched" and "unreadable" in res.detail, res.detail
    assert bad.with_name("BBB.parquet.unreadable").read_bytes() == raw
    assert load_market("cached", data_dir=tmp_data_dir).n_assets == 2


# ---- 8. OS errors: a file given as the data dir, a full disk


@pytest.mark.parametrize(
    "args",
    [
        ["fetch", "--from-csv", "SRC"],
        ["fetch", "--market", "demo"],
        ["data", "list"],
        ["data", "validate"],
    ],
)
def test_a_file_as_data_dir_is_one_line(tmp_path: Path, args: list[str]) -> None:
    src = _folder(tmp_path, "src", {"AAA.csv": HEAD + _rows(DAYS)})
    not_a_dir = tmp_path / "notes.txt"
    not_a_dir.write_text("keep me\n")
    args = [str(src) if a == "SRC" else a for a in args]
    res = runner.invoke(app, [*args, "--data-dir", str(not_a_dir)])
    _one_line_error(res, str(not_a_dir), "is a file, not a folder", "--data-dir")
    assert not_a_dir.read_text() == "keep me\n"


def test_a_file_as_data_dir_in_env_or_spec_is_a_data_error(tmp_path: Path, monkeypatch) -> None:
    not_a_dir = tmp_path / "notes.txt"
    not_a_dir.write_text("x")
    with pytest.raises(DataError, match="is a file, not a folder"):
        load_market_spec(MarketSpec(source="cached", data_dir=str(not_a_dir / "sub")))
    with pytest.raises(DataError, match="is a file, not a folder"):  # even where the cache is not read
        load_market_spec(MarketSpec(source="demo", data_dir=str(not_a_dir)))
    monkeypatch.setenv("TRADEA3C_DATA", str(not_a_dir))
    res = runner.invoke(app, ["data", "list"])
    _one_line_error(res, "TRADEA3C_DATA", str(not_a_dir), "is a file, not a folder")


def test_disk_full_during_import_is_one_line_and_keeps_the_old_file(
    tmp_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old = _folder(tmp_path, "old", {"AAA.csv": HEAD + _rows(DAYS)})
    assert runner.invoke(app, ["fetch", "--from-csv", str(old)]).exit_code == 0
    path = cache.ticker_path(tmp_data_dir, "AAA")
    before = path.read_bytes()

    def no_space(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", no_space)
    new = _folder(tmp_path, "new", {"AAA.csv": HEAD + _rows(DAYS, 11.0), "BBB.csv": HEAD + _rows(DAYS, 12.0)})
    res = runner.invoke(app, ["fetch", "--from-csv", str(new), "--replace"])
    _one_line_error(res, str(path), "No space left on device", "free disk space", "unchanged")
    assert path.read_bytes() == before
    # no temp file left behind (only the hidden folder of the per-ticker lock files)
    assert sorted(p.name for p in tmp_data_dir.iterdir()) == [cache.LOCK_DIR, "AAA.parquet"]
    assert sorted(p.name for p in (tmp_data_dir / cache.LOCK_DIR).iterdir()) == [
        "AAA.lock"
    ]  # the run stopped at AAA
    assert np.allclose(cache.read_ticker(tmp_data_dir, "AAA")[0]["close"], 10.0)


def test_yfinance_fetch_replaces_an_unreadable_file_and_stops_on_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeYF()
    monkeypatch.setattr(yf, "download", fake)
    data_dir = tmp_path / "cache"
    fetch = partial(fetch_tickers, data_dir=data_dir, today=date(2024, 3, 1), sleep=lambda s: None)
    assert fetch(["AAPL"], end="2024-02-01").ok
    path = cache.ticker_path(data_dir, "AAPL")
    raw = path.read_bytes()[:100]
    path.write_bytes(raw)
    (res,) = fetch(["AAPL"]).results  # a truncated file is replaced, its bytes kept aside
    assert res.status == "fetched" and "unreadable" in res.detail, res.detail
    assert path.with_name("AAPL.parquet.unreadable").read_bytes() == raw
    before = path.read_bytes()

    def no_space(src: object, dst: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", no_space)
    fake.last_day, calls = "2024-03-06", len(fake.calls)  # a week later: new bars to append
    with pytest.raises(DataError, match=r"AAPL.parquet: No space left on device .*AAPL.parquet is unchanged"):
        fetch(["AAPL", "MSFT"], today=date(2024, 3, 6))
    assert path.read_bytes() == before and not cache.ticker_path(data_dir, "MSFT").exists()
    assert [c["ticker"] for c in fake.calls[calls:]] == ["AAPL"]  # MSFT would hit the same full disk


# ---- issue 25, item 4: two imports into one cache at once keep every row


def test_concurrent_csv_imports_into_one_cache_keep_the_union(tmp_path: Path) -> None:
    """Two real processes import overlapping tickers with disjoint dates into one cache at the same
    moment; every trial must end with both files' rows (before the lock, one trial in five lost the
    rows of one process: its read-merge-write raced the other's)."""
    tickers = [f"T{i:02d}" for i in range(12)]
    days = pd.bdate_range("2000-01-03", periods=1200)
    early, late = days[:600], days[600:]
    a = _folder(tmp_path, "a", {f"{t}.csv": HEAD + _rows(early) for t in tickers})
    b = _folder(tmp_path, "b", {f"{t}.csv": HEAD + _rows(late) for t in tickers})
    env = {k: v for k, v in os.environ.items() if k != "TRADEA3C_DATA"}
    for trial in range(5):
        data_dir = tmp_path / f"cache{trial}"
        procs = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tradea3c",
                    "fetch",
                    "--from-csv",
                    str(src),
                    "--data-dir",
                    str(data_dir),
                ],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )
            for src in (a, b)
        ]
        outs = [p.communicate(timeout=120) for p in procs]
        assert [p.returncode for p in procs] == [0, 0], outs
        rows = {m.ticker: m.rows for m in cache.list_cache(data_dir)}
        assert rows == dict.fromkeys(tickers, len(days)), (trial, rows)
        res = runner.invoke(app, ["data", "list", "--data-dir", str(data_dir)])  # lock files are no entries
        assert res.exit_code == 0 and f"{len(tickers)} tickers, {len(tickers) * len(days)} rows" in res.output
        assert "unreadable" not in res.output and ".lock" not in res.output, res.output


# ---- issue 25, items 7, 8, 12: decimal commas, offsets, intraday files


def _eu_folder(tmp_path: Path) -> Path:
    rows = "".join(f'{d.date()},"20,450","21,000","19,750","20,450",100\n' for d in DAYS)
    return _folder(tmp_path, "eu", {"EUR.csv": HEAD + rows})


def test_ambiguous_decimal_commas_are_one_line_naming_the_file_and_decimal(
    tmp_data_dir: Path, tmp_path: Path
) -> None:
    src = _eu_folder(tmp_path)
    res = runner.invoke(app, ["fetch", "--from-csv", str(src)])
    assert res.exit_code == 1, res.output  # nothing imported
    errs = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(errs) == 1 and "EUR.csv" in errs[0] and "--decimal" in errs[0], res.stderr
    assert not cache.ticker_path(tmp_data_dir, "EUR").exists()
    res = runner.invoke(app, ["data", "validate", "--from-csv", str(src)])
    assert res.exit_code == 2 and "EUR.csv" in res.stderr and "--decimal" in res.stderr, res.output


def test_decimal_option_reads_commas_as_decimals(tmp_data_dir: Path, tmp_path: Path) -> None:
    src = _eu_folder(tmp_path)
    res = runner.invoke(app, ["fetch", "--from-csv", str(src), "--decimal", ","])
    assert res.exit_code == 0, res.output
    assert np.allclose(cache.read_ticker(tmp_data_dir, "EUR")[0]["close"], 20.45)
    res = runner.invoke(app, ["data", "validate", "--from-csv", str(src), "--decimal", ","])
    assert res.exit_code == 0 and "ok: " in res.output, res.output
    res = runner.invoke(app, ["fetch", "--from-csv", str(src), "--decimal", ";"])
    _one_line_error(res, "--decimal ';'", "'.' or ','")


def test_offset_timestamps_import_on_their_own_dates(tmp_data_dir: Path, tmp_path: Path) -> None:
    rows = "".join(f"{d.date()}T20:00-05:00,10,11,9,10,100\n" for d in DAYS)  # evening in New York
    src = _folder(tmp_path, "off", {"NYC.csv": HEAD + rows})
    assert runner.invoke(app, ["fetch", "--from-csv", str(src)]).exit_code == 0
    bars = cache.read_ticker(tmp_data_dir, "NYC")[0]
    assert list(bars.index) == list(DAYS) and (bars.index.day_of_week < 5).all()


def test_intraday_file_is_refused_never_collapsed(tmp_data_dir: Path, tmp_path: Path) -> None:
    minutes = pd.date_range("2020-01-02 09:30", periods=390 * 2, freq="min")
    minutes = minutes[minutes.indexer_between_time("09:30", "15:59")]
    rows = "".join(f"{t},10,11,9,10,100\n" for t in minutes)
    src = _folder(tmp_path, "min", {"SPY.csv": HEAD + rows, "AAA.csv": HEAD + _rows(DAYS)})
    res = runner.invoke(app, ["fetch", "--from-csv", str(src)])
    assert res.exit_code == 0, res.output
    errs = [line for line in res.stderr.splitlines() if line.strip()]
    n = int((minutes.normalize() == pd.Timestamp("2020-01-02")).sum())
    assert errs == [
        f"{src / 'SPY.csv'} holds intraday bars ({n} rows on 2020-01-02 at different times); tradea3c "
        "imports daily bars only: resample to one row per day first, or pass --interval 1h (30m, 15m, 5m, "
        "1m) to import them as intraday bars"
    ], res.stderr
    assert [m.ticker for m in cache.list_cache(tmp_data_dir)] == ["AAA"]


def test_odd_entries_of_a_csv_folder_are_named(tmp_data_dir: Path, tmp_path: Path) -> None:
    src = _folder(tmp_path, "odd", {"AAA.csv": HEAD + _rows(DAYS)})
    (src / "GONE.csv").symlink_to(tmp_path / "moved" / "GONE.csv")
    (src / "OLD.csv").mkdir()
    res = runner.invoke(app, ["fetch", "--from-csv", str(src)])
    assert res.exit_code == 0, res.output
    assert f"skipped {src / 'GONE.csv'}: a dangling symlink" in res.stderr, res.stderr
    assert f"skipped {src / 'OLD.csv'}: a folder, not a CSV file" in res.stderr
    assert [m.ticker for m in cache.list_cache(tmp_data_dir)] == ["AAA"]
    res = runner.invoke(app, ["data", "validate", "--from-csv", str(src)])
    assert "GONE.csv: a dangling symlink" in res.output and "ok: " in res.output, res.output


def test_fetch_from_csv_with_interval_imports_intraday_bars(tmp_data_dir: Path, tmp_path: Path) -> None:
    from tests.data.test_intraday import SESSIONS, hourly_csv

    src = hourly_csv(tmp_path / "hourly")
    res = runner.invoke(app, ["fetch", "--from-csv", str(src)])  # without --interval: refused, the hint
    assert res.exit_code == 1 and "or pass --interval 1h" in res.stderr, res.output
    res = runner.invoke(app, ["fetch", "--from-csv", str(src), "--interval", "1h"])
    assert res.exit_code == 0, res.output
    assert f"-> {tmp_data_dir / '1h'}" in " ".join(res.output.split()), res.output
    assert cache.list_cache(tmp_data_dir) == [] and [
        m.ticker for m in cache.list_cache(tmp_data_dir / "1h")
    ] == ["SPY"]
    m = load_market_spec(MarketSpec(source="SPY", interval="1h"))
    assert m.interval == "1h" and m.periods_per_year == 252 * 7
    assert len({str(pd.Timestamp(d).date()) for d in m.dates}) == len(SESSIONS)
    res = runner.invoke(app, ["data", "list", "--interval", "1h"])
    assert res.exit_code == 0 and "2019-11-27 09:30" in res.output and "2020-07-06 15:30" in res.output, (
        res.output
    )
    res = runner.invoke(app, ["data", "validate", "--interval", "1h"])
    assert res.exit_code == 0 and "ok: Market(cached: 1 tickers, 25 1h bars" in res.output, res.output
    res = runner.invoke(app, ["data", "validate", "--from-csv", str(src), "--interval", "1h"])
    assert res.exit_code == 0 and "25 1h bars" in res.output, res.output


def test_fetch_interval_through_yfinance_and_its_limits(tmp_data_dir: Path, monkeypatch) -> None:
    from tests.data.test_intraday import FakeIntradayYF

    monkeypatch.setattr(yf, "download", FakeIntradayYF())
    today = date.today()
    start = str(today - pd.Timedelta(days=20).to_pytimedelta())
    res = runner.invoke(app, ["fetch", "AAPL", "--interval", "30m", "--start", start])
    assert res.exit_code == 0 and "fetched 1" in res.output, res.output
    assert cache.list_cache(tmp_data_dir / "30m")[0].interval == "30m"
    res = runner.invoke(app, ["fetch", "AAPL", "--interval", "1h", "--start", "2000-01-03"])
    assert res.exit_code == 2, res.output
    errs = [line for line in res.stderr.splitlines() if line.strip()]
    assert len(errs) == 1 and "Yahoo serves 1h bars only 730 days back" in errs[0], res.stderr
    res = runner.invoke(app, ["fetch", "AAPL", "--interval", "2h"])
    assert res.exit_code == 2 and "interval '2h' is not supported; use one of 1d, 1h, 30m" in res.stderr
