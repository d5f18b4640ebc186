"""``tradea3c train``: a complete run directory, one-line errors, and runs under faults and misuse:
resume keeps the run's budget, a SIGKILLed worker is replaced, a SIGKILLed trainer resumes, unsafe run
names, absurd worker counts, failed starts, a full disk at a checkpoint."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import alive, descendants, signal_strategy
from tradea3c.a3c import load_checkpoint, read_checkpoint
from tradea3c.cli import app
from tradea3c.data.synthetic import planted_signal_market
from tradea3c.experiment import StrategyConfig, load_strategy, train_strategy

runner = CliRunner()
SIGNAL = "signal"


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tradea3c", "train", *args]


def test_resume_keeps_the_runs_budget_unless_steps_is_given(tmp_path: Path) -> None:
    """`train --resume` without --steps continues to the budget the run was started with (it used to
    fall back to the default budget), and --resume refuses flags that would change what is learned."""
    strategy, out = signal_strategy(tmp_path), tmp_path / "run"
    first = runner.invoke(app, ["train", "--strategy", str(strategy), "--steps", "1500", "--workers", "1",
                                "--quiet", "--out", str(out)])  # fmt: skip
    assert first.exit_code == 0, first.output
    step = read_checkpoint(out / "latest.pt")["counters"]["global_step"]
    again = runner.invoke(app, ["train", "--resume", "--quiet", "--out", str(out)])
    assert again.exit_code == 0, again.output
    assert read_checkpoint(out / "latest.pt")["counters"]["global_step"] == step  # budget already spent
    assert load_strategy(out / "strategy.toml").a3c.total_steps == 1500
    more = runner.invoke(app, ["train", "--resume", "--steps", "2500", "--quiet", "--out", str(out)])
    assert more.exit_code == 0, more.output
    assert read_checkpoint(out / "latest.pt")["counters"]["global_step"] >= 2500
    same = runner.invoke(app, ["train", "--resume", "--strategy", str(strategy), "--steps", "2500", "--quiet",
                               "--out", str(out)])  # fmt: skip
    assert same.exit_code == 0, same.output  # the same command again, plus --resume: fine
    refused = runner.invoke(app, ["train", "--resume", "--market", "demo", "--set", "a3c.lr=1",
                                  "--out", str(out)])  # fmt: skip
    assert refused.exit_code == 2
    assert refused.output.strip().splitlines() == [
        f"error: --resume would change a3c.lr, market.source of {out} (its strategy.toml holds the run's "
        "settings); resume with the same settings (only --steps, --workers, --backend, --address, "
        "--data-dir may change) or start a new run"
    ]
    log = np.loadtxt(out / "metrics.csv", delimiter=",", skiprows=1, usecols=(0, 1), ndmin=2)
    assert (np.diff(log[:, 1]) >= 0).all()  # the log never repeats a step range
    assert (np.diff(log[:, 0]) >= 0).all()  # and its wall_s goes on over resumes (it restarted at 0)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["elapsed_s"] >= log[-1, 0] > summary["wall_s"]  # the whole run vs the last session


def test_unsafe_run_name_is_refused_before_anything_is_written(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    strategy = tmp_path / "evil.toml"
    strategy.write_text('name = "../../x"\n')
    res = runner.invoke(app, ["train", "--strategy", str(strategy), "--steps", "100"])
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "not a safe run-folder name" in res.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evil.toml"]
    assert not (tmp_path.parent / "x").exists()


def test_absurd_worker_count_is_refused_with_the_memory_it_needs(tmp_path: Path) -> None:
    res = runner.invoke(app, ["train", "--workers", "100000", "--steps", "100", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2, res.output
    (line,) = res.output.strip().splitlines()
    assert line.startswith("error: --workers 100000 needs about") and "use at most" in line
    assert not (tmp_path / "r").exists()


def test_a_failed_start_leaves_no_run_directory(tmp_path: Path, monkeypatch) -> None:
    """A run directory this call created is removed when training fails before its first checkpoint."""
    import tradea3c.experiment.train as train_mod

    def failing_train(*args, **kwargs):  # the engine failing at start-up (e.g. an env that cannot be built)
        raise RuntimeError("engine failed at start-up")

    monkeypatch.setattr(train_mod, "train", failing_train)
    cfg = replace(StrategyConfig(), a3c=replace(StrategyConfig().a3c, total_steps=100, workers=1))
    with pytest.raises(RuntimeError, match="start-up"):
        train_strategy(cfg, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()


@pytest.mark.slow
def test_sigkilled_worker_is_replaced_and_the_run_completes(tmp_path: Path) -> None:
    """SIGKILL one of two worker processes mid-run: one line says so, a new worker takes its place,
    the run finishes its budget and summary.json records the event."""
    out = tmp_path / "run"
    # 60,000 steps outlast the search below on an idle machine (20,000 once finished before it)
    cmd = _cli("--strategy", str(signal_strategy(tmp_path)), "--workers", "2", "--steps", "60000",
               "--quiet", "--out", str(out))  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim, deadline = None, time.monotonic() + 120
    while victim is None and time.monotonic() < deadline and proc.poll() is None:
        if (out / "metrics.csv").exists() and len((out / "metrics.csv").read_text().splitlines()) > 1:
            victim = next((p for p, n in descendants(proc.pid).items() if n == "a3c-worker-1"), None)
        time.sleep(0.1)
    assert victim is not None, f"no live worker a3c-worker-1 (trainer exit code {proc.poll()})"
    os.kill(victim, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert "completed" in stdout
    assert stderr.strip().splitlines() == ["worker 1 died (exit code -9); restarted (1/3)"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["global_step"] >= 60000
    assert summary["backend"]["events"] == ["worker 1 died (exit code -9); restarted (1/3)"]


def test_full_disk_at_a_checkpoint_is_one_line_and_keeps_the_previous_file(
    tmp_path: Path, monkeypatch
) -> None:
    """ENOSPC while writing latest.pt: periodic writes say so and training goes on; the final write
    fails the command with one line; the previous latest.pt is byte-identical (atomic writes)."""
    import errno

    import tradea3c.a3c.checkpoint.format as ckpt

    strategy, out = signal_strategy(tmp_path), tmp_path / "run"
    first = runner.invoke(app, ["train", "--strategy", str(strategy), "--steps", "1000", "--workers", "1",
                                "--quiet", "--out", str(out)])  # fmt: skip
    assert first.exit_code == 0, first.output
    before = (out / "latest.pt").read_bytes()
    real_save = ckpt.torch.save

    def full_disk(obj, f, *args, **kwargs):
        real_save(obj, f, *args, **kwargs)  # a partial temp file exists when the disk fills up
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(ckpt.torch, "save", full_disk)
    res = runner.invoke(app, ["train", "--resume", "--steps", "3000", "--quiet", "--out", str(out)])
    assert res.exit_code == 1
    lines = res.output.strip().splitlines()
    assert lines[-1] == (
        f"error: could not write {out / 'latest.pt'}: No space left on device (ENOSPC); the previous "
        "latest.pt is kept; free disk space, then --resume"
    )
    assert all("training goes on" in line for line in lines[:-1])  # periodic checkpoints, if any
    assert (out / "latest.pt").read_bytes() == before
    assert not list(out.glob(".*.tmp"))  # no half-written temp file left behind


def test_train_cli_writes_a_complete_run_dir(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = runner.invoke(
        app,
        [
            "train",
            "--strategy",
            str(SIGNAL),
            "--steps",
            "1500",
            "--workers",
            "1",
            "--quiet",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "validation (greedy): Sharpe" in res.output
    for name in ("strategy.toml", "latest.pt", "best.pt", "metrics.csv", "summary.json", "config.toml"):
        assert (out / name).is_file(), name
    assert any((out / "tb").iterdir())
    model, a3c, meta = load_checkpoint(out / "latest.pt")
    assert meta["extra"]["market_fingerprint"] == planted_signal_market(2000, seed=0).fingerprint
    assert meta["extra"]["strategy"]["name"] == "signal" and meta["version"]
    assert meta["counters"]["global_step"] >= 1500
    assert load_strategy(out / "strategy.toml").split.train_end is not None  # resolved dates saved


def test_train_cli_one_line_errors(tmp_path: Path) -> None:
    cases = [
        (["train", "--market", "nosuchmarket", "--out", str(tmp_path / "a")], "unknown market"),
        (["train", "--strategy", str(tmp_path / "none.toml")], "not found"),
        (["train", "--resume", "--out", str(tmp_path / "empty")], "nothing to resume"),
        (
            ["train", "--market", "AAPL", "--data-dir", str(tmp_path / "c"), "--out", str(tmp_path / "b")],
            "tradea3c fetch",
        ),
        (
            ["train", "--mode", "ppo", "--out", str(tmp_path / "d")],
            "--mode ppo: a3c.mode: expected 'a3c' or 'a2c'",
        ),
        (["train", "--set", "a3c.lrr=1", "--out", str(tmp_path / "e")], "did you mean 'lr'"),
        (["train", "--set", "a3c.lr=fast", "--out", str(tmp_path / "f")], "a3c.lr"),
    ]
    for args, message in cases:
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert message in res.output and res.output.strip().count("\n") == 0, res.output


@pytest.mark.slow
def test_dow30_portfolio_trains_from_imported_djia_csvs(djia_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert runner.invoke(app, ["fetch", "--from-csv", str(djia_dir), "--data-dir", str(cache)]).exit_code == 0
    res = runner.invoke(
        app,
        [
            "train",
            "--strategy",
            "dow30",
            "--data-dir",
            str(cache),
            "--steps",
            "600",
            "--workers",
            "1",
            "--quiet",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "members not cached" in res.output
    meta = read_checkpoint(tmp_path / "run" / "latest.pt")
    assert meta["extra"]["env"]["kind"] == "portfolio" and len(meta["extra"]["tickers"]) >= 20


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_completes(tmp_path: Path) -> None:
    strategy = signal_strategy(tmp_path, checkpoint_every=2000)
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "tradea3c",
        "train",
        "--strategy",
        str(strategy),
        "--workers",
        "2",
        "--steps",
        "30000",
        "--quiet",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    killed_at = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "latest.pt").is_file():
            try:
                killed_at = read_checkpoint(out / "latest.pt")["counters"]["global_step"]
            except Exception:  # being replaced right now: atomic rename, try again
                killed_at = 0
            if killed_at >= 4000:
                break
        time.sleep(0.2)
    assert proc.poll() is None, proc.stderr.read().decode()
    family = set(descendants(proc.pid))
    assert family, "expected worker processes"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for _ in range(100):  # workers notice the dead trainer and exit on their own
        if not any(alive(p) for p in family):
            break
        time.sleep(0.1)
    assert not any(alive(p) for p in family), "orphan worker processes after SIGKILL"
    for ckpt in out.glob("*.pt"):  # a kill mid-write leaves at most a temp file; real files all load
        read_checkpoint(ckpt)
    before = read_checkpoint(out / "latest.pt")["counters"]["global_step"]
    assert before >= killed_at > 0
    rows_before = (
        len((out / "metrics.csv").read_text().splitlines()) - 1 if (out / "metrics.csv").exists() else 0
    )

    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = read_checkpoint(out / "latest.pt")["counters"]
    assert after["global_step"] >= 30000
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed"
    steps = np.loadtxt(out / "metrics.csv", delimiter=",", skiprows=1, usecols=1, ndmin=1)
    resumed = steps[max(rows_before, 0) :]
    assert len(resumed) and resumed.min() >= before  # counters continue; they never restart from 0
