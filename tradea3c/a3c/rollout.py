"""Environment batching and t_max-step rollouts, for single envs and Gymnasium 1.x vector envs.

A worker's factory returns either a ``gymnasium.Env`` (classic A3C, K = 1) or a
``gymnasium.vector.VectorEnv`` with K sub-envs; A2C concatenates several of them. `EnvBatch`
hides the difference and reports, per sub-env and step:

* ``valid``: False for the transition a NEXT_STEP vector env spends on its automatic reset (the
  step after a done returns the reset observation, ignores the action, pays reward 0). Those
  transitions are masked out of the loss and are not counted as episode steps.
* ``start``: the returned observation is the first of a new episode (recurrent state is reset
  before it is processed).
* time-limit truncation: the final observation is returned so the rollout can bootstrap with
  ``gamma * V(final_obs)`` instead of treating truncation as termination.

Autoreset modes: single envs are reset by us (SAME_STEP semantics); vector envs must declare
``metadata["autoreset_mode"]`` NEXT_STEP (Gymnasium's default; assumed when missing) or SAME_STEP
(final observation taken from ``info["final_obs"]``); DISABLED is rejected.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor

from tradea3c.a3c.models.base import ActorCritic, State, prior_kl, reset_state
from tradea3c.a3c.seeding import env_seed


def _mode(env: gym.vector.VectorEnv) -> str:
    mode = env.metadata.get("autoreset_mode", gym.vector.AutoresetMode.NEXT_STEP)
    mode = getattr(mode, "value", mode)
    if mode not in ("NextStep", "SameStep"):
        raise ValueError(f"vector env autoreset_mode {mode!r} is not supported; use NEXT_STEP or SAME_STEP")
    return str(mode)


class EnvBatch:
    """Several envs (single or vector) stepped together as one batch of K sub-envs."""

    def __init__(self, envs: list[Any]) -> None:
        self.envs = envs
        self.sizes = [e.num_envs if isinstance(e, gym.vector.VectorEnv) else 1 for e in envs]
        self.modes = [_mode(e) if isinstance(e, gym.vector.VectorEnv) else "single" for e in envs]
        first = envs[0]
        vec = isinstance(first, gym.vector.VectorEnv)
        self.observation_space = first.single_observation_space if vec else first.observation_space
        self.action_space = first.single_action_space if vec else first.action_space
        self.num_envs = sum(self.sizes)
        self._pending = np.zeros(self.num_envs, dtype=bool)  # NEXT_STEP: next step is the autoreset one

    def reset(self, seed: int) -> np.ndarray:
        """First reset of every env, env j with ``env_seed(seed, j)`` (``tradea3c.a3c.seeding``)."""
        obs = []
        for i, env in enumerate(self.envs):
            o, _ = env.reset(seed=env_seed(seed, i))
            obs.append(o if self.sizes[i] > 1 or self.modes[i] != "single" else np.asarray(o)[None])
        self._pending[:] = False
        return np.concatenate(obs)

    def step(self, actions: np.ndarray) -> dict[str, Any]:
        parts: dict[str, list[Any]] = {k: [] for k in ("obs", "rew", "term", "trunc", "valid", "start")}
        finals: dict[int, Any] = {}
        offset = 0
        for env, size, mode in zip(self.envs, self.sizes, self.modes, strict=True):
            act = actions[offset : offset + size]
            pending = self._pending[offset : offset + size]
            if mode == "single":
                o, r, te, tr, _ = env.step(act[0])
                o, r, te, tr = np.asarray(o)[None], np.array([r]), np.array([te]), np.array([tr])
                if tr[0] and not te[0]:  # time limit: keep the final obs to bootstrap from
                    finals[offset] = o[0]
                if te[0] or tr[0]:
                    o = np.asarray(env.reset()[0])[None]
                valid, start = np.ones(1, bool), te | tr
            else:
                o, r, te, tr, info = env.step(act)
                te, tr = np.asarray(te, bool), np.asarray(tr, bool)
                if mode == "SameStep":
                    valid, start = np.ones(size, bool), te | tr
                    for j in np.flatnonzero(tr & ~te):
                        finals[offset + j] = info["final_obs"][j]
                else:  # NextStep: this call's obs is the final obs; the next call resets
                    valid, start = ~pending, pending.copy()
                    te, tr = te & valid, tr & valid
                    for j in np.flatnonzero(tr & ~te):
                        finals[offset + j] = o[j]
                    self._pending[offset : offset + size] = te | tr
            for k, v in zip(parts, (o, r, te, tr, valid, start), strict=True):
                parts[k].append(np.asarray(v))
            offset += size
        out: dict[str, Any] = {k: np.concatenate(v) for k, v in parts.items()}
        out["finals"] = finals
        return out

    def close(self) -> None:
        for env in self.envs:
            env.close()


def _obs_tensor(obs: Any, keep_uint8: bool = False) -> Tensor:
    """Observations as float32, or as uint8 (a private copy) for models that take raw bytes: a
    rollout of Atari frames then stores and moves a quarter of the bytes, and the model converts
    them once in its first layer."""
    array = np.asarray(obs)
    if keep_uint8 and array.dtype == np.uint8:
        return torch.tensor(array)
    return torch.as_tensor(array, dtype=torch.float32)


class Behaviour(Protocol):
    """How a rollout picks actions and values the states it stops at.

    `ActorCriticBehaviour` (A3C, A2C): sample from the policy, bootstrap with the critic.
    ``qlearning.EpsilonGreedy`` (the value-based modes): epsilon-greedy on the Q-values,
    bootstrap with the target network."""

    def act(self, model: ActorCritic, obs: Tensor, state: State) -> tuple[Tensor, State]:
        """Actions for the batch ``obs`` and the model's new recurrent state."""
        ...

    def bootstrap(self, model: ActorCritic, obs: Tensor, state: State, segment_end: bool) -> Tensor:
        """The value [B] of states the rollout cannot look past: the final observation of a
        time-limit truncation, or (``segment_end``) the state after the last of the t_max steps."""
        ...


class ActorCriticBehaviour:
    """Sample from the policy; bootstrap with ``V(s)`` (the paper's A3C)."""

    def act(self, model: ActorCritic, obs: Tensor, state: State) -> tuple[Tensor, State]:
        return model.act(obs, state)

    def bootstrap(self, model: ActorCritic, obs: Tensor, state: State, segment_end: bool) -> Tensor:
        return model(obs, state)[1]


@dataclass
class Rollout:
    obs: Tensor  # [T, K, *obs_shape]
    actions: Tensor  # [T, K, ...]
    rewards: Tensor  # [T, K] (truncations already bootstrapped)
    dones: Tensor  # [T, K] float, 1 = do not bootstrap across
    valid: Tensor  # [T, K] float mask of real transitions
    starts: Tensor  # [T, K] bool, reset state before obs[t]
    init_state: State  # recurrent state before obs[0] (before applying starts[0])
    last_value: Tensor  # [K] V(s_T) (value-based modes: the target network's bootstrap)
    episodes: list[tuple[float, int]]  # (return, length) of episodes finished in this rollout


class RolloutCollector:
    """Steps an `EnvBatch` t_max times under ``model`` (no grad), carrying state between calls;
    ``behaviour`` picks the actions and bootstraps (default: the actor-critic's own)."""

    def __init__(
        self, envs: EnvBatch, model: ActorCritic, gamma: float, seed: int, behaviour: Behaviour | None = None
    ) -> None:
        self.envs, self.gamma = envs, gamma
        self.behaviour: Behaviour = behaviour or ActorCriticBehaviour()
        self.uint8 = bool(getattr(model, "takes_uint8", False))
        self.obs = _obs_tensor(envs.reset(seed), self.uint8)
        k = envs.num_envs
        self.state = model.initial_state(k)
        self.start = torch.ones(k, dtype=torch.bool)
        self.ep_return = np.zeros(k)
        self.ep_len = np.zeros(k, dtype=np.int64)

    @torch.no_grad()
    def collect(self, model: ActorCritic, t_max: int) -> Rollout:
        obs, actions, rewards, dones, valid, starts = [], [], [], [], [], []
        episodes: list[tuple[float, int]] = []
        init_state = self.state
        state = self.state
        behaviour = self.behaviour
        for _ in range(t_max):
            state = reset_state(state, self.start)
            action, new_state = behaviour.act(model, self.obs, state)
            out = self.envs.step(action.numpy())
            reward = out["rew"].astype(np.float64)
            for j, final in out["finals"].items():  # time-limit truncation: bootstrap V(final_obs)
                sub = None if new_state is None else tuple(s[j : j + 1] for s in new_state)
                final_obs = _obs_tensor(final, self.uint8)[None]
                reward[j] += self.gamma * float(behaviour.bootstrap(model, final_obs, sub, False)[0])
            done = out["term"] | out["trunc"]
            obs.append(self.obs)
            actions.append(action)
            rewards.append(torch.as_tensor(reward, dtype=torch.float32))
            dones.append(torch.as_tensor(done, dtype=torch.float32))
            valid.append(torch.as_tensor(out["valid"], dtype=torch.float32))
            starts.append(self.start)
            self.ep_return += np.where(out["valid"], out["rew"], 0.0)
            self.ep_len += out["valid"]
            for j in np.flatnonzero(done):
                episodes.append((float(self.ep_return[j]), int(self.ep_len[j])))
                self.ep_return[j], self.ep_len[j] = 0.0, 0
            self.obs = _obs_tensor(out["obs"], self.uint8)
            self.start = torch.as_tensor(out["start"], dtype=torch.bool)
            state = new_state
        self.state = state
        last_value = behaviour.bootstrap(model, self.obs, reset_state(state, self.start), True)
        return Rollout(
            torch.stack(obs),
            torch.stack(actions),
            torch.stack(rewards),
            torch.stack(dones),
            torch.stack(valid),
            torch.stack(starts),
            init_state,
            last_value,
            episodes,
        )


def evaluate_rollout(
    model: ActorCritic, roll: Rollout, prior: str | None = None
) -> tuple[Tensor, Tensor, Tensor, Tensor | None]:
    """Re-run the model with gradients over a rollout: (log_probs, values, entropies, kls), each
    [T, K]; ``kls`` is KL(pi || the model's ``prior``) (`prior_kl`), None without a prior.

    Feed-forward models see the whole [T*K] batch in one call; recurrent ones are unrolled from
    ``init_state`` with the same episode-start resets as during collection (truncated BPTT).
    """
    t, k = roll.rewards.shape
    if not model.recurrent:
        obs = roll.obs.reshape(t * k, *roll.obs.shape[2:])
        dist, values, _ = model(obs, None)
        flat_actions = roll.actions.reshape(t * k, *roll.actions.shape[2:])
        kls = None if prior is None else prior_kl(dist, model.prior(dist, obs, prior)).reshape(t, k)
        return (
            dist.log_prob(flat_actions).reshape(t, k),
            values.reshape(t, k),
            dist.entropy().reshape(t, k),
            kls,
        )
    state = roll.init_state
    logps, values, ents, kl = [], [], [], []
    for i in range(t):
        state = reset_state(state, roll.starts[i])
        dist, value, state = model(roll.obs[i], state)
        logps.append(dist.log_prob(roll.actions[i]))
        values.append(value)
        ents.append(dist.entropy())
        if prior is not None:
            kl.append(prior_kl(dist, model.prior(dist, roll.obs[i], prior)))
    return torch.stack(logps), torch.stack(values), torch.stack(ents), torch.stack(kl) if kl else None


# ---------------------------------------------------------------- what every method computes from a rollout
def nstep_returns(rewards: Tensor, dones: Tensor, last_value: Tensor, gamma: float) -> Tensor:
    """R_t = r_t + gamma r_{t+1} + ... + gamma^{T-t} B_T, cut at episode ends, computed backwards
    from ``last_value`` = B_T: the A3C target with B_T = V(s_T) (Algorithm S3) and n-step
    Q-learning's with B_T = max_a Q(s_T, a; theta-) (Algorithm S2)."""
    returns = torch.empty_like(rewards)
    running = last_value
    for t in range(rewards.shape[0] - 1, -1, -1):
        running = rewards[t] + gamma * (1.0 - dones[t]) * running
        returns[t] = running
    return returns


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``x`` over entries where ``mask`` is 1 (masked-out transitions contribute nothing)."""
    return (x * mask).sum() / mask.sum().clamp_min(1.0)
