"""What every training benchmark shares: the A3C settings of a timed run, the demo env of the
market rows, and one timed training run read back from its own files."""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path
from typing import Any

from tradea3c.a3c import A3CConfig, ModelConfig, train
from tradea3c.a3c.run import steady_steps_per_s
from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, MarketEnvConfig
from tradea3c.experiment.factory import TradingEnvFactory


def bench_config(steps: int, workers: int, model: ModelConfig) -> A3CConfig:
    """A3C settings of every training benchmark row: t_max 20, no checkpoints or TensorBoard, metrics
    logged every 0.1 s (the "after start-up" rate reads them)."""
    return A3CConfig(
        total_steps=steps,
        workers=workers,
        t_max=20,
        tensorboard=False,
        checkpoint_every=0,
        checkpoint_every_s=0.0,
        log_every_s=0.1,
        model=model,
    )


def market_env(market: Market) -> tuple[MarketEnvConfig, DateSplit]:
    """The market rows' env (positions short/flat/long) and split (train on the first 70% of bars)."""
    cfg = MarketEnvConfig(positions=(-1.0, 0.0, 1.0))
    split = DateSplit(str(market.dates[int(0.7 * market.n_bars)])[:10], str(market.dates[-2])[:10])
    return cfg, split


def timed_train(
    market: Market, cfg: MarketEnvConfig, split: DateSplit, a3c: A3CConfig, k: int
) -> tuple[int, float, float, dict[str, Any]]:
    """Train ``a3c`` with ``k`` envs per worker in a temporary run directory: (steps, wall s,
    steps/s after start-up, the run summary's backend block)."""
    factory = TradingEnvFactory(market, cfg, split, base_seed=a3c.seed, num_envs=k)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = train(factory, a3c, Path(tmp), progress=False)
        wall = time.perf_counter() - t0
        backend = json.loads((Path(tmp) / "summary.json").read_text())["backend"]
        return result.global_step, wall, steady_steps_per_s(Path(tmp) / "metrics.csv"), backend
