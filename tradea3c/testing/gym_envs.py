"""Picklable env factories and evaluators for registered Gymnasium envs (CartPole, Atari later).

They show the contract the engine expects and back the CartPole learning tests::

    train(GymEnvFactory("CartPole-v1"), cfg, run_dir,
          evaluate_fn=EpisodeReturnEvaluator("CartPole-v1", episodes=20), select_metric="mean_return")
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import gymnasium as gym
import numpy as np

from tradea3c.a3c.models.builtin import ActorCritic, Policy
from tradea3c.a3c.play import run_episode


@dataclass(frozen=True)
class GymEnvFactory:
    """``factory(worker_index)``: one env (``num_envs == 1``) or a SyncVectorEnv of ``num_envs``."""

    env_id: str
    num_envs: int = 1
    autoreset_mode: str = "NextStep"  # Gymnasium's default; "SameStep" also supported
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __call__(self, worker_index: int) -> Any:
        if self.num_envs == 1:
            return gym.make(self.env_id, **self.kwargs)
        mode = gym.vector.AutoresetMode(self.autoreset_mode)
        fns = [_MakeEnv(self.env_id, self.kwargs)] * self.num_envs
        return gym.vector.SyncVectorEnv(fns, autoreset_mode=mode)


@dataclass(frozen=True)
class _MakeEnv:
    env_id: str
    kwargs: dict[str, Any]

    def __call__(self) -> gym.Env[Any, Any]:
        return gym.make(self.env_id, **self.kwargs)


@dataclass(frozen=True)
class SeedRecordingFactory:
    """``factory(worker_index)``: ``inner``'s env, appending every ``reset`` seed it receives to
    ``<log_dir>/worker-<index>.txt`` (one line each, ``None`` for an unseeded reset), so a test can
    check which seeds the engine really hands to each worker's envs."""

    inner: Any
    log_dir: str

    def __call__(self, worker_index: int) -> Any:
        return _SeedRecorder(self.inner(worker_index), f"{self.log_dir}/worker-{worker_index}.txt")


class _SeedRecorder(gym.Wrapper[Any, Any, Any, Any]):
    def __init__(self, env: gym.Env[Any, Any], path: str) -> None:
        super().__init__(env)
        self.path = path

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None) -> Any:
        with open(self.path, "a") as log:
            log.write(f"{seed}\n")
        return super().reset(seed=seed, options=options)


@dataclass(frozen=True)
class EpisodeReturnEvaluator:
    """``evaluate_fn``: greedy policy for ``episodes`` episodes -> mean/min/std return."""

    env_id: str
    episodes: int = 20
    seed: int = 1_000_003
    greedy: bool = True
    kwargs: dict[str, Any] = field(default_factory=dict)

    def __call__(self, model: ActorCritic) -> dict[str, float]:
        env = gym.make(self.env_id, **self.kwargs)
        policy = Policy(model, greedy=self.greedy)
        returns = [run_episode(policy, env, seed=self.seed + i).total_reward for i in range(self.episodes)]
        env.close()
        r = np.asarray(returns)
        return {"mean_return": float(r.mean()), "min_return": float(r.min()), "std_return": float(r.std())}
