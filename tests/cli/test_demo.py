"""``tradea3c demo``: the offline quick start caches the demo market, summarises, trains, backtests."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from tradea3c.cli import app

runner = CliRunner()


def test_demo_command_caches_summarises_trains_and_backtests(tmp_data_dir: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["demo", "--steps", "600", "--quiet", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    assert "GOOGL" in res.output and "validation (greedy): Sharpe" in res.output
    assert (tmp_path / "demo" / "best.pt").is_file() and (tmp_data_dir / "GOOGL.parquet").is_file()
    assert "out-of-sample" in res.output and "cost sweep" in res.output
    html = (tmp_path / "demo" / "tearsheet.html").read_text()
    assert "out-of-sample" in html and (tmp_path / "demo" / "metrics.json").is_file()
