"""Integration tests of ``tradea3c.a3c.train``: run directory, determinism, resume, failures."""

from __future__ import annotations

import json
import multiprocessing
import time
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from tradea3c.a3c import A3CConfig, ModelConfig, WorkerError, load_checkpoint, read_checkpoint, train
from tradea3c.testing.gym_envs import EpisodeReturnEvaluator, GymEnvFactory

CARTPOLE = GymEnvFactory("CartPole-v1")
SMALL = ModelConfig(hidden=(16,))


def _cfg(**kw: Any) -> A3CConfig:
    base: dict[str, Any] = dict(workers=1, total_steps=2000, t_max=10, seed=3, tensorboard=False, model=SMALL)
    return A3CConfig(**{**base, **kw})


def _weights(path: Path) -> list[torch.Tensor]:
    return list(read_checkpoint(path)["model"].values())


@pytest.mark.parametrize("mode", ["a3c", "a2c"])
def test_single_process_runs_are_bit_reproducible(tmp_path: Path, mode: str) -> None:
    cfg = _cfg(mode=mode, workers=1 if mode == "a3c" else 2)
    r1 = train(CARTPOLE, cfg, tmp_path / "a", progress=False)
    r2 = train(CARTPOLE, cfg, tmp_path / "b", progress=False)
    assert r1.global_step == r2.global_step >= 2000
    assert all(
        torch.equal(a, b)
        for a, b in zip(_weights(r1.latest_checkpoint), _weights(r2.latest_checkpoint), strict=True)
    )
    r3 = train(CARTPOLE, _cfg(mode=mode, seed=4, workers=cfg.workers), tmp_path / "c", progress=False)
    assert not all(
        torch.equal(a, b)
        for a, b in zip(_weights(r1.latest_checkpoint), _weights(r3.latest_checkpoint), strict=True)
    )


def test_hogwild_run_writes_the_run_directory(tmp_path: Path) -> None:
    cfg = _cfg(workers=2, total_steps=4000, eval_every=1000, tensorboard=True)
    res = train(
        CARTPOLE,
        cfg,
        tmp_path,
        evaluate_fn=EpisodeReturnEvaluator("CartPole-v1", episodes=2),
        select_metric="mean_return",
        extra_metadata={"market": "fp123"},
        progress=False,
    )
    assert res.status == "completed" and res.global_step >= 4000 and res.episodes > 0
    names = {p.name for p in tmp_path.iterdir()}
    assert {"config.toml", "latest.pt", "best.pt", "metrics.csv", "eval.csv", "summary.json", "tb"} <= names
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["extra"] == {"market": "fp123"}
    model, config, meta = load_checkpoint(tmp_path / "best.pt")
    assert config == cfg and meta["extra"]["market"] == "fp123" and "mean_return" in meta["metrics"]
    assert res.best_metric == max(
        float(x)
        for x in np.genfromtxt(tmp_path / "eval.csv", delimiter=",", names=True)["mean_return"].ravel()
    )
    assert multiprocessing.active_children() == []


def test_resume_continues_counters_and_optimizer(tmp_path: Path) -> None:
    first = train(CARTPOLE, _cfg(total_steps=1000), tmp_path, progress=False)
    ck1 = read_checkpoint(first.latest_checkpoint)
    adam_step = float(ck1["optimizer"]["state"][0]["step"])
    second = train(CARTPOLE, _cfg(total_steps=2000), tmp_path, resume=True, progress=False)
    ck2 = read_checkpoint(second.latest_checkpoint)
    assert second.global_step >= 2000 and ck2["counters"]["epoch"] == 1
    assert ck2["counters"]["episodes"] > ck1["counters"]["episodes"]
    assert float(ck2["optimizer"]["state"][0]["step"]) == pytest.approx(adam_step * 2, abs=2)
    assert len((tmp_path / "metrics.csv").read_text().splitlines()) > 2  # appended, one header


class _ExplodingEnv(gym.Wrapper[Any, Any, Any, Any]):
    def __init__(self, exc: type[BaseException], after: int) -> None:
        super().__init__(gym.make("CartPole-v1"))
        self.exc, self.after, self.n = exc, after, 0

    def step(self, action: Any) -> Any:
        self.n += 1
        if self.n > self.after:
            raise self.exc("boom from the env")
        return self.env.step(action)


def exploding_factory(worker_index: int) -> Any:
    return _ExplodingEnv(RuntimeError, after=300) if worker_index == 1 else gym.make("CartPole-v1")


def test_failing_worker_stops_training_with_clear_error(tmp_path: Path) -> None:
    t0 = time.monotonic()
    with pytest.raises(WorkerError) as err:
        train(exploding_factory, _cfg(workers=2, total_steps=10**7), tmp_path, progress=False)
    first, _, traceback = str(err.value).partition("\n")
    assert first.startswith("A3C worker 1 failed (RuntimeError: boom from the env); training stopped.")
    assert "latest.pt saved at step" in first and str(tmp_path / "worker-error.txt") in first
    assert "Traceback" in traceback and "boom from the env" in (tmp_path / "worker-error.txt").read_text()
    assert read_checkpoint(tmp_path / "latest.pt")["counters"]["global_step"] > 0
    assert time.monotonic() - t0 < 30  # includes process start-up on a loaded 2-core machine
    assert multiprocessing.active_children() == []
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "failed"


def interrupting_factory(worker_index: int) -> Any:
    return _ExplodingEnv(KeyboardInterrupt, after=500)


def test_ctrl_c_saves_a_checkpoint_and_returns(tmp_path: Path) -> None:
    res = train(interrupting_factory, _cfg(total_steps=10**6), tmp_path, progress=False)
    assert res.status == "interrupted" and res.latest_checkpoint.is_file()
    assert read_checkpoint(res.latest_checkpoint)["counters"]["global_step"] >= 400


class WeightsEnv(gym.Env[np.ndarray, np.ndarray]):
    """Toy portfolio-like env: reward = weights . obs; 8 steps per episode."""

    observation_space = gym.spaces.Box(-1.0, 1.0, (3,), np.float32)
    action_space = gym.spaces.Box(0.0, 1.0, (3,), np.float32)

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.t = 0
        self.obs = self.np_random.uniform(-1, 1, 3).astype(np.float32)
        return self.obs, {}

    def step(self, action: np.ndarray) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        assert np.all(action >= 0) and abs(float(np.sum(action)) - 1) < 1e-4
        reward = float(np.dot(action, self.obs))
        self.t += 1
        self.obs = self.np_random.uniform(-1, 1, 3).astype(np.float32)
        return self.obs, reward, False, self.t >= 8, {}


def weights_vector_factory(worker_index: int) -> Any:
    return gym.vector.SyncVectorEnv([WeightsEnv] * 2, autoreset_mode=gym.vector.AutoresetMode.SAME_STEP)


@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_simplex_policy_and_lstm_through_the_engine(tmp_path: Path, kind: str) -> None:
    cfg = _cfg(
        mode="a2c", workers=2, total_steps=1500, model=ModelConfig(kind=kind, hidden=(8,), lstm_size=8)
    )
    res = train(weights_vector_factory, cfg, tmp_path, progress=False)
    assert res.episodes > 0 and np.isfinite(res.mean_return)
    model, _, _ = load_checkpoint(res.latest_checkpoint)
    assert model.recurrent == (kind == "lstm")


# ---------------------------------------------------------------- issue 25: the best score lives with best.pt
class ConstantScore:
    """An evaluate_fn (picklable: it runs in the evaluator process) that always scores ``value``."""

    def __init__(self, value: float) -> None:
        self.value = value

    def __call__(self, model: Any) -> dict[str, float]:
        return {"score": self.value}


def test_resume_reads_the_best_score_from_best_pt_not_a_stale_latest(tmp_path: Path) -> None:
    from tradea3c.a3c.checkpoint.format import write_payload

    cfg = _cfg(total_steps=600, eval_every=300)
    train(CARTPOLE, cfg, tmp_path, evaluate_fn=ConstantScore(5.0), progress=False)
    assert read_checkpoint(tmp_path / "best.pt")["metrics"]["score"] == 5.0
    latest = read_checkpoint(tmp_path / "latest.pt")  # a crash after best.pt, before latest.pt caught up:
    latest["counters"]["best_metric"] = 1.0
    write_payload(tmp_path / "latest.pt", latest)
    res = train(
        CARTPOLE,
        _cfg(total_steps=1200, eval_every=300),
        tmp_path,
        evaluate_fn=ConstantScore(3.0),
        resume=True,
        progress=False,
    )
    assert read_checkpoint(tmp_path / "best.pt")["metrics"]["score"] == 5.0  # 3 < 5: not replaced
    assert res.best_metric == 5.0


# ---------------------------------------------------------------- issue 25: non-finite training
class _NanRewardEnv(gym.Wrapper[Any, Any, Any, Any]):
    """CartPole whose rewards turn nan after ``after`` steps (a broken feature, a division by zero)."""

    def __init__(self, after: int) -> None:
        super().__init__(gym.make("CartPole-v1"))
        self.after, self.n = after, 0

    def step(self, action: Any) -> Any:
        self.n += 1
        obs, reward, terminated, truncated, info = self.env.step(action)
        return obs, float("nan") if self.n > self.after else reward, terminated, truncated, info


def nan_reward_factory(worker_index: int) -> Any:
    return _NanRewardEnv(after=1500)


def _finite(path: Path) -> bool:
    return all(bool(torch.isfinite(t).all()) for t in _weights(path))


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "worker processes"])
def test_a_nan_loss_stops_the_run_and_keeps_finite_weights(tmp_path: Path, workers: int) -> None:
    """A nan reward makes the loss nan: the run stops with one line before the optimiser steps on
    it, and latest.pt holds finite weights (never the nan ones)."""
    with pytest.raises(WorkerError) as err:
        train(nan_reward_factory, _cfg(workers=workers, total_steps=8000), tmp_path, progress=False)
    (line,) = str(err.value).splitlines()
    step = read_checkpoint(tmp_path / "latest.pt")["counters"]["global_step"]
    assert line.startswith("the loss became non-finite (nan) at step ")
    assert f"training stopped. latest.pt holds the last finite weights (step {step:,}); lower a3c.lr" in line
    assert _finite(tmp_path / "latest.pt") and step > 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["status"] == "failed" and summary["error"] == line
    assert multiprocessing.active_children() == []


def test_non_finite_weights_never_overwrite_latest_or_best(tmp_path: Path, monkeypatch) -> None:
    """Weights that became nan (here: poisoned in the in-process worker after 1,500 steps) are never
    written: latest.pt and best.pt keep the last finite weights and the run stops with one line."""
    import tradea3c.a3c.backends.inprocess as inprocess

    class PoisonedWorker(inprocess.Worker):
        def update(self, stats: Any) -> int:
            step = super().update(stats)
            if step >= 1500:
                with torch.no_grad():
                    next(self.shared.parameters()).fill_(float("nan"))
            return step

    monkeypatch.setattr(inprocess, "Worker", PoisonedWorker)
    cfg = _cfg(total_steps=8000, checkpoint_every=500, eval_every=500)
    with pytest.raises(WorkerError) as err:
        train(CARTPOLE, cfg, tmp_path, evaluate_fn=EpisodeReturnEvaluator("CartPole-v1", episodes=1),
              select_metric="mean_return", progress=False)  # fmt: skip
    (line,) = str(err.value).splitlines()
    step = read_checkpoint(tmp_path / "latest.pt")["counters"]["global_step"]
    assert line.startswith("the ") and "became non-finite" in line and "training stopped." in line
    assert f"latest.pt holds the last finite weights (step {step:,})" in line
    assert 500 <= step < 1500 + 10 and _finite(tmp_path / "latest.pt") and _finite(tmp_path / "best.pt")
    assert json.loads((tmp_path / "summary.json").read_text())["status"] == "failed"


def test_a_dead_peers_resource_sharer_traceback_is_silenced_and_others_are_not(capsys) -> None:
    """A child SIGKILLed while receiving a shared tensor makes multiprocessing's resource-sharer
    thread call sys.excepthook with ConnectionResetError (CI saw it after a killed evaluator's one
    line); that one is dropped, any other exception is still printed."""
    import sys

    from tradea3c.a3c.trainer import quiet_dead_peers

    def raised(code: str, filename: str) -> tuple[Any, BaseException, Any]:
        try:
            exec(compile(code, filename, "exec"))
        except BaseException as exc:  # noqa: BLE001 - the point is to capture it
            return type(exc), exc, exc.__traceback__
        raise AssertionError("no exception")

    with quiet_dead_peers():
        sys.excepthook(*raised("raise ConnectionResetError(104, 'reset by peer')", "/py/resource_sharer.py"))
        assert capsys.readouterr().err == ""
        sys.excepthook(*raised("raise ConnectionResetError(104, 'elsewhere')", "/py/mine.py"))
        assert "elsewhere" in capsys.readouterr().err
        sys.excepthook(*raised("raise ValueError('a bug')", "/py/resource_sharer.py"))
        assert "a bug" in capsys.readouterr().err
    assert sys.excepthook is sys.__excepthook__ or "quiet_dead_peers" not in repr(sys.excepthook)
