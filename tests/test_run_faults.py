"""Training runs under faults and misuse (issue 15): resume keeps the run's budget, a SIGKILLed worker
is replaced, unsafe run names, absurd worker counts, failed starts and resumed logs."""

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

from tradea3c.a3c import read_checkpoint
from tradea3c.cli import app
from tradea3c.experiment import StrategyConfig, load_strategy, train_strategy
from tradea3c.resources import shipped_dir

runner = CliRunner()


def _signal_strategy(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "s.toml"
    text = shipped_dir().joinpath("signal.toml").read_text()
    path.write_text(text.replace("[a3c]\n", f"[a3c]\ncheckpoint_every = 1000\ntensorboard = false\n{extra}"))
    return path


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "tradea3c", "train", *args]


def _descendants(pid: int) -> dict[int, str]:
    """Live descendants of ``pid`` with their OS process names (from /proc)."""
    children: dict[int, list[int]] = {}
    names: dict[int, str] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            head, tail = stat.read_text().rsplit(")", 1)
            fields = tail.split()
        except OSError:
            continue
        if fields[0] == "Z":
            continue
        child = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(child)
        names[child] = head.split("(", 1)[1]
    out, todo = {}, [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out[c] = names[c]
            todo.append(c)
    return out


def test_resume_keeps_the_runs_budget_unless_steps_is_given(tmp_path: Path) -> None:
    """`train --resume` without --steps continues to the budget the run was started with (it used to
    fall back to the default budget), and --resume refuses flags that would change what is learned."""
    strategy, out = _signal_strategy(tmp_path), tmp_path / "run"
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
    cmd = _cli("--strategy", str(_signal_strategy(tmp_path)), "--workers", "2", "--steps", "60000",
               "--quiet", "--out", str(out))  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    victim, deadline = None, time.monotonic() + 120
    while victim is None and time.monotonic() < deadline and proc.poll() is None:
        if (out / "metrics.csv").exists() and len((out / "metrics.csv").read_text().splitlines()) > 1:
            victim = next((p for p, n in _descendants(proc.pid).items() if n == "a3c-worker-1"), None)
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

    strategy, out = _signal_strategy(tmp_path), tmp_path / "run"
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
