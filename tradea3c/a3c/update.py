"""One A3C update, top to bottom: pull weights, roll out, GAE, loss, push gradients.

This file is the algorithm (Mnih et al. 2016, Algorithm S3); everything else moves data around it.
A worker repeats `Worker.update` until the global step budget is spent:

1. **pull**: copy the shared weights into the worker's private model;
2. **roll out** ``t_max`` steps of its envs under that model, no gradients
   (`RolloutCollector`, in ``rollout.py``);
3. **re-evaluate** the rollout with gradients: log-probabilities, values, entropies;
4. **GAE**: advantages and returns from rewards, values and ``V(s_T)`` (`gae`; with
   ``gae_lambda = 1`` the paper's n-step returns);
5. **loss**: policy gradient with the advantage, value regression, entropy bonus, and
   optionally a KL penalty toward a prior policy (the benchmark of an anchored model;
   `a3c_loss`), then backward and a global-norm clip;
6. **push**: copy the local gradients into this process's gradient buffers of the shared
   parameters and step the shared optimiser, lock-free (Hogwild); count the steps.

The model interface the update relies on is ``models/base.py``'s [`ActorCritic`][]. Steps 2-5
are `compute_gradients`, shared by every backend: the Ray backend runs the same function in
its actors and ships the gradient to a learner instead of step 6.

The gradient hand-off is explicit. Each worker owns private gradient buffers attached to the
shared parameters (``shared_param.grad``, allocated once in that process) and *copies* its local
gradients into them before every shared optimiser step. The classic pytorch-a3c
``ensure_shared_grads`` instead aliases ``shared.grad = local.grad`` only while ``shared.grad is
None``; since torch 2.0 ``zero_grad()`` sets gradients to None, so after the first update the
alias points at a stale tensor (or, with in-place zeroing, gradients pile up) and every later step
silently uses the wrong gradient. ``tests/a3c/test_update.py`` checks that after N updates the
shared gradient equals the last update's gradient.

Conventions of the [T, K] tensors (T = ``t_max`` steps of K envs): ``rewards[t]``, ``values[t]`` =
V(s_t) and ``dones[t]`` describe transition t; ``dones[t] = 1`` means s_{t+1} is terminal (or
belongs to a new episode), so nothing is bootstrapped across it; time-limit truncation was already
turned into ``reward + gamma * V(final_obs)`` by the rollout.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import Tensor, nn

from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.models.base import ActorCritic
from tradea3c.a3c.optim import annealed_lr, set_lr
from tradea3c.a3c.qlearning import EpsilonGreedy, q_loss, target_due
from tradea3c.a3c.rollout import (
    EnvBatch,
    Rollout,
    RolloutCollector,
    evaluate_rollout,
    masked_mean,
)

NON_FINITE_HINT = (
    "lower a3c.lr (or clip with a3c.max_grad_norm) and check the env's rewards and observations for "
    "nan/inf, then start a new run"
)


class NonFiniteError(FloatingPointError):
    """The loss, the gradient or the weights became nan/inf: the run stops (``what``: "loss",
    "gradient", "weights"; ``value``: "nan", "inf"...; ``step``: the global step, -1 if not known)."""

    def __init__(self, what: str, value: str, step: int = -1) -> None:
        super().__init__(what, value, step)
        self.what, self.value, self.step = what, value, step

    def __str__(self) -> str:
        at = f" at step {self.step:,}" if self.step >= 0 else ""
        return f"the {self.what} became non-finite ({self.value}){at}"


def non_finite(tensors: Any) -> str | None:
    """None if every value of every floating-point tensor (a module's parameters, a state dict's
    values) is finite; else "nan" (or "inf")."""
    bad = [t for t in tensors if torch.is_floating_point(t) and not bool(torch.isfinite(t).all())]
    if not bad:
        return None
    return "nan" if any(bool(torch.isnan(t).any()) for t in bad) else "inf"


class Worker:
    """A3C worker (``local`` is a private copy of ``shared``) or the A2C learner (``local is shared``);
    in the value-based modes (``qlearning.py``) it acts epsilon-greedily and keeps ``target`` (the
    shared target network) in sync."""

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
        target: ActorCritic | None = None,
    ) -> None:
        self.index, self.cfg, self.shared, self.optimizer = index, cfg, shared, optimizer
        self.global_step = global_step  # multiprocessing Value('q') shared by everyone
        self.local = shared if synchronous else copy.deepcopy(shared)
        self.target = target
        behaviour = None
        if cfg.value_based:
            if target is None:
                raise ValueError(f'a3c.mode = "{cfg.mode}" needs the shared target network (target=)')
            behaviour = EpsilonGreedy.for_worker(cfg, index, target, lambda: int(global_step.value))
        self.collector = RolloutCollector(envs, self.local, cfg.gamma, seed, behaviour)
        self.steps_per_update = cfg.t_max * envs.num_envs
        # parameter lists walked once: nn.Module.parameters() costs more than the copies below
        self._local_params = list(self.local.parameters())
        self._shared_params = list(self.shared.parameters())

    def update(self, stats: UpdateStats) -> int:
        """One rollout + gradient step; returns the global step after it."""
        cfg = self.cfg
        # 1. pull the shared weights (A2C: the learner's model is the shared one)
        if self.local is not self.shared:
            pull_weights(self.local, self.shared)
        # 2-5. roll out t_max steps, re-evaluate, GAE, loss, backward, clip (nan/inf: stop, unstepped)
        try:
            loss, roll = compute_gradients(self.local, self._local_params, self.collector, cfg)
        except NonFiniteError as exc:
            raise NonFiniteError(exc.what, exc.value, int(self.global_step.value)) from None
        # 6. push the gradient into the shared parameters and step the shared optimiser
        if self.local is not self.shared:
            push_grads(self._local_params, self._shared_params)
        set_lr(self.optimizer, annealed_lr(cfg, self.global_step.value))
        self.optimizer.step()  # lock-free update of the shared parameters and statistics
        with self.global_step.get_lock():
            before = int(self.global_step.value)
            self.global_step.value += self.steps_per_update
            step = int(self.global_step.value)
        if self.target is not None and target_due(before, step, cfg.target_sync):
            pull_weights(self.target, self.shared)  # theta- <- theta, lock-free like every write
        stats.add(self.steps_per_update, loss, roll)
        return step


def compute_gradients(
    model: ActorCritic, params: Sequence[torch.Tensor], collector: RolloutCollector, cfg: A3CConfig
) -> tuple[LossParts, Rollout]:
    """Roll out ``cfg.t_max`` steps with ``model`` and leave the clipped gradient of the A3C loss
    (value-based modes: of `qlearning.q_loss`) in ``params``' ``.grad`` (every backend pushes
    exactly this gradient)."""
    roll = collector.collect(model, cfg.t_max)  # 2. no grad
    if isinstance(collector.behaviour, EpsilonGreedy):  # 3-5. the value-based methods
        td = q_loss(model, collector.behaviour.target, roll, cfg.mode, cfg.gamma)
        zero = torch.zeros(())
        return backward_and_clip(LossParts(td, zero, td.detach(), zero), params, cfg), roll
    prior = cfg.prior if cfg.kl_coef > 0 else None
    log_probs, values, entropies, kls = evaluate_rollout(model, roll, prior)  # 3. with grad
    advantages, returns = gae(  # 4.
        roll.rewards, values.detach(), roll.dones, roll.last_value, cfg.gamma, cfg.gae_lambda
    )
    loss = a3c_loss(  # 5.
        log_probs,
        values,
        entropies,
        advantages,
        returns,
        roll.valid,
        cfg.value_coef,
        cfg.entropy_coef,
        kls=kls,
        kl_coef=cfg.kl_coef,
    )
    return backward_and_clip(loss, params, cfg), roll


def backward_and_clip(loss: LossParts, params: Sequence[torch.Tensor], cfg: A3CConfig) -> LossParts:
    """Backpropagate ``loss.total`` into fresh ``.grad``s of ``params`` and clip their global norm;
    a non-finite loss or gradient raises `NonFiniteError` before any optimiser sees it."""
    if not torch.isfinite(loss.total):  # never step an optimiser on it: the weights stay finite
        raise NonFiniteError("loss", str(loss.total.item()))
    for p in params:
        p.grad = None
    loss.total.backward()
    if cfg.max_grad_norm > 0:
        norm = nn.utils.clip_grad_norm_(params, cfg.max_grad_norm)
        if not torch.isfinite(norm):
            raise NonFiniteError("gradient", str(norm.item()))
    return loss


# ---------------------------------------------------------------- 4. returns and advantages
def gae(
    rewards: Tensor, values: Tensor, dones: Tensor, last_value: Tensor, gamma: float, lam: float
) -> tuple[Tensor, Tensor]:
    """Return (advantages, returns) with GAE(gamma, lambda); returns = advantages + values.

    With ``lam = 1`` the returns equal `nstep_returns` (the paper's estimator); ``lam = 0``
    gives one-step TD advantages. Computed in numpy: at rollout sizes ([20, 16]) the backward
    loop is dominated by per-op overhead, which is several times lower in numpy than in torch.
    """
    r, v, d = (x.detach().numpy() for x in (rewards, values, dones))
    notdone = 1.0 - d
    next_v = np.concatenate([v[1:], last_value.detach().numpy()[None]])
    deltas = r + gamma * next_v * notdone - v
    decay = (gamma * lam) * notdone
    advantages = np.empty_like(deltas)
    running = np.zeros_like(deltas[0])
    for t in range(deltas.shape[0] - 1, -1, -1):
        running = deltas[t] + decay[t] * running
        advantages[t] = running
    adv = torch.from_numpy(advantages)
    return adv, adv + values.detach()


# ---------------------------------------------------------------- 5. the loss
@dataclass
class LossParts:
    total: Tensor
    policy: Tensor
    value: Tensor
    entropy: Tensor
    kl: Tensor = field(default_factory=lambda: torch.zeros(()))
    """Mean KL(pi || prior) (0 without a KL penalty)."""


def a3c_loss(
    log_probs: Tensor,
    values: Tensor,
    entropies: Tensor,
    advantages: Tensor,
    returns: Tensor,
    mask: Tensor,
    value_coef: float,
    entropy_coef: float,
    *,
    kls: Tensor | None = None,
    kl_coef: float = 0.0,
) -> LossParts:
    """loss = -E[log pi(a|s) A] + value_coef E[(R - V)^2] - entropy_coef E[H(pi)]
    + kl_coef E[KL(pi || prior)], means over valid steps.

    ``advantages`` and ``returns`` are targets (detached here, so no gradient flows through them).
    ``kls``: KL(pi || prior) per step (`prior_kl`); with the benchmark prior the last term keeps
    the policy near its anchor unless the advantages pay for leaving it.
    """
    policy = -masked_mean(log_probs * advantages.detach(), mask)
    value = masked_mean((returns.detach() - values) ** 2, mask)
    entropy = masked_mean(entropies, mask)
    total = policy + value_coef * value - entropy_coef * entropy
    kl = masked_mean(kls, mask) if kls is not None else torch.zeros(())
    if kls is not None and kl_coef:
        total = total + kl_coef * kl
    return LossParts(total, policy, value, entropy, kl)


# ---------------------------------------------------------------- 1. and 6. the weight hand-off
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
