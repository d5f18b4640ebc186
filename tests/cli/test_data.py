"""CLI through typer's CliRunner, and once as a real subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yfinance as yf
from typer.testing import CliRunner

from tests.data.test_fetch import FakeYF
from tradea3c.cli import app
from tradea3c.data import cache

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
        (["fetch", "AAPL", "--interval", "1h"], "--interval 1d"),
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
