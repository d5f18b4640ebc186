"""Helpers the engine's unit tests share: a seeded CartPole-sized MLP and one optimiser step."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch
from torch import nn

from tradea3c.a3c import ModelConfig, build_model

CARTPOLE_OBS = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)


def cartpole_mlp() -> nn.Module:
    """The same small MLP every call (torch seeded with 0): CartPole's observation, two actions."""
    torch.manual_seed(0)
    return build_model(ModelConfig(hidden=(8,)), CARTPOLE_OBS, gym.spaces.Discrete(2))


def step_with_ones(model: nn.Module, opt: torch.optim.Optimizer) -> None:
    """One optimiser step with every gradient set to one (module level: runs in a child process too)."""
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    opt.step()
