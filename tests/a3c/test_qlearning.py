"""The value-based modes (``tradea3c.a3c.qlearning``): hand-worked targets through a real rollout,
target-network sync, epsilon schedules, the Q head on the built-in models, one-line refusals."""

from __future__ import annotations

import copy
import multiprocessing as mp
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import Tensor

from tests.a3c.test_rollout import CountdownEnv  # obs = steps taken, reward 1, terminal after 3
from tradea3c.a3c import A3CConfig, ModelConfig, build_model
from tradea3c.a3c.models.base import UNAVAILABLE_SCORE, ActorCritic, ScoredCategorical, State
from tradea3c.a3c.optim import make_optimizer
from tradea3c.a3c.qlearning import (
    EpsilonGreedy,
    check_q_model,
    epsilon_at,
    epsilon_greedy,
    final_epsilon,
    q_targets,
    q_values,
    target_due,
)
from tradea3c.a3c.rollout import EnvBatch, RolloutCollector
from tradea3c.a3c.update import UpdateStats, Worker
from tradea3c.testing.gym_envs import GymEnvFactory

GAMMA = 0.5


class FixedQ(ActorCritic):
    """Q(s, a) = s * w[a]: known Q-values for hand-worked targets."""

    def __init__(self, w0: float, w1: float) -> None:
        super().__init__()
        self.w = torch.nn.Parameter(torch.tensor([float(w0), float(w1)]))

    def forward(self, obs: Tensor, state: State = None) -> tuple[Any, Tensor, State]:
        scores = obs[:, :1] * self.w
        return ScoredCategorical(scores), torch.zeros(obs.shape[0]), None


ONLINE, TARGET = (2.0, 1.0), (1.0, 3.0)  # greedy (online) action 0; max_a Q- = 3 s, Q-(s, 0) = s


def _rollout(mode: str, time_limit: int | None) -> Any:
    env: gym.Env[Any, Any] = CountdownEnv()
    if time_limit is not None:
        env = gym.wrappers.TimeLimit(env, max_episode_steps=time_limit)
    target = FixedQ(*TARGET)
    behaviour = EpsilonGreedy(target, 0.0, 0, lambda: 0, sarsa=mode == "onestep_sarsa")  # greedy
    online = FixedQ(*ONLINE)
    collector = RolloutCollector(EnvBatch([env]), online, GAMMA, seed=0, behaviour=behaviour)
    return collector.collect(online, 4), target


# Terminal episode (s = 0, 1, 2 | terminal | 0, then s_T = 1), gamma 0.5, rewards 1:
#   n-step Q: R3 = 1 + .5 * max Q-(1) = 2.5; R2 = 1 (terminal); R1 = 1 + .5 * 1 = 1.5; R0 = 1.75
#   one-step Q: y_t = 1 + .5 * 3 s_{t+1}: 2.5, 4, 1 (terminal), 2.5
#   Sarsa (a' = 0: Q-(s', 0) = s'): 1.5, 2, 1, 1.5
# Truncated after 2 steps (s = 0, 1 | truncated, final obs 2 | 0, 1 | truncated, final 2 | s_T = 0):
#   the truncated step's reward becomes 1 + .5 * Q-(final): max = 6 -> 4 (Q); a' = 0 -> 2 (Sarsa)
#   n-step Q: R3 = 4; R2 = 1 + .5 * 4 = 3; R1 = 4; R0 = 3
#   one-step Q: 1 + .5 * 3 = 2.5, 4, 2.5, 4;  Sarsa: 1.5, 2, 1.5, 2
HAND_WORKED = {
    ("nstep_q", None): [1.75, 1.5, 1.0, 2.5],
    ("onestep_q", None): [2.5, 4.0, 1.0, 2.5],
    ("onestep_sarsa", None): [1.5, 2.0, 1.0, 1.5],
    ("nstep_q", 2): [3.0, 4.0, 3.0, 4.0],
    ("onestep_q", 2): [2.5, 4.0, 2.5, 4.0],
    ("onestep_sarsa", 2): [1.5, 2.0, 1.5, 2.0],
}


@pytest.mark.parametrize(("mode", "time_limit"), list(HAND_WORKED), ids=lambda x: str(x))
def test_targets_match_the_hand_worked_values(mode: str, time_limit: int | None) -> None:
    roll, target = _rollout(mode, time_limit)
    assert roll.actions[:, 0].tolist() == [0, 0, 0, 0]  # epsilon 0: the online argmax
    assert roll.obs[:, 0, 0].tolist() == (
        [0.0, 1.0, 2.0, 0.0] if time_limit is None else [0.0, 1.0, 0.0, 1.0]
    )
    y = q_targets(mode, target, roll, GAMMA)[:, 0]
    assert y.tolist() == pytest.approx(HAND_WORKED[mode, time_limit])


def test_sarsa_takes_the_action_its_last_target_used() -> None:
    target = FixedQ(*TARGET)
    behaviour = EpsilonGreedy(target, 1.0, 0, lambda: 0, sarsa=True)  # epsilon 1: random actions
    online = FixedQ(*ONLINE)
    collector = RolloutCollector(EnvBatch([CountdownEnv()]), online, GAMMA, seed=0, behaviour=behaviour)
    torch.manual_seed(0)
    for _ in range(6):
        roll = collector.collect(online, 4)
        pending = behaviour.pending
        assert pending is not None
        s_t = float(collector.obs[0, 0])
        assert float(roll.last_value[0]) == pytest.approx(s_t * TARGET[int(pending[0])])  # Q-(s_T, a_T)
        nxt = collector.collect(online, 1)
        assert int(nxt.actions[0, 0]) == int(pending[0])


def test_target_due_fires_once_per_period() -> None:
    assert target_due(90, 110, 100) and target_due(80, 100, 100) and target_due(0, 1000, 100)
    assert not target_due(100, 120, 100) and not target_due(0, 99, 100)
    steps = np.arange(0, 10_001, 20)
    assert sum(target_due(a, b, 300) for a, b in zip(steps[:-1], steps[1:], strict=True)) == 10_000 // 300


def test_the_worker_syncs_the_target_network_every_target_sync_steps() -> None:
    cfg = A3CConfig(
        mode="nstep_q",
        workers=1,
        t_max=20,
        total_steps=10_000,
        target_sync=100,
        model=ModelConfig(hidden=(8,)),
    )
    env = GymEnvFactory("CartPole-v1")(0)
    torch.manual_seed(0)
    shared = build_model(cfg.model, env.observation_space, env.action_space)
    target = copy.deepcopy(shared)
    step = mp.get_context("fork").Value("q", 0)
    worker = Worker(
        0, cfg, EnvBatch([env]), shared, make_optimizer(cfg, shared.parameters()), step, 0, target=target
    )
    synced = copy.deepcopy(target.state_dict())
    stats = UpdateStats(0)
    for _ in range(12):  # 20 steps per update: syncs after the 5th and the 10th
        at = worker.update(stats)
        now = list(target.state_dict().values())
        same = all(torch.equal(a, b) for a, b in zip(now, shared.state_dict().values(), strict=True))
        kept = all(torch.equal(a, b) for a, b in zip(now, synced.values(), strict=True))
        if at % 100 == 0:
            assert same, at
            synced = copy.deepcopy(target.state_dict())
        else:
            assert kept and not same, at


def test_final_epsilons_are_reproducible_from_the_seed_and_follow_the_papers_mix() -> None:
    cfg = A3CConfig(mode="nstep_q", seed=3)
    draws = [final_epsilon(cfg, i) for i in range(600)]
    assert draws == [final_epsilon(A3CConfig(mode="nstep_q", seed=3), i) for i in range(600)]
    assert draws[:16] != [final_epsilon(A3CConfig(mode="nstep_q", seed=4), i) for i in range(16)]
    shares = {e: draws.count(e) / len(draws) for e in (0.1, 0.01, 0.5)}
    assert set(draws) == {0.1, 0.01, 0.5}
    assert shares[0.1] == pytest.approx(0.4, abs=0.06) and shares[0.01] == pytest.approx(0.3, abs=0.06)
    custom = A3CConfig(mode="nstep_q", epsilon_finals=(0.05,), epsilon_probs=(1.0,))
    assert final_epsilon(custom, 7) == 0.05


def test_epsilon_anneals_linearly_from_one_to_the_final_value() -> None:
    assert epsilon_at(0, 0.1, 1000) == 1.0
    assert epsilon_at(500, 0.1, 1000) == pytest.approx(0.55)
    assert epsilon_at(1000, 0.1, 1000) == pytest.approx(0.1) == epsilon_at(5000, 0.1, 1000)
    assert epsilon_at(0, 0.01, 0) == 0.01  # no annealing
    cfg = A3CConfig(mode="onestep_q", total_steps=50_000, epsilon_anneal=0.2, seed=1)
    b = EpsilonGreedy.for_worker(cfg, 2, FixedQ(1, 1), lambda: 5_000)
    assert b.final == final_epsilon(cfg, 2) and b.anneal_steps == 10_000
    assert b.epsilon() == pytest.approx(epsilon_at(5_000, b.final, 10_000))


def test_exploration_never_picks_an_unavailable_action() -> None:
    torch.manual_seed(0)
    q = torch.tensor([[0.0, UNAVAILABLE_SCORE, 5.0, 1.0]]).repeat(2000, 1)
    explored = epsilon_greedy(q, 1.0)
    assert set(explored.tolist()) == {0, 2, 3}
    assert epsilon_greedy(q, 0.0).eq(2).all()
    share = (epsilon_greedy(q, 0.3) != 2).float().mean().item()  # 0.3 random, 2/3 of it not the argmax
    assert share == pytest.approx(0.2, abs=0.04)


@pytest.mark.parametrize("kind", ["mlp", "lstm"])
def test_the_categorical_head_is_the_q_head(kind: str) -> None:
    obs_space = gym.spaces.Box(-1.0, 1.0, (6,), np.float32)
    model = build_model(ModelConfig(kind=kind, hidden=(8,)), obs_space, gym.spaces.Discrete(3))
    check_q_model(model, obs_space, gym.spaces.Discrete(3), "nstep_q")
    x = torch.randn(5, 6)
    q, _ = q_values(model, x, model.initial_state(5))
    dist, _, _ = model(x, model.initial_state(5))
    assert q.shape == (5, 3) and torch.equal(q.argmax(-1), dist.logits.argmax(-1))  # greedy = argmax Q


def test_a_continuous_action_space_is_refused_in_one_line() -> None:
    obs_space = gym.spaces.Box(-1.0, 1.0, (6,), np.float32)
    box = gym.spaces.Box(0.0, 1.0, (3,), np.float32)
    model = build_model(ModelConfig(hidden=(8,)), obs_space, box)
    with pytest.raises(ValueError, match=r'needs Discrete actions.*action = "discrete"') as info:
        check_q_model(model, obs_space, box, "onestep_q")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("kw", "match"),
    [
        ({"epsilon_probs": (0.5, 0.5, 0.5)}, "must sum to 1"),
        ({"epsilon_finals": (0.1,), "epsilon_probs": (0.5, 0.5)}, "the same length"),
        ({"epsilon_finals": (1.5, 0.1, 0.1)}, r"lie in \[0, 1\]"),
        ({"epsilon_anneal": float("nan")}, "epsilon_anneal"),
        ({"target_sync": 0}, "target_sync"),
    ],
)
def test_bad_value_based_settings_are_refused(kw: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        A3CConfig(mode="nstep_q", **kw)
