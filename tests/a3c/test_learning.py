"""Learning proof: A3C (2 Hogwild workers) and A2C solve CartPole-v1 within a fixed step budget.

Pass criterion (from the issue): mean return >= 400 over 20 greedy evaluation episodes. The
evaluator runs every 10k steps in its own process; best.pt keeps the best evaluation, and training
stops early once an evaluation reaches 475 (the budget is the upper bound).
"""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

import pytest

from tradea3c.a3c import A3CConfig, ModelConfig, TrainResult, load_checkpoint, train
from tradea3c.testing.gym_envs import EpisodeReturnEvaluator, GymEnvFactory

EVAL = EpisodeReturnEvaluator("CartPole-v1", episodes=20)


def solved(metrics: dict[str, float]) -> bool:
    return metrics["mean_return"] >= 475.0


CONFIGS = {
    # classic A3C: 2 worker processes, one env each, t_max = 20, fused shared Adam
    "a3c": A3CConfig(
        mode="a3c",
        workers=2,
        # the budget is an upper bound (training stops at 475): Hogwild is racy, and under load
        # (CI) one seed in a few needed more than 200k steps to pass 400
        total_steps=400_000,
        t_max=20,
        lr=1e-3,
        gae_lambda=1.0,
        eval_every=10_000,
        seed=0,
        tensorboard=False,
        model=ModelConfig(hidden=(64, 64)),
    ),
    # synchronous A2C over 4 envs batched in one process
    "a2c": A3CConfig(
        mode="a2c",
        workers=4,
        total_steps=150_000,
        t_max=20,
        lr=1e-3,
        gae_lambda=1.0,
        eval_every=10_000,
        seed=0,
        tensorboard=False,
        model=ModelConfig(hidden=(64, 64)),
    ),
}


def train_cartpole(cfg: A3CConfig, run_dir: Path) -> tuple[TrainResult, float]:
    """Train on CartPole-v1 until an evaluation reaches 475 (or the budget ends); (result, seconds)."""
    t0 = time.monotonic()
    res = train(
        GymEnvFactory("CartPole-v1"),
        cfg,
        run_dir,
        evaluate_fn=EVAL,
        select_metric="mean_return",
        should_stop=solved,
        progress=False,
    )
    return res, time.monotonic() - t0


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["a3c", "a2c"])
def test_cartpole_reaches_400(tmp_path: Path, mode: str) -> None:
    res, wall = train_cartpole(CONFIGS[mode], tmp_path)
    print(
        f"{mode}: best mean return {res.best_metric} at step {res.best_step}, "
        f"stopped at {res.global_step} steps, {wall:.1f} s, {res.steps_per_s:.0f} steps/s"
    )
    assert res.best_metric is not None and res.best_metric >= 400.0, (res.best_metric, res.global_step)
    model, _, meta = load_checkpoint(tmp_path / "best.pt")
    assert meta["metrics"]["mean_return"] == res.best_metric
    assert EVAL(model)["mean_return"] == pytest.approx(res.best_metric)  # greedy + fixed seeds: repeatable


# n-step Q-learning (the paper's Algorithm S2): 2 Hogwild workers, epsilon-greedy with the paper's
# final epsilons, a target network synced every 10k steps; measured: 475 within 30-60k steps
NSTEP_Q = replace(CONFIGS["a3c"], mode="nstep_q", total_steps=300_000, t_max=5)


@pytest.mark.slow
def test_nstep_q_reaches_cartpole_475(tmp_path: Path) -> None:
    res, wall = train_cartpole(NSTEP_Q, tmp_path)
    print(f"nstep_q: best {res.best_metric} at step {res.best_step}, {wall:.1f} s")
    assert res.best_metric is not None and res.best_metric >= 475.0, (res.best_metric, res.global_step)
    model, config, _ = load_checkpoint(tmp_path / "best.pt")
    assert config.mode == "nstep_q"
    assert EVAL(model)["mean_return"] == pytest.approx(res.best_metric)  # greedy on the Q-values
