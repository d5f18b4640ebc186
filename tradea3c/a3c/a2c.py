"""In-process training: the synchronous A2C learner and the reproducible ``workers=1`` A3C path.

A2C (``mode="a2c"``) batches the envs of all ``workers`` factories (``env_factory(i)`` for each i,
single or vector envs) into one :class:`EnvBatch` and applies the very same loss directly to the
global model: one process, one thread, no gradient hand-off. ``workers=1`` in A3C mode runs the
ordinary worker (private copy, explicit gradient push, shared optimiser) in this process. Both
are bit-reproducible from ``config.seed``: the evaluator runs in another process and never
touches this process's RNG streams.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from tradea3c.a3c import checkpoint as ckpt
from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.coordinator import Coordinator
from tradea3c.a3c.rollout import EnvBatch
from tradea3c.a3c.worker import EnvFactory, UpdateStats, Worker, derive_seed


def run_in_process(
    co: Coordinator, cfg: A3CConfig, env_factory: EnvFactory, rng: dict[str, Any] | None
) -> None:
    """workers == 1 (A3C worker with local copy + gradient push) or A2C (one learner, all envs)."""
    a2c = cfg.mode == "a2c"
    seed = derive_seed(cfg.seed, 0, co.epoch)
    torch.manual_seed(seed)
    np.random.seed(seed)
    envs = EnvBatch([env_factory(i) for i in range(cfg.num_workers if a2c else 1)])
    worker = Worker(0, cfg, envs, co.model, co.optimizer, co.global_step, seed, synchronous=a2c)
    if rng is not None:
        ckpt.set_rng_state(rng)
    co.rng = ckpt.rng_state
    stats, last = UpdateStats(0), time.monotonic()
    while co.step < cfg.total_steps and not co.stop_requested:
        worker.update(stats)
        if time.monotonic() - last >= 0.5:
            co.on_stats(stats)
            stats, last = UpdateStats(0), time.monotonic()
        co.tick()
    co.on_stats(stats)
    envs.close()
