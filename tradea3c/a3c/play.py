"""`run_episode`: one episode of a policy in a Gymnasium env, the loop every evaluation shares.

Validation during training, backtests and the CartPole/Atari-style evaluators all play episodes
the same way: reset with a seed, clear the policy's recurrent state, step until terminated or
truncated, keep what each step reported.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import gymnasium as gym


class Agent(Protocol):
    """What an episode needs from a policy (`tradea3c.a3c.Policy` is one)."""

    def reset(self) -> None: ...

    def act(self, obs: Any) -> Any: ...


@dataclass
class EpisodeTrace:
    """What one episode did: ``infos[0]`` is the reset info, ``infos[i + 1]`` the info of step i."""

    actions: list[Any] = field(default_factory=list)
    rewards: list[float] = field(default_factory=list)
    infos: list[dict[str, Any]] = field(default_factory=list)
    terminated: bool = False

    @property
    def total_reward(self) -> float:
        return float(sum(self.rewards))


def run_episode(agent: Agent, env: gym.Env[Any, Any], *, seed: int | None = None) -> EpisodeTrace:
    """Play one episode of ``agent`` in ``env`` (reset with ``seed``) and return its trace."""
    trace = EpisodeTrace()
    obs, info = env.reset(seed=seed)
    agent.reset()
    trace.infos.append(info)
    done = False
    while not done:
        action = agent.act(obs)
        obs, reward, terminated, truncated, info = env.step(action)
        trace.actions.append(action)
        trace.rewards.append(float(reward))
        trace.infos.append(info)
        trace.terminated = bool(terminated)
        done = terminated or truncated
    return trace
