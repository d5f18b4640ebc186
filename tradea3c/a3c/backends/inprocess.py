"""This process (``workers = 1``, or ``mode = "a2c"``): the reproducible backend.

A2C (``mode="a2c"``) batches the envs of all ``workers`` factories (``env_factory(i)`` for each i,
single or vector envs) into one `EnvBatch` and applies the very same
loss directly to the global model: one process, one thread, no gradient hand-off. ``workers=1`` in
A3C mode runs the ordinary worker (private copy, explicit gradient push, shared optimiser) in this
process. Both are bit-reproducible from ``config.seed``: the evaluator runs in another process and
never touches this process's RNG streams, and checkpoints store the RNG state so that a resumed
run continues the same streams. It is also the serial mode for debugging: no worker processes.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import torch

from tradea3c.a3c.backends.base import EnvFactory, Event, Finished, Report
from tradea3c.a3c.checkpoint import plain
from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.process_setup import configure_torch_for_worker
from tradea3c.a3c.rollout import EnvBatch
from tradea3c.a3c.seeding import seed_process, worker_seed
from tradea3c.a3c.update import UpdateStats, Worker

if TYPE_CHECKING:
    from tradea3c.a3c.coordinator import Coordinator

REPORT_EVERY_S = 0.5


class InProcessBackend:
    """One worker (A3C) or the synchronous A2C learner, updated in this process between ticks."""

    name = "local"
    worker_noun = "in-process worker"

    def __init__(self, cfg: A3CConfig, env_factory: EnvFactory, rng: dict[str, Any] | None) -> None:
        self.cfg, self.env_factory, self.rng = cfg, env_factory, rng
        self.threads = torch.get_num_threads()
        self.stopping = False
        self.envs: EnvBatch | None = None

    def start(self, co: Coordinator) -> list[int]:
        cfg, a2c = self.cfg, self.cfg.mode == "a2c"
        configure_torch_for_worker()
        self.co = co
        seed = worker_seed(cfg.seed, 0, co.epoch)
        seed_process(seed)
        self.envs = EnvBatch([self.env_factory(i) for i in range(cfg.num_workers if a2c else 1)])
        self.worker = Worker(
            0, cfg, self.envs, co.model, co.optimizer, co.global_step, seed, synchronous=a2c, target=co.target
        )
        if self.rng is not None:  # a resumed run continues the checkpoint's RNG streams
            plain.set_rng_state(self.rng)
        co.rng = plain.rng_state
        self.stats, self.last = UpdateStats(0), time.monotonic()
        return [0]

    def poll(self, timeout: float) -> list[Event]:
        """One update (the coordinator ticks after each, as the loop of a serial trainer would)."""
        if self.stopping or self.co.step >= self.cfg.total_steps:
            return [Report(self.stats), Finished(0)]
        self.worker.update(self.stats)
        if time.monotonic() - self.last < REPORT_EVERY_S:
            return []
        report, self.stats, self.last = self.stats, UpdateStats(0), time.monotonic()
        return [Report(report)]

    def restart(self, worker: int, restart: int) -> None:
        raise AssertionError("an in-process worker cannot die without taking the run with it")

    def request_stop(self) -> None:
        self.stopping = True

    def stop(self) -> None:
        if self.envs is not None:
            self.envs.close()
            self.envs = None
        torch.set_num_threads(self.threads)

    def sync(self) -> None:
        """Nothing to do: the worker updates the model itself."""

    def close(self) -> None:
        """Nothing outlives the run loop."""

    def info(self, restarts: dict[int, int]) -> dict[str, Any]:
        return {}
