"""Atari actor-critics for the generic engine: the A3C paper's CNN, the Nature-DQN CNN, an LSTM variant.

Input: ``[B, 4, 84, 84]`` float holding raw pixel values 0..255 (the engine converts the ``uint8``
observations to float; scaling to [0, 1] happens here, so the engine needs no Atari knowledge).

* ``"a3c"`` (default, Mnih et al. 2016 / 2013 DQN): conv 16 8x8 stride 4, conv 32 4x4 stride 2,
  fc 256, ReLU; linear policy (softmax) and value heads on the shared trunk.
* ``"nature"`` (Mnih et al. 2015): conv 32 8x8/4, conv 64 4x4/2, conv 64 3x3/1, fc 512.
* ``lstm=True``: the trunk's features go through an LSTMCell(256) (the paper's "A3C LSTM").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn
from torch.distributions import Distribution

from tradea3c.a3c.models import ActorCritic, CategoricalHead, State, register_model_factory

ARCHS = ("a3c", "nature")


def _init(layer: nn.Module, gain: float) -> nn.Module:
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


def conv_trunk(arch: str, channels: int) -> tuple[nn.Sequential, int]:
    """The convolutional trunk + first fully connected layer, and its output width."""
    g = float(np.sqrt(2))
    if arch == "a3c":
        convs = [nn.Conv2d(channels, 16, 8, 4), nn.Conv2d(16, 32, 4, 2)]
        flat, fc = 32 * 9 * 9, 256
    elif arch == "nature":
        convs = [nn.Conv2d(channels, 32, 8, 4), nn.Conv2d(32, 64, 4, 2), nn.Conv2d(64, 64, 3, 1)]
        flat, fc = 64 * 7 * 7, 512
    else:
        raise ValueError(f"arch {arch!r}: use one of {ARCHS}")
    layers: list[nn.Module] = []
    for conv in convs:
        layers += [_init(conv, g), nn.ReLU()]
    layers += [nn.Flatten(), _init(nn.Linear(flat, fc), g), nn.ReLU()]
    return nn.Sequential(*layers), fc


class AtariActorCritic(ActorCritic):
    """CNN trunk (optionally + LSTMCell) -> categorical policy and scalar value."""

    takes_uint8 = True  # rollouts may hand over raw uint8 frames; features() scales them to float

    def __init__(
        self, observation_shape: tuple[int, ...], n_actions: int, arch: str = "a3c", lstm_size: int = 0
    ) -> None:
        super().__init__()
        if len(observation_shape) != 3 or observation_shape[1:] != (84, 84):
            raise ValueError(f"expected [stack, 84, 84] observations, got {observation_shape}")
        self.arch = arch
        self.trunk, out = conv_trunk(arch, observation_shape[0])
        self.lstm_size = lstm_size
        self.recurrent = lstm_size > 0
        self.lstm = nn.LSTMCell(out, lstm_size) if lstm_size else None
        if self.lstm is not None:
            nn.init.zeros_(self.lstm.bias_ih)
            nn.init.zeros_(self.lstm.bias_hh)
            out = lstm_size
        self.policy = CategoricalHead(out, n_actions)
        self.value = _init(nn.Linear(out, 1), 1.0)

    def initial_state(self, batch: int) -> State:
        if self.lstm is None:
            return None
        zeros = torch.zeros(batch, self.lstm_size)
        return (zeros, zeros.clone())

    def features(self, obs: Tensor, state: State) -> tuple[Tensor, State]:
        h = self.trunk(obs * (1.0 / 255.0))
        if self.lstm is None:
            return h, None
        if state is None:
            state = self.initial_state(obs.shape[0])
        hx, cx = self.lstm(h, state)
        return hx, (hx, cx)

    def forward(self, obs: Tensor, state: State = None) -> tuple[Distribution, Tensor, State]:
        h, new_state = self.features(obs, state)
        return self.policy(h), self.value(h).squeeze(-1), new_state

    def act_distribution(self, obs: Tensor, state: State = None) -> tuple[Distribution, State]:
        h, new_state = self.features(obs, state)
        return self.policy(h), new_state


@dataclass(frozen=True)
class AtariModelFactory:
    """Picklable ``model_factory(observation_space, action_space)`` for the engine; checkpoints store
    its `spec` (``{"factory": "atari", "arch", "lstm", "lstm_size"}``), and importing this
    module registers ``"atari"`` so ``load_checkpoint`` can rebuild it."""

    arch: str = "a3c"
    lstm: bool = False
    lstm_size: int = 256
    name: ClassVar[str] = "atari"

    def spec(self) -> dict[str, Any]:
        return {"factory": self.name, "arch": self.arch, "lstm": self.lstm, "lstm_size": self.lstm_size}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> AtariModelFactory:
        """Rebuild from a stored spec (plain data read from a file, so every field is checked)."""
        arch, lstm, size = spec.get("arch"), spec.get("lstm"), spec.get("lstm_size")
        if arch not in ARCHS or type(lstm) is not bool or type(size) is not int or not 0 < size <= 65536:
            raise ValueError(f"atari model spec needs arch in {ARCHS}, lstm (bool), lstm_size (int)")
        return cls(arch, lstm, size)

    def __call__(self, observation_space: gym.Space[Any], action_space: gym.Space[Any]) -> AtariActorCritic:
        if not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(f"Atari models need a Discrete action space, got {action_space}")
        shape = tuple(int(s) for s in observation_space.shape or ())
        return AtariActorCritic(shape, int(action_space.n), self.arch, self.lstm_size if self.lstm else 0)


register_model_factory(AtariModelFactory.name, AtariModelFactory.from_spec)
