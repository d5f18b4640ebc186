"""``tradea3c signal`` and ``tradea3c paper`` (``tradea3c.cli.signal``, ``tradea3c.cli.paper``):
``--json`` is the data alone on stdout, ``--csv`` the orders; every refusal is one ``error:`` line,
exit 2, with nothing written; once as a real subprocess."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradea3c.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_signal_json_and_csv(tiny_run: Path, tmp_path: Path) -> None:
    out = tmp_path / "o" / "orders.csv"
    res = CliRunner().invoke(
        app, ["signal", str(tiny_run), "--date", "2007-03-01", "--json", "--csv", str(out)]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)  # stdout is the JSON and nothing else
    assert (
        data["date"] == "2007-03-01" and data["next_session"] == "2007-03-02" and data["equity"] == 100000.0
    )
    assert set(data["weights"]) == {"SIGNAL"} and data["label"] == "out-of-sample"
    assert "signal for the session after 2007-03-01" in res.stderr and f"wrote {out}" in res.stderr
    lines = out.read_text().splitlines()
    assert lines[0].startswith("ticker,side,quantity,price,notional,est_cost") and len(lines) == 2
    order = data["orders"][0]
    assert order["quantity"] == int(order["quantity"]) and order["side"] in ("buy", "hold")
    pos = tmp_path / "pos.csv"
    pos.write_text("ticker,quantity\nSIGNAL,10\ncash,500\n")
    res = CliRunner().invoke(app, ["signal", str(tiny_run), "--date", "2007-03-01", "--positions", str(pos)])
    assert res.exit_code == 0, res.output
    assert "SIGNAL" in res.stdout and "equity" in res.stdout  # the table on stdout without --json


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ([], "stale data: the last cached bar is 2007-08-31"),
        (["--date", "2007-12-24"], "the cached data ends at 2007-08-31"),
        (["--date", "2007-03-01", "--capital", "-5"], "--capital -5"),
        (["--date", "2007-03-01", "--ensemble"], "--ensemble needs 2 or more runs"),
        (["--date", "2007-03-01", "--positions", "nosuch.csv"], "--positions nosuch.csv: cannot read it"),
    ],
)
def test_signal_refusals_are_one_line_and_write_nothing(
    tiny_run: Path, tmp_path: Path, args: list[str], needle: str
) -> None:
    out = tmp_path / "orders.csv"
    res = CliRunner().invoke(app, ["signal", str(tiny_run), "--csv", str(out), *args])
    assert res.exit_code == 2, res.output
    assert res.stderr.startswith("error: ") and res.stderr.count("\n") == 1 and needle in res.stderr
    assert not out.exists() and res.stdout == ""


def test_several_runs_need_ensemble_and_a_non_run_is_refused(tiny_run: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["signal", str(tiny_run), str(tiny_run), "--date", "2007-03-01"])
    assert res.exit_code == 2 and "pass --ensemble" in res.stderr
    junk = tmp_path / "x.pt"
    junk.write_bytes(b"junk")
    res = CliRunner().invoke(app, ["signal", str(junk)])
    assert res.exit_code == 2 and res.stderr.startswith("error: ") and res.stderr.count("\n") == 1


def test_paper_replay_json_then_continue(tiny_run: Path, tmp_path: Path) -> None:
    db = tmp_path / "p" / "a.sqlite"
    base = ["paper", str(tiny_run), "--account", "a", "--db", str(db), "--json"]
    res = CliRunner().invoke(app, [*base, "--replay", "2006-07-07", "2006-08-01", "--capital", "1000"])
    assert res.exit_code == 0, res.output
    first = json.loads(res.stdout)
    assert first["inception"] == "2006-07-07" and first["date"] == "2006-08-01" and first["capital"] == 1000.0
    assert first["steps_added"] == len(first["curve"]) - 1 and "since inception" in res.stderr
    res = CliRunner().invoke(app, [*base, "--replay", "2006-07-07", "2006-08-15"])
    assert res.exit_code == 0, res.output
    second = json.loads(res.stdout)
    assert second["curve"][: len(first["curve"])] == first["curve"] and second["steps_added"] == 10
    live = CliRunner().invoke(app, ["paper", str(tiny_run), "--account", "a", "--db", str(db)])
    assert live.exit_code == 2 and "stale data" in live.stderr and "--replay START END" in live.stderr


def test_signal_as_a_subprocess(tiny_run: Path) -> None:
    cmd = [sys.executable, "-m", "tradea3c", "signal", str(tiny_run), "--date", "2007-08-31", "--json"]
    res = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout)["date"] == "2007-08-31"


def test_the_signal_verb_takes_the_command_option_names() -> None:
    import inspect

    from typer.main import get_command

    import tradea3c

    options = {p.name for p in get_command(app).commands["signal"].params}  # type: ignore[attr-defined]
    assert set(inspect.signature(tradea3c.signal).parameters) <= options
    assert "signal" in tradea3c.__all__


def test_a_value_based_run_from_worker_processes_backtests_and_signals(tmp_path: Path) -> None:
    """An n-step Q run trained by two Hogwild worker processes (shared target network) is used like
    an A3C run: ``backtest`` labels its method, ``signal`` takes the greedy action of its Q-values."""
    from tests.conftest import train_tiny

    run = train_tiny(tmp_path / "q", steps=2000, workers=2, mode="nstep_q", target_sync=500)
    summary = json.loads((run / "summary.json").read_text())
    assert summary["config"]["mode"] == "nstep_q" and len(summary["backend"]["restarts"]) == 2  # 2 processes
    html = tmp_path / "q.html"
    res = CliRunner().invoke(app, ["backtest", str(run), "--costs", "10", "--html", str(html)])
    assert res.exit_code == 0, res.output
    assert "nstep_q" in html.read_text()  # the tear sheet's method row
    res = CliRunner().invoke(app, ["signal", str(run), "--date", "2007-03-01", "--json"])
    assert res.exit_code == 0, res.output
    weights = json.loads(res.stdout)["weights"]
    assert set(weights) == {"SIGNAL"} and 0.0 <= weights["SIGNAL"] <= 1.0
