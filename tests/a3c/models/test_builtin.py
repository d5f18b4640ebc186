"""The built-in models (``tradea3c.a3c.models.builtin``): LSTM state resets at episode starts, the
Dirichlet head for portfolio weights, the fast categorical sampler, greedy actions and `Policy`."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import torch

from tests.a3c.conftest import CARTPOLE_OBS
from tradea3c.a3c import ModelConfig, build_model
from tradea3c.a3c.models import DirichletHead, Policy, greedy_action, reset_state
from tradea3c.a3c.models.base import sample_action
from tradea3c.a3c.models.builtin import sample_logits
from tradea3c.a3c.rollout import EnvBatch, RolloutCollector, evaluate_rollout


def test_lstm_state_resets_on_episode_start() -> None:
    torch.manual_seed(0)
    model = build_model(
        ModelConfig(kind="lstm", hidden=(8,), lstm_size=6), CARTPOLE_OBS, gym.spaces.Discrete(2)
    )
    state = model(torch.randn(2, 4), model.initial_state(2))[2]
    reset = reset_state(state, torch.tensor([True, False]))
    assert torch.all(reset[0][0] == 0) and torch.equal(reset[0][1], state[0][1])
    # in a rollout, a start flag at t=2 makes step 2 behave exactly like a fresh episode
    env = EnvBatch([gym.make("CartPole-v1")])
    roll = RolloutCollector(env, model, 0.99, seed=0).collect(model, 4)
    roll.starts[2] = torch.tensor([True])
    _, values, _, _ = evaluate_rollout(model, roll)
    fresh = model(roll.obs[2], model.initial_state(1))[1]
    assert torch.allclose(values[2], fresh)
    assert not torch.allclose(values[3], model(roll.obs[3], model.initial_state(1))[1])


def test_dirichlet_policy_samples_valid_weights() -> None:
    torch.manual_seed(0)
    head = DirichletHead(5, 4)
    dist = head(torch.randn(64, 5) * 10)
    w = sample_action(dist)
    assert torch.all(w > 0) and torch.allclose(w.sum(-1), torch.ones(64))
    assert torch.isfinite(dist.log_prob(w)).all() and torch.isfinite(dist.entropy()).all()
    box = gym.spaces.Box(0.0, 1.0, (4,), np.float32)
    model = build_model(ModelConfig(), CARTPOLE_OBS, box)  # policy="auto" -> Dirichlet for Box
    action, _ = greedy_action(model, np.zeros((3, 4), np.float32))
    assert action.shape == (3, 4) and np.allclose(action.sum(-1), 1.0)
    assert np.isclose(Policy(model).act(np.zeros(4, np.float32)).sum(), 1.0)


def test_fast_logit_sampling_matches_the_categorical_distribution() -> None:
    """`sample_logits` (the rollout fast path) must draw from softmax(logits), row by row."""
    logits = torch.tensor([[2.0, 0.0, -1.0], [-5.0, 0.0, 5.0], [0.0, 0.0, 0.0], [30.0, -30.0, 0.0]])
    torch.manual_seed(0)
    n = 40_000
    draws = sample_logits(logits.repeat(n, 1)).view(n, 4)  # n independent draws of each row, at once
    assert draws.min() >= 0 and draws.max() <= 2
    freq = torch.stack([(draws == a).float().mean(0) for a in range(3)], -1)  # [4, 3]
    probs = torch.softmax(logits, -1)
    assert torch.allclose(freq, probs, atol=4 * (0.25 / n) ** 0.5)  # 4 standard errors at most
    assert (draws[:, 3] == 0).all()  # an almost-certain action is always taken
    torch.manual_seed(1)
    a = sample_logits(logits)
    torch.manual_seed(1)
    assert torch.equal(a, sample_logits(logits))  # seeded: reproducible
    model = build_model(ModelConfig(hidden=(8,)), CARTPOLE_OBS, gym.spaces.Discrete(2))
    actions, state = model.act(torch.zeros(5, 4))
    assert actions.shape == (5,) and actions.dtype == torch.int64 and state is None
