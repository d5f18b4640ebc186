"""`tradea3c bench data`: the table's shape at a small size (timings are not asserted: noisy)."""

from __future__ import annotations

import math
from pathlib import Path

from typer.testing import CliRunner

from tradea3c.bench.data import run_data_benchmark, write_synthetic_cache
from tradea3c.cli import app


def test_bench_table_shape() -> None:
    rows = run_data_benchmark(tickers=12, bars=300, repeats=1)
    assert [r.load for r in rows] == [False, True, True]
    assert all(r.seconds > 0 and math.isfinite(r.bar_tickers_per_s) and r.bar_tickers_per_s > 0 for r in rows)
    assert all(r.target_met is None for r in rows)  # far below 500 tickers x 5,040 bars: not judged


def test_existing_cache_is_timed_without_writing(tmp_path: Path) -> None:
    write_synthetic_cache(tmp_path, tickers=6, bars=200)
    before = sorted(p.stat().st_mtime_ns for p in tmp_path.iterdir())
    rows = run_data_benchmark(repeats=1, data_dir=tmp_path)
    assert [r.load for r in rows] == [True, True]
    assert sorted(p.stat().st_mtime_ns for p in tmp_path.iterdir()) == before
    res = CliRunner().invoke(app, ["bench", "data", "--data-dir", str(tmp_path), "--repeats", "1"])
    assert res.exit_code == 0, res.output
    assert "load, fresh process" in res.output and "n/a" in res.output


def test_an_empty_cache_is_a_one_line_error(tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["bench", "data", "--data-dir", str(tmp_path)])
    assert res.exit_code == 2 and "no cached tickers" in res.output
