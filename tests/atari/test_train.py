"""Atari smoke run: a few thousand Pong frames on 2 workers through the CLI (run dir, checkpoint,
resume, eval, benchmark table). Marked slow; about 30-40 s on 2 cores."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from tradea3c.cli import app

pytestmark = pytest.mark.atari  # every test here runs ale-py games

runner = CliRunner()


@pytest.mark.slow
def test_pong_smoke_train_resume_eval_benchmark(tmp_path):
    run = tmp_path / "pong"
    common = ["--game", "Pong", "--workers", "2", "--preset", "fast", "--envs-per-worker", "2", "--quiet"]
    small_eval = ["--eval-every", "2000", "--eval-episodes", "1", "--eval-max-frames", "800"]
    res = runner.invoke(app, ["atari", "train", *common, *small_eval, "--frames", "3000", "--out", str(run)])
    assert res.exit_code == 0, res.output
    for name in ("config.toml", "latest.pt", "best.pt", "metrics.csv", "eval.csv", "summary.json"):
        assert (run / name).is_file(), name
    assert (run / "tb").is_dir()
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["global_step"] * 4 >= 3000
    assert summary["extra"]["game"] == "Pong" and summary["extra"]["kind"] == "atari"
    first = summary["global_step"]

    from tradea3c.a3c import load_checkpoint
    from tradea3c.atari import AtariActorCritic

    loaded = load_checkpoint(run / "latest.pt")
    assert isinstance(loaded.model, AtariActorCritic) and loaded.metadata["extra"]["game"] == "Pong"

    res = runner.invoke(
        app, ["atari", "train", *common, *small_eval, "--frames", "6000", "--out", str(run), "--resume"]
    )
    assert res.exit_code == 0, res.output
    resumed = json.loads((run / "summary.json").read_text())
    assert resumed["global_step"] > first and resumed["global_step"] * 4 >= 6000

    res = runner.invoke(
        app, ["atari", "eval", str(run / "best.pt"), "--episodes", "2", "--max-frames", "2000", "--json"]
    )
    assert res.exit_code == 0, res.output
    ev = json.loads(res.output)
    assert ev["game"] == "Pong" and len(ev["scores"]) == 2
    assert -21 <= ev["min"] <= ev["score"] <= ev["max"] <= 21 and ev["median"] is not None
    assert 0 < ev["entropy"] <= ev["uniform_entropy"] + 1e-6  # a barely trained policy: near ln(6)

    out = tmp_path / "bench"
    res = runner.invoke(
        app,
        [
            "atari",
            "benchmark",
            "--games",
            "Pong",
            "--frames",
            "2000",
            "--out",
            str(out),
            "--workers",
            "2",
            "--envs-per-worker",
            "2",
            "--eval-episodes",
            "1",
            "--eval-every",
            "0",
            "--quiet",
        ],
    )
    assert res.exit_code == 0, res.output
    md = (out / "benchmark.md").read_text().splitlines()
    assert md[0].startswith("| Game | Frames |") and md[2].startswith("| Pong |")
    table = json.loads((out / "benchmark.json").read_text())
    row = table["games"][0]
    assert row["game"] == "Pong" and row["random"] == -20.7 and row["a3c_paper"] == 11.4
    assert row["human_normalized"] == pytest.approx((row["score"] + 20.7) / 30.0)
    assert (out / "Pong_learning_curve.png").stat().st_size > 1000
    args = ["atari", "benchmark", "--games", "Pong", "--frames", "2000", "--out", str(out), "--quiet"]
    again = runner.invoke(app, args)
    assert again.exit_code == 2 and "pass --resume" in again.output  # an existing run is not overwritten
    (out / "benchmark.json").unlink()  # --resume rewrites the table from the finished games' cache
    resumed = runner.invoke(app, [*args, "--resume"])
    assert resumed.exit_code == 0 and "[Pong] finished earlier" in resumed.output, resumed.output
    assert json.loads((out / "benchmark.json").read_text())["games"][0]["score"] == row["score"]


@pytest.mark.slow
def test_pong_value_based_smoke_run_is_evaluated_greedily(tmp_path):
    """n-step Q on the Atari CNN through the CLI: it trains, records its mode, and `atari eval`
    takes the argmax of its Q-values unless told to sample."""
    run = tmp_path / "pong-q"
    args = ["atari", "train", "--game", "Pong", "--workers", "2", "--preset", "fast"]
    args += ["--envs-per-worker", "2"]
    args += ["--eval-every", "0", "--eval-episodes", "1", "--eval-max-frames", "400", "--frames", "2400"]
    args += ["--set", "a3c.mode=nstep_q", "--set", "a3c.target_sync=100", "--out", str(run), "--quiet"]
    res = runner.invoke(app, args)
    assert res.exit_code == 0, res.output
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["extra"]["mode"] == "nstep_q"
    res = runner.invoke(app, ["atari", "eval", str(run), "--episodes", "1", "--max-frames", "400", "--json"])
    assert res.exit_code == 0, res.output
    ev = json.loads(res.output)
    assert ev["greedy"] is True and -21 <= ev["score"] <= 21
    res = runner.invoke(
        app, ["atari", "eval", str(run), "--sample", "--episodes", "1", "--max-frames", "400", "--json"]
    )
    assert res.exit_code == 0 and json.loads(res.output)["greedy"] is False, res.output


@pytest.mark.slow
def test_bench_atari_table():
    res = runner.invoke(
        app,
        ["bench", "atari", "--env-steps", "400", "--train-steps", "1500", "--num-envs", "4", "--no-paper"],
    )
    assert res.exit_code == 0, res.output
    for label in ("gym NoFrameskip", "AtariVectorEnv, 1 thread", "AtariVectorEnv, 2 thread", "A3C train"):
        assert label in res.output, res.output
    assert "frames/s" in res.output
