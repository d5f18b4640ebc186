"""`tradea3c bench train`: env-steps/s of our A3C (2 workers, K = 1 and K = 16) and A2C mode
against stable-baselines3's A2C with the same MLP on the same env, all run in this process.

Every candidate trains on the unperturbed demo `MarketEnv` (window 30, 15 features, costs) with an
actor and a critic MLP of ``hidden`` tanh units and t_max / n_steps = 20. Our numbers are wall-clock
from the trainer's start (worker start-up included); SB3's is ``learn()``'s wall-clock. SB3 runs its
envs in one process (DummyVecEnv) with torch allowed ``threads`` threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import torch

from tradea3c.a3c import ModelConfig
from tradea3c.bench.train.common import bench_config, market_env, timed_train
from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, MarketEnvConfig


@dataclass(frozen=True)
class TrainBenchRow:
    name: str
    envs: int  # total envs stepped (workers x K)
    steps: int
    wall_s: float
    steps_per_s: float  # end to end: steps / wall (process start-up included)
    ratio: float  # steps_per_s / SB3 A2C's
    steady_steps_per_s: float  # after start-up: from the run's own metrics log (SB3: = steps_per_s)


def _sb3(
    market: Market,
    cfg: MarketEnvConfig,
    split: DateSplit,
    steps: int,
    n_envs: int,
    hidden: tuple[int, ...],
    threads: int,
) -> tuple[int, float]:
    from stable_baselines3 import A2C
    from stable_baselines3.common.logger import Logger
    from stable_baselines3.common.vec_env import DummyVecEnv

    from tradea3c.envs.market_env import MarketEnv

    def make(i: int):
        return lambda: MarketEnv(market, cfg, split=split, split_name="train")

    venv = DummyVecEnv([make(i) for i in range(n_envs)])
    venv.seed(0)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model = A2C(
            "MlpPolicy",
            venv,
            n_steps=20,
            device="cpu",
            seed=0,
            verbose=0,
            policy_kwargs={
                "net_arch": {"pi": list(hidden), "vf": list(hidden)},
                "activation_fn": torch.nn.Tanh,
            },
        )
        model.set_logger(Logger(folder=None, output_formats=[]))  # SB3's default makes a /tmp/SB3-* folder
        t0 = time.perf_counter()
        model.learn(total_timesteps=steps)
        return int(model.num_timesteps), time.perf_counter() - t0
    finally:
        torch.set_num_threads(before)
        venv.close()


def run_train_benchmark(
    steps: int = 100_000,
    workers: int = 2,
    ks: tuple[int, ...] = (1, 16),
    sb3_envs: int = 16,
    hidden: tuple[int, ...] = (64, 64),
    market: Market | None = None,
) -> list[TrainBenchRow]:
    """Train each candidate for about ``steps`` env-steps and report steps/s and the ratio to SB3 A2C."""
    from tradea3c.data.demo import demo_market

    market = market if market is not None else demo_market()
    cfg, split = market_env(market)
    base = bench_config(steps, workers, ModelConfig(hidden=hidden))
    raw: list[tuple[str, int, int, float, float]] = []
    for k in ks:
        n, wall, steady, _ = timed_train(market, cfg, split, base, k)
        raw.append((f"tradea3c A3C ({workers} workers, K={k})", workers * k, n, wall, steady))
    n, wall, steady, _ = timed_train(market, cfg, split, replace(base, mode="a2c"), max(ks))
    raw.append(
        (f"tradea3c A2C mode (1 process, {workers}x{max(ks)} envs)", workers * max(ks), n, wall, steady)
    )
    n, wall = _sb3(market, cfg, split, steps, sb3_envs, hidden, threads=workers)
    raw.append((f"stable-baselines3 A2C ({sb3_envs} envs, {workers} threads)", sb3_envs, n, wall, n / wall))
    sb3_sps = raw[-1][2] / raw[-1][3]
    return [
        TrainBenchRow(name, envs, n, wall, n / wall, (n / wall) / sb3_sps, steady)
        for name, envs, n, wall, steady in raw
    ]
