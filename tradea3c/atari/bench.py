"""`tradea3c bench atari`: agent-steps/s and frames/s of Atari training next to raw env stepping.

Rows (all in this process or its workers, on whatever cores are free):

* raw env stepping with uniformly random actions: the Gymnasium preprocessing stack (one env, one
  core) and ale-py's native ``AtariVectorEnv`` (K envs, 1 and 2 threads);
* training: the generic A3C engine with the paper CNN, ``fast`` preset (K envs per worker, Adam)
  and ``paper`` preset (1 env per worker, shared RMSProp), ``workers`` processes. Throughput is taken
  from the run's ``metrics.csv`` after a warm-up (process start-up excluded) and over the whole run.

One agent step = 4 emulator frames (frame skip 4).
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tradea3c.atari.envs import FRAME_SKIP, make_atari_env, make_vector_env


@dataclass
class AtariBenchRow:
    name: str
    envs: int
    steps: int
    wall_s: float
    steps_per_s: float  # agent steps / s, whole run
    steady_steps_per_s: float  # after warm-up (training rows) or same as steps_per_s

    @property
    def frames_per_s(self) -> float:
        return self.steady_steps_per_s * FRAME_SKIP


def bench_gym_env(game: str, steps: int, seed: int = 0) -> AtariBenchRow:
    env = make_atari_env(game, training=True)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    n = int(env.action_space.n)
    t = time.perf_counter()
    for _ in range(steps):
        _, _, te, tr, _ = env.step(int(rng.integers(n)))
        if te or tr:
            env.reset()
    wall = time.perf_counter() - t
    env.close()
    return AtariBenchRow(
        "gym NoFrameskip + AtariPreprocessing + stack 4 (1 env)", 1, steps, wall, steps / wall, steps / wall
    )


def bench_vector_env(game: str, steps: int, num_envs: int, threads: int, seed: int = 0) -> AtariBenchRow:
    env = make_vector_env(game, num_envs, training=True, num_threads=threads)
    rng = np.random.default_rng(seed)
    env.reset(seed=seed)
    n = int(env.single_action_space.n)
    iters = max(steps // num_envs, 1)
    t = time.perf_counter()
    for _ in range(iters):
        env.step(rng.integers(0, n, num_envs))
    wall = time.perf_counter() - t
    env.close()
    total = iters * num_envs
    return AtariBenchRow(
        f"ale-py AtariVectorEnv, {threads} thread(s)", num_envs, total, wall, total / wall, total / wall
    )


def bench_training(game: str, steps: int, workers: int, preset: str, warmup_s: float = 15.0) -> AtariBenchRow:
    from tradea3c.a3c.run import steady_steps_per_s
    from tradea3c.atari.train import AtariTrainConfig, a3c_config, train_atari

    cfg = AtariTrainConfig(
        game=game,
        frames=steps * FRAME_SKIP,
        preset=preset,
        workers=workers,
        eval_every_frames=0,
        eval_episodes=1,
        eval_max_frames=400,
    )
    _, k = a3c_config(cfg)
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        t = time.perf_counter()
        result = train_atari(cfg, run, progress=False)
        wall = time.perf_counter() - t
        steady = steady_steps_per_s(run / "metrics.csv", warmup_s, budget=cfg.frames // FRAME_SKIP)
    label = f"A3C train, paper CNN, {preset} preset, {workers} workers x {k} envs"
    return AtariBenchRow(label, workers * k, result.global_step, wall, result.global_step / wall, steady)


def run_atari_benchmark(
    game: str = "Pong",
    env_steps: int = 20_000,
    train_steps: int = 60_000,
    workers: int = 2,
    num_envs: int = 16,
    paper: bool = True,
) -> list[AtariBenchRow]:
    rows = [
        bench_gym_env(game, env_steps),
        bench_vector_env(game, env_steps, num_envs, 1),
        bench_vector_env(game, env_steps, num_envs, 2),
        bench_training(game, train_steps, workers, "fast"),
    ]
    if paper:
        rows.append(bench_training(game, max(train_steps // 2, 2_000), workers, "paper"))
    return rows
