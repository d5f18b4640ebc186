"""Env stepping benchmark: our `MarketEnv` and `MarketVectorEnv` against gym-anytrading's
``stocks-v0`` (unwrapped `StocksEnv`, same price series, same window), interleaved in-process.

Each repeat times every candidate once, in turn, over about ``steps`` env-steps of random
actions (resetting at episode end); the table reports per-candidate medians and the ratio to the
gym-anytrading median. Only numpy is used (no BLAS), so stepping is single-threaded; set
OMP_NUM_THREADS=1 before starting Python to pin any thread pools as well.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from tradea3c.data.market import Market


@dataclass(frozen=True)
class BenchRow:
    name: str
    num_envs: int
    steps_per_s: float  # median env-steps per second
    ratio: float  # steps_per_s / gym-anytrading's steps_per_s


def _time_single(env, actions: list[int]) -> float:
    env.reset(seed=0)
    step, reset = env.step, env.reset
    t0 = time.perf_counter()
    for a in actions:
        _, _, term, trunc, _ = step(a)
        if term or trunc:
            reset()
    return len(actions) / (time.perf_counter() - t0)


def _time_vector(venv, actions: np.ndarray) -> float:
    venv.reset(seed=0)
    step = venv.step
    t0 = time.perf_counter()
    for a in actions:
        step(a)
    return actions.size / (time.perf_counter() - t0)


def run_env_benchmark(
    steps: int = 20_000,
    repeats: int = 5,
    ks: tuple[int, ...] = (1, 16, 64),
    window: int = 30,
    market: Market | None = None,
    seed: int = 0,
) -> list[BenchRow]:
    """Steps/s of gym-anytrading, `MarketEnv` and `MarketVectorEnv` at each K (medians)."""
    from gym_anytrading.envs import StocksEnv

    from tradea3c.envs import MarketEnv, MarketEnvConfig, MarketVectorEnv
    from tradea3c.envs.market_env import default_market

    market = default_market() if market is None else market
    frame = market.frame(market.tickers[0])
    df = frame.rename(columns=str.capitalize)
    cfg = MarketEnvConfig(window=window)
    rng = np.random.default_rng(seed)
    single_actions = rng.integers(0, 2, steps).tolist()

    baseline = StocksEnv(df=df, window_size=window, frame_bound=(window, len(df)))
    candidates: list[tuple[str, int, Callable[[], float]]] = [
        ("gym-anytrading stocks-v0 (unwrapped)", 1, lambda: _time_single(baseline, single_actions)),
    ]
    ours = MarketEnv(market.select(market.tickers[0]), cfg)
    candidates.append(("tradea3c MarketEnv", 1, lambda: _time_single(ours, single_actions)))
    for k in ks:
        venv = MarketVectorEnv(k, market.select(market.tickers[0]), cfg)
        acts = rng.integers(0, 2, (max(steps // k, 10), k))
        candidates.append((f"tradea3c MarketVectorEnv K={k}", k, lambda v=venv, a=acts: _time_vector(v, a)))

    for _, _, fn in candidates:  # warm-up (caches, first allocations)
        fn()
    samples: list[list[float]] = [[] for _ in candidates]
    for _ in range(repeats):
        for i, (_, _, fn) in enumerate(candidates):
            samples[i].append(fn())
    medians = [statistics.median(s) for s in samples]
    base = medians[0]
    return [BenchRow(name, k, m, m / base) for (name, k, _), m in zip(candidates, medians, strict=True)]
