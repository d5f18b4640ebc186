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
            "--mode ppo: a3c.mode: expected 'a3c', 'a2c', 'nstep_q', 'onestep_q' or 'onestep_sarsa'",
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


# ---------------------------------------------------------------- issue 25: SIGTERM and a dead evaluator
# (real processes: the CLI in a subprocess of its own session, signals sent as `timeout`, docker stop
# or SLURM would send them)
def _start(out: Path, *args: str, extra: str = "log_every_s = 0.2\n") -> subprocess.Popen[str]:
    """`tradea3c train` on the planted-signal strategy (no periodic checkpoint) in its own session."""
    strategy = signal_strategy(out.parent, extra=extra, checkpoint_every=10**9)
    cmd = _cli("--strategy", str(strategy), "--quiet", "--out", str(out), *args)
    return subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )


def _wait_until_training(proc: subprocess.Popen[str], out: Path, name: str | None = None) -> int | None:
    """Wait until metrics.csv has a row (and, with ``name``, a live descendant of that name: its pid)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        rows = (out / "metrics.csv").read_text().splitlines() if (out / "metrics.csv").exists() else []
        if len(rows) > 1 and rows[-1].count(",") > 2 and int(rows[-1].split(",")[1]) > 0:  # steps were done
            if name is None:
                return None
            pid = next((p for p, n in descendants(proc.pid).items() if n == name), None)
            if pid is not None:
                return pid
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"training did not start (exit code {proc.poll()}): {proc.communicate()[1][-2000:]}")


@pytest.mark.parametrize("workers", ["1", "2"], ids=["in-process", "worker processes"])
def test_sigterm_to_the_process_group_saves_a_checkpoint_and_resumes(tmp_path: Path, workers: str) -> None:
    """SIGTERM (to the whole process group, as `timeout` sends it) is Ctrl-C: latest.pt and
    summary.json are written, status "interrupted" by SIGTERM, exit code 143, no traceback from the
    trainer or its workers; --resume continues from there."""
    out = tmp_path / "run"
    proc = _start(out, "--workers", workers, "--steps", "10000000")
    _wait_until_training(proc, out)
    os.killpg(proc.pid, signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert stderr.strip() == "", stderr
    assert f"run {out}: interrupted" in stdout
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "interrupted" and summary["signal"] == "SIGTERM"
    step = read_checkpoint(out / "latest.pt")["counters"]["global_step"]
    assert step == summary["global_step"] > 0
    again = subprocess.run(_cli("--resume", "--steps", str(step + 500), "--quiet", "--out", str(out)),
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert again.returncode == 0, again.stderr
    counters = read_checkpoint(out / "latest.pt")["counters"]
    assert counters["epoch"] == 1 and counters["global_step"] >= step + 500


def test_sigterm_stops_a_study_which_then_resumes(tmp_path: Path) -> None:
    """A SIGTERM'd study stops like Ctrl-C (one line, exit code 143, the run in flight keeps its
    latest.pt) and the same command resumes it: the interrupted run continues, it is not retrained."""
    strategy = signal_strategy(tmp_path, extra="log_every_s = 0.2\nworkers = 1\n", checkpoint_every=10**9)
    out = tmp_path / "study"
    cmd = [sys.executable, "-m", "tradea3c", "study", "--strategy", str(strategy), "--market", "signal",
           "--seeds", "0", "--steps", "12000", "--costs", "0", "--quiet", "--out", str(out)]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if any(len(p.read_text().splitlines()) > 1 for p in out.glob("runs/*/metrics.csv")):
            break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGTERM)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 143, stderr
    assert stderr.strip().splitlines() == [
        "error: the study was interrupted (SIGTERM); run the same command again to resume it"
    ]
    (run,) = out.glob("runs/*")
    assert json.loads((run / "summary.json").read_text())["status"] == "interrupted"
    stopped_at = read_checkpoint(run / "latest.pt")["counters"]["global_step"]
    assert 0 < stopped_at < 12000
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert (out / "study.json").is_file()
    counters = read_checkpoint(run / "latest.pt")["counters"]
    assert counters["epoch"] == 1 and counters["global_step"] >= 12000  # resumed, not trained again


def test_a_killed_evaluator_is_restarted_and_the_run_completes(tmp_path: Path) -> None:
    """SIGKILL the evaluator before the first latest.pt: one line says so, a new evaluator takes
    over, the run completes with its evaluations and summary.json records the event."""
    out = tmp_path / "run"
    proc = _start(out, "--workers", "1", "--steps", "20000", "--set", "a3c.eval_every=2000")
    victim = _wait_until_training(proc, out, "a3c-evaluator")
    assert not (out / "latest.pt").exists()
    os.kill(victim, signal.SIGKILL)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    assert stderr.strip().splitlines() == ["evaluator died (exit code -9); restarted (1/3)"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["global_step"] >= 20000
    assert summary["backend"]["events"] == ["evaluator died (exit code -9); restarted (1/3)"]
    assert "validation (greedy)" in stdout
    evaluated = np.loadtxt(out / "eval.csv", delimiter=",", skiprows=1, usecols=1, ndmin=1)
    assert evaluated.max() >= 20000  # the new evaluator went on to the final evaluation


@pytest.mark.parametrize("when", ["before", "after"], ids=["before latest.pt", "after latest.pt"])
def test_an_evaluator_dead_past_its_restarts_stops_the_run_with_a_resumable_checkpoint(
    tmp_path: Path, when: str
) -> None:
    """No restarts left: the run stops with one line, latest.pt saved from the shared weights (also when
    the evaluator dies before the first checkpoint: the run folder stays), summary.json says how to go
    on, and --resume does."""
    out = tmp_path / "run"
    every = "1000" if when == "after" else "1000000000"
    proc = _start(out, "--workers", "2", "--steps", "10000000", "--set", "a3c.worker_restarts=0",
                  "--set", "a3c.eval_every=1000", "--set", f"a3c.checkpoint_every={every}")  # fmt: skip
    victim = _wait_until_training(proc, out, "a3c-evaluator")
    if when == "after":
        deadline = time.monotonic() + 60
        while not (out / "latest.pt").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert (out / "latest.pt").exists()
    os.kill(victim, signal.SIGKILL)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 1, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    line = lines[0]
    step = read_checkpoint(out / "latest.pt")["counters"]["global_step"]
    assert line == (
        f"error: the evaluator died (exit code -9); training stopped. latest.pt saved at step {step:,}: "
        "continue with --resume"
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "failed" and "--resume" in summary["error"]
    again = subprocess.run(_cli("--resume", "--steps", str(step + 500), "--quiet", "--out", str(out)),
                           capture_output=True, text=True, timeout=120)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert read_checkpoint(out / "latest.pt")["counters"]["global_step"] >= step + 500


# ---------------------------------------------------------------- issue 25: run folders (locks, refusals)
def _one_error(output: str) -> str:
    (line,) = output.strip().splitlines()
    assert line.startswith("error: ") and "Traceback" not in output
    return line


def test_train_into_an_existing_run_is_refused_and_keeps_every_byte(tmp_path: Path) -> None:
    strategy, out = signal_strategy(tmp_path), tmp_path / "run"
    args = [
        "train",
        "--strategy",
        str(strategy),
        "--steps",
        "600",
        "--workers",
        "1",
        "--quiet",
        "--out",
        str(out),
    ]
    assert runner.invoke(app, args).exit_code == 0
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    again = runner.invoke(app, args)
    assert again.exit_code == 2
    assert "already holds a run" in _one_error(again.output) and "--overwrite" in again.output
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
    both = runner.invoke(app, [*args, "--resume", "--overwrite"])
    assert both.exit_code == 2 and "contradict" in _one_error(both.output)
    replaced = runner.invoke(app, [*args, "--overwrite"])
    assert replaced.exit_code == 0, replaced.output


def test_a_second_training_into_a_busy_folder_names_the_holders_pid(tmp_path: Path) -> None:
    """Two real processes: the first trains (and holds the folder), the second is turned away in one
    line naming the first's PID (with --resume, --overwrite or neither); after the first is killed,
    the folder is free again at once (the OS released the lock with the killed holder)."""
    strategy, out = signal_strategy(tmp_path), tmp_path / "run"
    first = subprocess.Popen(
        _cli("--strategy", str(strategy), "--steps", "10000000", "--workers", "1", "--quiet",
             "--out", str(out)),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (out / "latest.pt").exists() and time.monotonic() < deadline and first.poll() is None:
            time.sleep(0.2)
        assert (out / "latest.pt").exists(), first.poll()
        for extra in ([], ["--overwrite"], ["--resume"]):
            second = subprocess.run(
                _cli("--strategy", str(strategy), "--steps", "100", "--quiet", "--out", str(out), *extra),
                capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert second.returncode == 2, second.stderr
            line = _one_error(second.stderr)
            assert f"{out} is in use by PID {first.pid} (training)" in line, (extra, line)
    finally:
        first.kill()
        first.wait(timeout=60)
    from tradea3c.locks import check_free

    check_free(out, "training", "")  # the OS released the lock with the killed holder: free at once


def test_out_naming_a_file_or_below_one_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    for out in (tmp_path / "notes.txt", tmp_path / "notes.txt" / "run"):
        res = runner.invoke(app, ["train", "--steps", "100", "--quiet", "--out", str(out)])
        assert res.exit_code == 2 and "is a file, not a folder" in _one_error(res.output)
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_out_in_a_read_only_folder_is_one_line(tmp_path: Path) -> None:
    locked = tmp_path / "ro"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        res = runner.invoke(app, ["train", "--steps", "100", "--quiet", "--out", str(locked / "run")])
        assert res.exit_code == 2 and "is not writable" in _one_error(res.output)
    finally:
        locked.chmod(0o755)


def test_zero_workers_and_a_refused_market_leave_nothing_behind(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    res = runner.invoke(app, ["train", "--workers", "0", "--steps", "100"])
    assert res.exit_code == 2 and "--workers must be >= 1" in _one_error(res.output)
    args = ["train", "--strategy", "signal", "--market", "ZZZZ", "--data-dir", "c", "--steps", "9"]
    res = runner.invoke(app, args)
    assert res.exit_code == 2 and "ZZZZ" in _one_error(res.output)
    assert not (tmp_path / "runs").exists()  # the default run folder (and runs/) made for it are gone
