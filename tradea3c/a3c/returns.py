"""n-step returns and generalised advantage estimation (pure functions on [T, K] tensors).

Conventions: ``rewards[t]``, ``values[t]`` = V(s_t) and ``dones[t]`` describe transition t of
each of K envs; ``dones[t] = 1`` means s_{t+1} is terminal (or belongs to a new episode), so
nothing is bootstrapped across it. ``last_value`` = V(s_T) bootstraps the truncated rollout.
Time-limit truncation is handled by the caller (it adds gamma * V(final_obs) to the reward and
marks the transition done), so these functions only see "done".
"""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor


def nstep_returns(rewards: Tensor, dones: Tensor, last_value: Tensor, gamma: float) -> Tensor:
    """R_t = r_t + gamma r_{t+1} + ... + gamma^{n} V(s_T), cut at episode ends (the A3C target)."""
    returns = torch.empty_like(rewards)
    running = last_value
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = rewards[t] + gamma * (1.0 - dones[t]) * running
        returns[t] = running
    return returns


def gae(
    rewards: Tensor, values: Tensor, dones: Tensor, last_value: Tensor, gamma: float, lam: float
) -> tuple[Tensor, Tensor]:
    """Return (advantages, returns) with GAE(gamma, lambda); returns = advantages + values.

    With ``lam = 1`` the returns equal :func:`nstep_returns` (the paper's estimator); ``lam = 0``
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
