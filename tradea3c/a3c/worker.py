"""One A3C worker: pull shared weights, roll out t_max steps, compute the loss, push gradients.

The gradient hand-off is explicit. Each worker owns private gradient buffers attached to the
shared parameters (``shared_param.grad``, allocated once in that process) and *copies* its local
gradients into them before every shared optimiser step. The classic pytorch-a3c
``ensure_shared_grads`` instead aliases ``shared.grad = local.grad`` only while ``shared.grad is
None``; since torch 2.0 ``zero_grad()`` sets gradients to None, so after the first update the
alias points at a stale tensor (or, with in-place zeroing, gradients pile up) and every later step
silently uses the wrong gradient. ``tests/test_a3c_core.py`` checks that after N updates the
shared gradient equals the last update's gradient.
"""

from __future__ import annotations

import copy
import os
import signal
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.losses import LossParts, a3c_loss
from tradea3c.a3c.models import ActorCritic
from tradea3c.a3c.returns import gae
from tradea3c.a3c.rollout import EnvBatch, Rollout, RolloutCollector, evaluate_rollout
from tradea3c.a3c.shared_optim import annealed_lr, set_lr

EnvFactory = Callable[[int], Any]


class WorkerError(RuntimeError):
    """A worker raised or died (and could not be replaced); training was stopped."""


def derive_seed(seed: int, *keys: int) -> int:
    """A 31-bit seed derived from the master seed and keys (worker index, resume epoch, ...)."""
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1)[0] & 0x7FFFFFFF)


def _params(x: nn.Module | Sequence[torch.Tensor]) -> Sequence[torch.Tensor]:
    return list(x.parameters()) if isinstance(x, nn.Module) else x


def push_grads(local: nn.Module | Sequence[torch.Tensor], shared: nn.Module | Sequence[torch.Tensor]) -> None:
    """Copy local gradients into this process's gradient buffers of the shared parameters
    (modules or their parameter lists, in the same order)."""
    for lp, sp in zip(_params(local), _params(shared), strict=True):
        if sp.grad is None:
            sp.grad = torch.zeros_like(sp, memory_format=torch.contiguous_format)
        if lp.grad is None:
            sp.grad.zero_()
        else:
            sp.grad.copy_(lp.grad)


@torch.no_grad()
def pull_weights(local: nn.Module, shared: nn.Module) -> None:
    """Copy the shared parameters and buffers into the local copy (``load_state_dict`` does the
    same with key matching and hooks, several times slower for small networks)."""
    for lt, st in zip(local.parameters(), shared.parameters(), strict=True):
        lt.copy_(st)
    for lt, st in zip(local.buffers(), shared.buffers(), strict=True):
        lt.copy_(st)


@dataclass
class UpdateStats:
    """What one worker reports to the trainer (summed over the updates since its last report)."""

    worker: int
    steps: int = 0
    updates: int = 0
    episodes: list[tuple[float, int]] = field(default_factory=list)
    policy_loss: float = 0.0
    value_loss: float = 0.0
    entropy: float = 0.0

    def add(self, steps: int, loss: LossParts, roll: Rollout) -> None:
        self.steps += steps
        self.updates += 1
        self.episodes += roll.episodes
        self.policy_loss += loss.policy.item()
        self.value_loss += loss.value.item()
        self.entropy += loss.entropy.item()


class Worker:
    """A3C worker (``local`` is a private copy of ``shared``) or the A2C learner (``local is shared``)."""

    def __init__(
        self,
        index: int,
        cfg: A3CConfig,
        envs: EnvBatch,
        shared: ActorCritic,
        optimizer: torch.optim.Optimizer,
        global_step: Any,
        seed: int,
        synchronous: bool = False,
    ) -> None:
        self.index, self.cfg, self.shared, self.optimizer = index, cfg, shared, optimizer
        self.global_step = global_step  # multiprocessing Value('q') shared by everyone
        self.local = shared if synchronous else copy.deepcopy(shared)
        self.collector = RolloutCollector(envs, self.local, cfg.gamma, seed)
        self.steps_per_update = cfg.t_max * envs.num_envs
        # parameter lists walked once: nn.Module.parameters() costs more than the copies below
        self._local_params = list(self.local.parameters())
        self._shared_params = list(self.shared.parameters())

    def update(self, stats: UpdateStats) -> int:
        """One rollout + gradient step; returns the global step after it."""
        cfg = self.cfg
        if self.local is not self.shared:
            pull_weights(self.local, self.shared)
        loss, roll = rollout_gradients(self.local, self._local_params, self.collector, cfg)
        if self.local is not self.shared:
            push_grads(self._local_params, self._shared_params)
        set_lr(self.optimizer, annealed_lr(cfg, self.global_step.value))
        self.optimizer.step()  # lock-free update of the shared parameters and statistics
        with self.global_step.get_lock():
            self.global_step.value += self.steps_per_update
            step = int(self.global_step.value)
        stats.add(self.steps_per_update, loss, roll)
        return step


def rollout_gradients(
    model: ActorCritic, params: Sequence[torch.Tensor], collector: RolloutCollector, cfg: A3CConfig
) -> tuple[LossParts, Rollout]:
    """Roll out ``cfg.t_max`` steps with ``model`` and leave the clipped gradient of the A3C loss
    in ``params``' ``.grad`` (every backend pushes exactly this gradient)."""
    roll = collector.collect(model, cfg.t_max)
    log_probs, values, entropies = evaluate_rollout(model, roll)
    advantages, returns = gae(
        roll.rewards, values.detach(), roll.dones, roll.last_value, cfg.gamma, cfg.gae_lambda
    )
    loss = a3c_loss(
        log_probs, values, entropies, advantages, returns, roll.valid, cfg.value_coef, cfg.entropy_coef
    )
    for p in params:
        p.grad = None
    loss.total.backward()
    if cfg.max_grad_norm > 0:
        nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
    return loss, roll


def name_process(name: str) -> None:
    """The OS-visible process name (``top``, ``ps -o comm``; Linux only, else a no-op)."""
    try:
        Path("/proc/self/comm").write_text(name[:15])
    except OSError:
        pass


def configure_torch_for_worker() -> None:
    """One intra-op thread per worker (workers are the parallelism) and no denormal slowdown."""
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)


def worker_main(
    index: int,
    cfg: A3CConfig,
    env_factory: EnvFactory,
    shared: ActorCritic,
    optimizer: torch.optim.Optimizer,
    global_step: Any,
    stop: Any,
    queue: Any,
    epoch: int,
    restart: int = 0,
    report_every_s: float = 0.5,
) -> None:
    """Entry point of a worker process: loop updates until the budget is spent or ``stop`` is set.

    Messages to the trainer: ("stats", UpdateStats), ("done", index) or ("error", index, traceback).
    The worker exits on its own if the trainer process dies (no orphans after a SIGKILL).
    """
    import multiprocessing as mp

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is handled by the trainer
    parent = mp.parent_process()
    try:
        name_process(f"a3c-worker-{index}")
        configure_torch_for_worker()
        seed = derive_seed(cfg.seed, index, epoch, *([restart] if restart else []))
        torch.manual_seed(seed)
        np.random.seed(seed % 2**32)
        envs = EnvBatch([env_factory(index)])
        worker = Worker(index, cfg, envs, shared, optimizer, global_step, seed)
        stats, last = UpdateStats(index), time.monotonic()
        while not stop.is_set():
            step = worker.update(stats)
            now = time.monotonic()
            if now - last >= report_every_s or step >= cfg.total_steps:
                queue.put(("stats", stats))
                stats, last = UpdateStats(index), now
                if parent is not None and not parent.is_alive():
                    os._exit(3)
            if step >= cfg.total_steps:
                break
        if stats.updates:
            queue.put(("stats", stats))
        envs.close()
        queue.put(("done", index))
    except BaseException:
        queue.put(("error", index, traceback.format_exc()))
        raise
