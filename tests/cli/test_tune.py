"""``tradea3c tune``: the files and the table, one-line errors, the trial count reaching the
backtest's deflated Sharpe, and a search SIGKILLed after its first trial resuming to the same total."""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from tradea3c.cli import app
from tradea3c.experiment import load_strategy

runner = CliRunner()
FAST = ["--set", "a3c.workers=1", "--set", "a3c.tensorboard=false"]


def _space(tmp_path: Path, text: str = '["a3c.lr"]\nlow = 1e-4\nhigh = 3e-3\nlog = true\n') -> Path:
    path = tmp_path / "space.toml"
    path.write_text(text)
    return path


def _rows(out: Path) -> list[dict[str, str]]:
    with open(out / "trials.csv") as f:
        return list(csv.DictReader(f))


def test_tune_writes_best_toml_and_trials_and_the_backtest_counts_them(tmp_path: Path) -> None:
    out = tmp_path / "search"
    args = ["tune", "--strategy", "signal", "--space", str(_space(tmp_path)), "--trials", "2",
            "--steps", "300", "--set", "a3c.eval_every=100", *FAST, "--quiet", "--out", str(out)]  # fmt: skip
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "tune signal: 2 trials" in res.output and "val Sharpe" in res.output
    assert f"wrote {out / 'best.toml'} (tuning.trials = 2)" in res.output
    assert f"optuna-dashboard sqlite:///{(out / 'tune.sqlite').resolve()}" in res.output
    rows = _rows(out)
    assert [(r["trial"], r["state"], r["counted"]) for r in rows] == [
        ("0", "complete", "True"),
        ("1", "complete", "True"),
    ]
    assert all(Path(r["run"], "best.pt").is_file() for r in rows)
    again = runner.invoke(app, args)  # the same command again: the search is done, nothing reruns
    assert again.exit_code == 0, again.output
    assert len(_rows(out)) == 2

    run = tmp_path / "chosen"
    trained = runner.invoke(
        app, ["train", "--strategy", str(out / "best.toml"), "--quiet", "--out", str(run)]
    )
    assert trained.exit_code == 0, trained.output
    report = runner.invoke(app, ["backtest", str(run), "--costs", "0"])
    assert report.exit_code == 0, report.output
    assert "deflated Sharpe (N=2 trials, from the tuning)" in report.output
    given = runner.invoke(app, ["backtest", str(run), "--costs", "0", "--trials", "5"])
    assert "deflated Sharpe (N=5 trials)" in given.output


def test_bad_input_is_one_line(tmp_path: Path) -> None:
    space = _space(tmp_path, '["a3c.lrr"]\nlow = 1e-4\nhigh = 1e-3\n')
    res = runner.invoke(app, ["tune", "--strategy", "signal", "--space", str(space), "--trials", "2"])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        f"error: {space}: [\"a3c.lrr\"]: low 0.0001: unknown key 'a3c.lrr'; did you mean 'lr'?"
    ]
    good = _space(tmp_path)
    for flags, message in (
        (["--trials", "0"], "error: --trials 0: a search runs at least 1 trial"),
        (["--trials", "2", "--timeout", "0"], "error: --timeout 0.0: give seconds > 0"),
        (["--trials", "2", "--steps", "0"], "error: --steps 0: a3c: workers must be >= 0"),
    ):
        res = runner.invoke(
            app, ["tune", "--strategy", "signal", "--space", str(good), *flags, "--out", str(tmp_path / "o")]
        )
        assert res.exit_code == 2 and res.output.startswith(message), res.output
        assert len(res.output.strip().splitlines()) == 1
    assert not (tmp_path / "o").exists()


def test_a_killed_search_resumes_to_the_same_total(tmp_path: Path) -> None:
    """SIGKILL while trial 1 trains (trial 0 finished): the rerun marks trial 1 failed, runs its
    configuration again, and stops at 3 trials in all; the retried one is listed but not counted."""
    out = tmp_path / "search"
    args = ["tune", "--strategy", "signal", "--space", str(_space(tmp_path)), "--trials", "3",
            "--steps", "4000", "--set", "a3c.eval_every=1000", *FAST, "--quiet",
            "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "tradea3c", *args], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        deadline = time.monotonic() + 120
        while not (out / "trials" / "trial-0001").is_dir():
            assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read().decode()[-2000:]  # type: ignore[union-attr]
            time.sleep(0.05)
        assert (out / "trials" / "trial-0000" / "summary.json").is_file()
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stderr.close()  # type: ignore[union-attr]
    assert not (out / "best.toml").exists()
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    rows = {r["trial"]: r for r in _rows(out)}
    assert [r["trial"] for r in rows.values() if r["counted"] == "True"] == ["0", "2", "3"]
    assert rows["1"]["state"] == "fail" and rows["1"]["counted"] == "False"
    assert rows["2"]["a3c.lr"] == rows["1"]["a3c.lr"]  # the killed configuration, run again first
    assert rows["3"]["a3c.lr"] not in (rows["0"]["a3c.lr"], rows["1"]["a3c.lr"])  # then new values
    assert load_strategy(out / "best.toml").tuning.trials == 3  # type: ignore[union-attr]
