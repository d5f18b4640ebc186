"""Where one A3C worker's time goes at universe scale, and how fast its update computes.

Measured in this process, not inside the worker processes (their loop stays untimed): one worker
(`Worker`, its own private model, the trainer's shared-memory model and optimiser) is built with
the same env factory, model factory and settings as the timed run and run for a few updates at
the worker's thread count (1, `configure_torch_for_worker`). Each update is split into:

* **env**: ``EnvBatch.step`` (the vector env's numpy step and the batch bookkeeping);
* **act**: the policy forward and sampling at rollout (``model.act``);
* **update**: re-evaluation with gradients, GAE, loss, backward, clip and the optimiser step;
* **sync**: pulling the shared weights and pushing the gradients;
* **other**: the rest of the rollout (observation tensors, reward and episode bookkeeping).

FLOPs of one update, counted from the layer shapes: an item network's Linear layer costs
``2 * in * out`` per row forward and ``4 * in * out`` backward (input and weight gradients),
except its first layer, whose input (the observation) needs no gradient: ``2 * in * out``
backward. Rows are the available items of the T*K observations the update re-evaluates; the
actor's per-item score layer (H -> 1) counts the same way. The per-observation layers (residual
score, value head: a few thousand FLOPs per observation) and the elementwise work (activations,
pooling, the Dirichlet) are not counted: the rate is of the matmul work the update has to do.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.optim import annealed_lr, make_optimizer, set_lr
from tradea3c.a3c.process_setup import configure_torch_for_worker
from tradea3c.a3c.rollout import EnvBatch
from tradea3c.a3c.update import UpdateStats, Worker, compute_gradients, pull_weights, push_grads

PHASES = ("env", "act", "update", "sync", "other")


@dataclass(frozen=True)
class UpdateProfile:
    threads: int  # torch threads of the measured worker (the worker processes' setting)
    updates: int  # timed updates (after warm-up)
    steps_per_s: float  # one worker alone, env-steps/s
    seconds_per_update: float
    shares: dict[str, float]  # PHASES -> share of the update's wall time
    rows: float  # item rows per update (available items of the T*K observations), mean
    gflop_per_update: float  # forward + backward of the item networks (module docstring)
    update_gflop_s: float  # gflop_per_update / the update phase's seconds
    matmul_gflop_s: float  # 1024 x 1024 float32 matmul at ``threads``
    matmul_process_gflop_s: float  # the same at this process's default thread count
    process_threads: int
    skinny_gflop_s: float  # [rows, in] @ [in, H1]: the item network's first-layer shape
    skinny_hidden_gflop_s: float  # [rows, H1] @ [H1, H2]: its second layer's shape


def matmul_gflop_s(m: int, k: int, n: int, threads: int, min_s: float = 0.3) -> float:
    """GFLOP/s of ``[m, k] @ [k, n]`` float32 at ``threads`` torch threads (best of a few timed
    batches of calls, each at least ``min_s`` / 3 seconds)."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        a, b = torch.randn(m, k), torch.randn(k, n)
        a @ b
        reps = 1
        while True:  # enough calls for min_s / 3 seconds
            t0 = time.perf_counter()
            for _ in range(reps):
                a @ b
            best = (time.perf_counter() - t0) / reps
            if best * reps >= min_s / 3:
                break
            reps *= 2
        for _ in range(2):
            t0 = time.perf_counter()
            for _ in range(reps):
                a @ b
            best = min(best, (time.perf_counter() - t0) / reps)
        return 2.0 * m * k * n / best / 1e9
    finally:
        torch.set_num_threads(before)


def item_net_flops(model: nn.Module, rows: float) -> float:
    """Forward + backward FLOPs of the per-item networks of a `PerItemActorCritic` on ``rows``
    item rows (module docstring)."""
    nets = [model.actor_items] + ([] if model.critic_items is None else [model.critic_items])
    total = 0.0
    for net in nets:
        linears = [m for m in net if isinstance(m, nn.Linear)]
        for i, lin in enumerate(linears):
            fwd = 2.0 * lin.in_features * lin.out_features
            total += fwd + (fwd if i == 0 else 2 * fwd)
    fwd = 2.0 * model.score.in_features * model.score.out_features
    return (total + 3 * fwd) * rows


class _Timer:
    """Seconds spent in wrapped callables, by phase."""

    def __init__(self) -> None:
        self.s = dict.fromkeys(PHASES, 0.0)

    def wrap(self, phase: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.s[phase] += time.perf_counter() - t0

        return timed


def profile_update(
    env_factory: Callable[[int], Any],
    model_factory: Callable[[Any, Any], nn.Module],
    cfg: A3CConfig,
    updates: int = 6,
    warmup: int = 2,
) -> UpdateProfile:
    """Time ``updates`` updates of one worker (after ``warmup``) phase by phase (module docstring)."""
    process_threads = torch.get_num_threads()
    env = env_factory(0)
    envs = EnvBatch([env])
    spaces = (envs.observation_space, envs.action_space)
    shared = model_factory(*spaces)
    shared.share_memory()
    optimizer = make_optimizer(cfg, shared.parameters())
    try:
        configure_torch_for_worker()
        threads = torch.get_num_threads()
        worker = Worker(0, cfg, envs, shared, optimizer, mp.Value("q", 0), cfg.seed)
        timer = _Timer()
        local, collector = worker.local, worker.collector
        rows: list[float] = []
        local.act = timer.wrap("act", local.act)  # type: ignore[method-assign]
        envs.step = timer.wrap("env", envs.step)  # type: ignore[method-assign]
        collect = collector.collect
        rollout_s = [0.0]

        def timed_collect(model: Any, t_max: int) -> Any:
            t0 = time.perf_counter()
            roll = collect(model, t_max)
            rollout_s[0] += time.perf_counter() - t0
            obs = roll.obs.reshape(-1, roll.obs.shape[-1])
            rows.append(float(local.gather(obs).count.sum()))
            return roll

        collector.collect = timed_collect  # type: ignore[method-assign]
        stats = UpdateStats(0)
        wall = 0.0
        for i in range(warmup + updates):
            if i == warmup:
                timer.s, rollout_s[0], rows[:] = dict.fromkeys(PHASES, 0.0), 0.0, []
                wall = time.perf_counter()
            t0 = time.perf_counter()
            pull_weights(local, shared)
            t1 = time.perf_counter()
            loss, roll = compute_gradients(local, worker._local_params, collector, cfg)
            t2 = time.perf_counter()
            push_grads(worker._local_params, worker._shared_params)
            t3 = time.perf_counter()
            set_lr(optimizer, annealed_lr(cfg, 0))
            optimizer.step()
            t4 = time.perf_counter()
            stats.add(worker.steps_per_update, loss, roll)
            timer.s["sync"] += (t1 - t0) + (t3 - t2)
            timer.s["update"] += (t4 - t3) + (t2 - t1)  # minus the rollout, below
        wall = time.perf_counter() - wall
        timer.s["update"] -= rollout_s[0]
        timer.s["other"] = rollout_s[0] - timer.s["env"] - timer.s["act"]
        update_s = timer.s["update"] / updates
        mean_rows = sum(rows) / len(rows)
        flops = item_net_flops(local, mean_rows)
        linears = [m for m in local.actor_items if isinstance(m, nn.Linear)]
        first, second = linears[0], linears[min(1, len(linears) - 1)]
        return UpdateProfile(
            threads=threads,
            updates=updates,
            steps_per_s=updates * worker.steps_per_update / wall,
            seconds_per_update=wall / updates,
            shares={k: v / wall for k, v in timer.s.items()},
            rows=mean_rows,
            gflop_per_update=flops / 1e9,
            update_gflop_s=flops / update_s / 1e9,
            matmul_gflop_s=matmul_gflop_s(1024, 1024, 1024, threads),
            matmul_process_gflop_s=matmul_gflop_s(1024, 1024, 1024, process_threads),
            process_threads=process_threads,
            skinny_gflop_s=matmul_gflop_s(int(mean_rows), first.in_features, first.out_features, threads),
            skinny_hidden_gflop_s=matmul_gflop_s(
                int(mean_rows), second.in_features, second.out_features, threads
            ),
        )
    finally:
        torch.set_num_threads(process_threads)
        envs.close()
