"""The paper's three asynchronous value-based methods, on the same workers as A3C.

Mnih et al. (2016) present four asynchronous methods; A3C is ``update.py``. The other three share
everything with it (the Hogwild workers, the shared optimiser, every backend, checkpoints, the
evaluator, the run directory) and differ only in what a worker learns from its rollout. With
``theta`` the shared weights, ``theta'`` the worker's copy and ``theta-`` the shared target network:

==================  ==============================================================  ============
``a3c.mode``        target ``y_t`` of ``Q(s_t, a_t; theta')``                       the paper
==================  ==============================================================  ============
``onestep_q``       ``r_t + gamma max_a Q(s_{t+1}, a; theta-)``                     Algorithm 1
``onestep_sarsa``   ``r_t + gamma Q(s_{t+1}, a_{t+1}; theta-)``                     Section 4
``nstep_q``         ``r_t + gamma r_{t+1} + ... + gamma^{T-t} max_a Q(s_T, a; theta-)``  Algorithm S2
==================  ==============================================================  ============

No target bootstraps across a terminal state; a time-limit truncation bootstraps from the final
observation with the same rule. The loss is the mean over the rollout's valid steps of
``(y_t - Q(s_t, a_t; theta'))^2``. One update, as `tradea3c.a3c.update.Worker.update` runs it:

1. **pull** ``theta' <- theta``;
2. **roll out** ``t_max`` steps, acting epsilon-greedily on ``Q(s, .; theta')`` (`EpsilonGreedy`);
   the value of the state after the last step comes from the target network (`EpsilonGreedy.bootstrap`);
3. **targets** (`q_loss`): n-step Q computes them backwards from that bootstrap
   (``rollout.nstep_returns``, the loop of Algorithm S2); the one-step methods read the target
   network at every next state (`next_state_values`, `onestep_targets`);
4. **loss, backward, clip**: the gradients of the ``t_max`` steps are accumulated into one;
5. **push** and step the shared optimiser; the worker whose update carries the global step
   across a multiple of ``target_sync`` copies ``theta`` into ``theta-`` (`target_due`).

The Q head: a categorical head's raw outputs (`tradea3c.a3c.models.base.ScoredCategorical`)
are read as Q-values, so the MLP, the LSTM, the per-asset discrete scorer and the Atari CNN are
Q-networks unchanged (their value head gets no gradient); greedy evaluation, backtests and
ensembles use the argmax as they do for a policy. Actions that are not available (a per-asset
model's unlisted items, score `UNAVAILABLE_SCORE`) are never greedy and never explored.

Exploration (the paper's): worker i's final epsilon is drawn once from ``epsilon_finals`` with
``epsilon_probs`` ({0.1, 0.01, 0.5} with {0.4, 0.3, 0.3}), from ``seed`` and i only
(`final_epsilon`: a restarted or resumed worker keeps it); epsilon falls linearly from 1 to it
over the first ``epsilon_anneal`` of ``total_steps`` global steps (`epsilon_at`).

Recurrent models: the target network is unrolled over the rollout from the online network's
hidden state at its start (the "stored state" of R2D2, Kapturowski et al. 2019); the target
network keeps no state of its own. The target network is not checkpointed: a resumed run starts
it from the resumed weights (a sync at the resume step).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.models.base import UNAVAILABLE_SCORE, ActorCritic, State, reset_state
from tradea3c.a3c.rollout import Rollout, masked_mean, nstep_returns

EPSILON_STREAM = 0xE95
"""Salt of the seed sequence that draws each worker's final epsilon (independent of its other streams)."""


# ---------------------------------------------------------------- the Q head
def q_values(model: ActorCritic, obs: Tensor, state: State = None) -> tuple[Tensor, State]:
    """``Q(obs, .)`` [B, n] (the categorical head's raw outputs) and the model's new state."""
    dist, new_state = model.act_distribution(obs, state)
    scores = getattr(dist, "scores", None)
    if scores is None:
        raise ValueError(
            f"{type(model).__name__} returned a {type(dist).__name__} policy: the value-based modes "
            "read a categorical head's outputs as Q-values (Discrete actions; e.g. a portfolio env "
            'with action = "discrete"), or use a3c.mode = "a3c"'
        )
    return scores, new_state


def check_q_model(
    model: ActorCritic, observation_space: gym.Space[Any], action_space: gym.Space[Any], mode: str
) -> None:
    """One-line ``ValueError`` before training if ``model`` cannot act as a Q-network."""
    if not isinstance(action_space, gym.spaces.Discrete):
        raise ValueError(
            f'a3c.mode = "{mode}" needs Discrete actions (one Q-value each), the env has {action_space}: '
            'use a discrete env (a portfolio env with action = "discrete") or a3c.mode = "a3c"'
        )
    with torch.no_grad():
        obs = torch.as_tensor(np.asarray(observation_space.sample()), dtype=torch.float32)[None]
        q, _ = q_values(model, obs, model.initial_state(1))
    if q.shape != (1, int(action_space.n)):
        raise ValueError(
            f"the model's Q head has shape {tuple(q.shape[1:])}, the env {action_space.n} actions"
        )


def unroll_q(model: ActorCritic, obs: Tensor, starts: Tensor, init_state: State) -> Tensor:
    """``Q(s_t, .)`` [T, K, n] over a rollout's observations [T, K, ...]: one batch for a
    feed-forward model; a recurrent one is stepped from ``init_state`` with the rollout's resets."""
    t, k = obs.shape[:2]
    if not model.recurrent:
        q, _ = q_values(model, obs.reshape(t * k, *obs.shape[2:]))
        return q.reshape(t, k, -1)
    state, out = init_state, []
    for i in range(t):
        state = reset_state(state, starts[i])
        q, state = q_values(model, obs[i], state)
        out.append(q)
    return torch.stack(out)


# ---------------------------------------------------------------- exploration
def final_epsilon(cfg: A3CConfig, worker: int) -> float:
    """Worker ``worker``'s final epsilon: one draw from ``cfg.epsilon_finals`` with
    ``cfg.epsilon_probs``, a function of ``cfg.seed`` and the index only."""
    rng = np.random.default_rng([cfg.seed, worker, EPSILON_STREAM])
    return float(rng.choice(np.asarray(cfg.epsilon_finals), p=np.asarray(cfg.epsilon_probs)))


def epsilon_at(step: int, final: float, anneal_steps: float) -> float:
    """Linear from 1 at step 0 to ``final`` at ``anneal_steps``, then ``final``."""
    if anneal_steps <= 0:
        return final
    return 1.0 + (final - 1.0) * min(step / anneal_steps, 1.0)


def epsilon_greedy(q: Tensor, epsilon: float) -> Tensor:
    """Per row: with probability ``epsilon`` a uniformly random available action, else argmax Q."""
    greedy = q.argmax(-1)
    if epsilon <= 0.0:
        return greedy
    explore = torch.rand(q.shape[0]) < epsilon
    available = (q > UNAVAILABLE_SCORE / 2).to(q.dtype)
    random = torch.multinomial(available, 1).squeeze(-1)
    return torch.where(explore, random, greedy)


class EpsilonGreedy:
    """The rollout behaviour of the value-based modes (``rollout.Behaviour``): epsilon-greedy on
    the worker's Q-values; bootstraps from the target network.

    Sarsa bootstraps the last state of a rollout with the action the worker will take there
    (epsilon-greedy now), and takes exactly that action first in the next rollout, so the target
    uses the action actually taken."""

    def __init__(
        self,
        target: ActorCritic,
        final: float,
        anneal_steps: float,
        step: Callable[[], int],
        sarsa: bool = False,
    ) -> None:
        self.target, self.final, self.anneal_steps, self.step = target, final, anneal_steps, step
        self.sarsa = sarsa
        self.pending: Tensor | None = None

    @classmethod
    def for_worker(
        cls, cfg: A3CConfig, worker: int, target: ActorCritic, step: Callable[[], int]
    ) -> EpsilonGreedy:
        anneal = cfg.epsilon_anneal * cfg.total_steps
        return cls(target, final_epsilon(cfg, worker), anneal, step, sarsa=cfg.mode == "onestep_sarsa")

    def epsilon(self) -> float:
        return epsilon_at(self.step(), self.final, self.anneal_steps)

    def act(self, model: ActorCritic, obs: Tensor, state: State) -> tuple[Tensor, State]:
        q, new_state = q_values(model, obs, state)
        if self.pending is not None:  # Sarsa: the action its last target was computed with
            action, self.pending = self.pending, None
            return action, new_state
        return epsilon_greedy(q, self.epsilon()), new_state

    def bootstrap(self, model: ActorCritic, obs: Tensor, state: State, segment_end: bool) -> Tensor:
        q_target, _ = q_values(self.target, obs, state)
        if not self.sarsa:
            return q_target.max(-1).values
        action = epsilon_greedy(q_values(model, obs, state)[0], self.epsilon())
        if segment_end:
            self.pending = action
        return q_target.gather(-1, action[:, None])[:, 0]


# ---------------------------------------------------------------- targets and the loss
def next_state_values(q_target: Tensor, actions: Tensor, last_value: Tensor, sarsa: bool) -> Tensor:
    """[T, K]: the target network's value of s_{t+1}: ``max_a Q-(s_{t+1}, a)`` (Q-learning) or
    ``Q-(s_{t+1}, a_{t+1})`` (Sarsa). ``q_target`` [T, K, n] holds ``Q-(s_t, .)``; the value of
    s_T (after the last step) is the rollout's ``last_value``."""
    if sarsa:
        values = q_target.gather(-1, actions.long().unsqueeze(-1)).squeeze(-1)
    else:
        values = q_target.max(-1).values
    return torch.cat([values[1:], last_value.unsqueeze(0)])


def onestep_targets(rewards: Tensor, dones: Tensor, next_values: Tensor, gamma: float) -> Tensor:
    """``y_t = r_t + gamma (1 - done_t) next_values_t`` (one-step Q-learning and Sarsa)."""
    return rewards + gamma * (1.0 - dones) * next_values


def q_targets(mode: str, target: ActorCritic, roll: Rollout, gamma: float) -> Tensor:
    """The targets [T, K] of ``mode`` for a rollout (no gradient flows through them)."""
    with torch.no_grad():
        if mode == "nstep_q":  # Algorithm S2: R = max_a Q-(s_T, a); R <- r_i + gamma R backwards
            return nstep_returns(roll.rewards, roll.dones, roll.last_value, gamma)
        q_next = unroll_q(target, roll.obs, roll.starts, roll.init_state)
        next_values = next_state_values(q_next, roll.actions, roll.last_value, mode == "onestep_sarsa")
        return onestep_targets(roll.rewards, roll.dones, next_values, gamma)


def q_loss(model: ActorCritic, target: ActorCritic, roll: Rollout, mode: str, gamma: float) -> Tensor:
    """Mean squared TD error ``(y_t - Q(s_t, a_t))^2`` over the rollout's valid steps."""
    q = unroll_q(model, roll.obs, roll.starts, roll.init_state)
    taken = q.gather(-1, roll.actions.long().unsqueeze(-1)).squeeze(-1)
    return masked_mean((q_targets(mode, target, roll, gamma) - taken) ** 2, roll.valid)


def target_due(before: int, after: int, period: int) -> bool:
    """The update that moved the global step from ``before`` to ``after`` crossed a multiple of
    ``period``: it copies the online weights into the target network (exactly one update does)."""
    return after // period > before // period
