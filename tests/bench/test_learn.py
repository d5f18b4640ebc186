"""`tradea3c bench learn`: the runs stop where they should and the table says what happened (not
the timings). Bars here are set so low (or high) that the first evaluation decides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tradea3c.bench.learn import (
    LearnRow,
    default_vs_sb3,
    parse_arm,
    parse_arms,
    run_sb3,
    summarize,
    task_setup,
)

FIELDS = {"task", "arm", "seed", "reached", "seconds", "steps", "best", "quality", "cap", "stop", "wall_s"}


def test_arm_specs_parse_and_refuse_what_does_not_apply() -> None:
    arm = parse_arm("default:k=16,t_max=5,lr=1e-3,mode=a2c,steps=1e6")
    assert (arm.envs_per_worker, arm.t_max, arm.lr, arm.mode, arm.steps) == (16, 5, 1e-3, "a2c", 10**6)
    assert parse_arm("sb3-ppo:envs=8").sb3_envs == 8 and parse_arm("sb3-ppo").algo == "PPO"
    for bad in ("nope", "sb3-a2c:k=4", "default:envs=2", "default:mode=x"):
        with pytest.raises(ValueError):
            parse_arm(bad)
    assert parse_arm("default").envs_per_worker is None  # the strategy's K, as shipped
    paper = parse_arms("paper,default:k=4;mode=onestep_q")
    assert [(a.mode, a.envs_per_worker) for a in paper] == [
        ("a3c", 1),
        ("nstep_q", 1),
        ("onestep_q", 1),
        ("onestep_sarsa", 1),
        ("onestep_q", 4),
    ]


def row(arm: str, seconds: float, reached: bool, steps: int = 1000) -> LearnRow:
    stop = "reached" if reached else "cap"
    return LearnRow("t", arm, 0, reached, seconds, steps, 0.0, 1.0, 100.0, stop, seconds, 0.0, 1, 2, "1")


def test_misses_count_as_the_cap_and_make_the_median_a_lower_bound() -> None:
    rows = [row("default", 10, True), row("default", 20, True), row("default", 40, False)]
    rows += [row("sb3-a2c", 30, True), row("sb3-a2c", 50, False), row("sb3-a2c", 70, False)]
    rows += [row("sb3-ppo", 40, True), row("sb3-ppo", 60, True), row("sb3-ppo", 80, True)]
    ours, a2c, ppo = summarize(rows)
    assert (ours.reached, ours.median_s, ours.max_s, ours.lower_bound) == (2, 20, 100, False)
    assert (a2c.reached, a2c.median_s, a2c.lower_bound) == (1, 100, True)  # 2 of 3 missed: >= cap
    assert not ppo.lower_bound
    assert default_vs_sb3([ours, a2c, ppo], "t") == "0.33x sb3-ppo"  # the better SB3 arm: exact beats bound
    assert default_vs_sb3([summarize([row("default", 40, False)])[0], a2c], "t").startswith("n/a")
    assert default_vs_sb3([ours, a2c], "t") == "<= 0.20x sb3-a2c"


def test_sb3_callback_stops_at_the_quality() -> None:
    setup = task_setup("cartpole")
    r = run_sb3(setup, parse_arm("sb3-a2c"), 0, quality=1.0, cap=60, eval_every=200, n_envs=2, threads=1)
    assert r.reached and r.stop == "reached" and r.evals == 1  # untrained, it balances > 1 step
    assert 200 <= r.steps < 220 and r.best >= 1.0 and r.seconds <= r.wall_s


def test_a_run_that_misses_is_reported_as_not_reached() -> None:
    setup = task_setup("cartpole")
    r = run_sb3(setup, parse_arm("sb3-a2c"), 0, quality=1e9, cap=1.0, eval_every=300, n_envs=1, threads=1)
    assert not r.reached and r.stop == "cap" and r.wall_s >= 1.0 and r.best < 1e9  # the clock or 2x in wall
    (s,) = summarize([r])
    assert s.lower_bound and s.median_s == 1.0


def cli(*args: str):
    from typer.testing import CliRunner

    from tradea3c.cli import app

    res = CliRunner().invoke(app, ["bench", "learn", "--seeds", "1", "--eval-every", "300", *args])
    assert res.exit_code == 0, res.output
    return res


@pytest.mark.slow  # ~10 s idle (two forkserver start-ups, SB3 into a 3 s cap), 30 s beside a benchmark
def test_bench_learn_runs_end_to_end_and_writes_rows(tmp_path: Path) -> None:
    """Both tasks through the CLI, ours in-process (tiny budget) and SB3: one bar so low that the
    first evaluation reaches it, one so high that ours runs out of budget and SB3 into the cap."""
    out = tmp_path / "rows.json"
    res = cli("--tasks", "signal,cartpole", "--cap", "3", "--arms", "default:workers=1;k=1;steps=600,sb3-a2c",
              "--quality", "signal=-100", "--quality", "cartpole=1e9", "--json", str(out))  # fmt: skip
    assert "seconds to fraction of the oracle" in res.stdout and "our default / better SB3" in res.stdout
    rows = json.loads(out.read_text())["rows"]
    assert len(rows) == 4 and all(FIELDS <= set(r) for r in rows)
    signal = [r for r in rows if r["task"] == "signal"]
    assert all(r["reached"] and r["stop"] == "reached" and r["steps"] == 300 for r in signal)
    cartpole = {r["arm"]: r for r in rows if r["task"] == "cartpole"}
    assert cartpole["default:workers=1,k=1,steps=600"]["stop"] == "budget"  # ours: total_steps ran out first
    assert cartpole["sb3-a2c"]["stop"] == "cap" and not any(r["reached"] for r in cartpole.values())
    assert ">= 3.0" in res.stdout  # the misses: medians at the cap, as lower bounds


@pytest.mark.slow
def test_hogwild_arm_stops_at_the_quality(tmp_path: Path) -> None:
    """The default arm and an n-step Q arm as they run (2 Hogwild worker processes + the evaluator)
    stop at the bar."""
    out = tmp_path / "rows.json"
    cli("--tasks", "signal", "--cap", "60", "--arms", "default:steps=20000,nstep_q:steps=20000",
        "--quality", "signal=-100", "--json", str(out))  # fmt: skip
    rows = json.loads(out.read_text())["rows"]
    assert [r["arm"] for r in rows] == ["default:steps=20000", "nstep_q:steps=20000"]
    assert [r["envs"] for r in rows] == [32, 2]  # K = 16 as shipped; the paper's one env per worker
    assert all(r["reached"] and r["steps"] < 20_000 and r["evals"] >= 1 for r in rows)
