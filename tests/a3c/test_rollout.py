"""Rollouts (``tradea3c.a3c.rollout``): single envs and every Gymnasium autoreset mode give the same
valid transitions; a truncated episode bootstraps with the final observation's value."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch

from tradea3c.a3c import ModelConfig, build_model
from tradea3c.a3c.rollout import EnvBatch, RolloutCollector


class CountdownEnv(gym.Env[np.ndarray, int]):
    """Three steps per episode, reward 1 each; obs = steps taken. Truncates instead if asked."""

    observation_space = gym.spaces.Box(0.0, 10.0, (1,), np.float32)
    action_space = gym.spaces.Discrete(2)

    def __init__(self, truncate: bool = False) -> None:
        self.truncate, self.t = truncate, 0

    def reset(self, *, seed: int | None = None, options: Any = None) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.t = 0
        return np.array([0.0], np.float32), {}

    def step(self, action: int) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        self.t += 1
        end = self.t >= 3
        return np.array([self.t], np.float32), 1.0, end and not self.truncate, end and self.truncate, {}


@pytest.mark.parametrize("mode", ["single", "NextStep", "SameStep"])
def test_rollouts_handle_autoreset_modes(mode: str) -> None:
    if mode == "single":
        env: Any = CountdownEnv()
    else:
        env = gym.vector.SyncVectorEnv([CountdownEnv], autoreset_mode=gym.vector.AutoresetMode(mode))
    model = build_model(ModelConfig(hidden=(4,)), CountdownEnv.observation_space, CountdownEnv.action_space)
    roll = RolloutCollector(EnvBatch([env]), model, 0.9, seed=0).collect(model, 8)
    assert roll.episodes == [(3.0, 3), (3.0, 3)]
    valid = roll.valid[:, 0].tolist()
    assert valid == ([1, 1, 1, 0, 1, 1, 1, 0] if mode == "NextStep" else [1] * 8)
    assert roll.rewards[:, 0][roll.valid[:, 0] == 1].tolist() == [1.0] * 6 + [1.0] * (mode != "NextStep") * 2
    assert roll.dones[:, 0][roll.valid[:, 0] == 1].tolist()[:6] == [
        0,
        0,
        1,
        0,
        0,
        1,
    ]  # termination: no bootstrap
    real = roll.obs[:, 0, 0][roll.valid[:, 0] == 1].tolist()
    assert real[:6] == [0, 1, 2, 0, 1, 2]  # valid transitions start from the right observations


def test_truncation_bootstraps_with_final_value() -> None:
    model = build_model(ModelConfig(hidden=(4,)), CountdownEnv.observation_space, CountdownEnv.action_space)
    roll = RolloutCollector(EnvBatch([CountdownEnv(truncate=True)]), model, 0.9, seed=0).collect(model, 3)
    v_final = float(model(torch.tensor([[3.0]]), None)[1].detach())
    assert roll.dones[2, 0] == 1.0 and roll.rewards[2, 0] == pytest.approx(1.0 + 0.9 * v_final, abs=1e-5)
