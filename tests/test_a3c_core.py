"""Fast unit tests of the generic A3C engine: returns, gradient hand-off, shared optimisers, models."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from tradea3c.a3c import (
    A3CConfig,
    ModelConfig,
    build_model,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from tradea3c.a3c.models import DirichletHead, Policy, greedy_action, reset_state
from tradea3c.a3c.models.base import sample_action
from tradea3c.a3c.models.builtin import sample_logits
from tradea3c.a3c.optim import SharedAdam, SharedRMSprop, annealed_lr, make_optimizer
from tradea3c.a3c.rollout import EnvBatch, RolloutCollector, evaluate_rollout
from tradea3c.a3c.update import UpdateStats, Worker, gae, nstep_returns, push_grads

CARTPOLE_OBS = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)


# ---------------------------------------------------------------- returns
def test_nstep_returns_hand_worked() -> None:
    r = torch.tensor([[1.0], [1.0], [1.0]])
    no_done = torch.zeros(3, 1)
    last = torch.tensor([8.0])
    # R2 = 1 + .5*8 = 5, R1 = 1 + .5*5 = 3.5, R0 = 1 + .5*3.5 = 2.75
    assert torch.allclose(nstep_returns(r, no_done, last, 0.5)[:, 0], torch.tensor([2.75, 3.5, 5.0]))
    done_at_1 = torch.tensor([[0.0], [1.0], [0.0]])  # s_2 is a new episode: no bootstrap across t=1
    assert torch.allclose(nstep_returns(r, done_at_1, last, 0.5)[:, 0], torch.tensor([1.5, 1.0, 5.0]))


def test_gae_lambda_one_is_nstep_and_lambda_zero_is_td() -> None:
    g = torch.Generator().manual_seed(0)
    r, v = torch.randn(7, 3, generator=g), torch.randn(7, 3, generator=g)
    d = (torch.rand(7, 3, generator=g) < 0.3).float()
    last = torch.randn(3, generator=g)
    adv, ret = gae(r, v, d, last, 0.9, 1.0)
    assert torch.allclose(ret, nstep_returns(r, d, last, 0.9), atol=1e-6)
    assert torch.allclose(adv, ret - v, atol=1e-6)
    adv0, _ = gae(r, v, d, last, 0.9, 0.0)
    next_v = torch.cat([v[1:], last[None]])
    assert torch.allclose(adv0, r + 0.9 * next_v * (1 - d) - v, atol=1e-6)
    # hand-worked GAE: T=2, gamma=1, lambda=.5, V=[1,2], r=[0,0], V_T=4
    a, _ = gae(
        torch.zeros(2, 1), torch.tensor([[1.0], [2.0]]), torch.zeros(2, 1), torch.tensor([4.0]), 1.0, 0.5
    )
    assert torch.allclose(a[:, 0], torch.tensor([1.0 + 0.5 * 2.0, 2.0]))  # delta0=1, delta1=2


# ---------------------------------------------------------------- gradient hand-off
def _mlp() -> nn.Module:
    torch.manual_seed(0)
    return build_model(ModelConfig(hidden=(8,)), CARTPOLE_OBS, gym.spaces.Discrete(2))


def test_push_grads_copies_each_update_and_never_accumulates() -> None:
    shared, local = _mlp(), _mlp()
    shared.share_memory()
    grads = []
    for n in range(4):
        local.zero_grad(set_to_none=True)  # torch >= 2.0 default: grads become None
        x = torch.randn(5, 4) * (n + 1)
        dist, value, _ = local(x, None)
        (value.sum() - dist.entropy().sum()).backward()
        push_grads(local, shared)
        grads.append([p.grad.clone() for p in local.parameters()])
    for sp, g_last, g_first in zip(shared.parameters(), grads[-1], grads[0], strict=True):
        assert torch.equal(sp.grad, g_last)  # exactly one update's gradient ...
        assert not torch.allclose(sp.grad, g_last + g_first)  # ... not a sum over updates


def test_classic_alias_pattern_is_wrong_on_modern_torch() -> None:
    """Documents the trap: pytorch-a3c's ensure_shared_grads keeps the first update's gradient."""
    shared, local = _mlp(), _mlp()
    for n in range(2):
        local.zero_grad()
        dist, value, _ = local(torch.randn(5, 4) * (n + 1), None)
        (value.sum() - dist.entropy().sum()).backward()
        for lp, sp in zip(local.parameters(), shared.parameters(), strict=True):
            if sp.grad is not None:  # classic early return
                break
            sp._grad = lp.grad
    assert not torch.equal(next(shared.parameters()).grad, next(local.parameters()).grad)


class _RecordingOptimizer:
    """Stands in for the shared optimiser and records the shared gradients at each step."""

    def __init__(self, params: Any) -> None:
        self.params = list(params)
        self.param_groups = [{"lr": 0.0, "params": self.params}]
        self.seen: list[list[torch.Tensor]] = []

    def step(self) -> None:
        self.seen.append([p.grad.clone() for p in self.params])


def test_worker_update_hands_over_exactly_one_gradient() -> None:
    shared = _mlp()
    shared.share_memory()
    opt = _RecordingOptimizer(shared.parameters())
    cfg = A3CConfig(t_max=5, max_grad_norm=0.0)
    worker = Worker(0, cfg, EnvBatch([gym.make("CartPole-v1")]), shared, opt, mp.Value("q", 0), seed=0)
    for _ in range(3):
        worker.update(UpdateStats(0))
        for seen, lp in zip(opt.seen[-1], worker.local.parameters(), strict=True):
            assert torch.equal(seen, lp.grad)
    assert not torch.allclose(opt.seen[2][0], opt.seen[0][0] + opt.seen[1][0] + opt.seen[2][0])


# ---------------------------------------------------------------- shared optimisers
def _child_step(model: nn.Module, opt: torch.optim.Optimizer) -> None:
    for p in model.parameters():
        p.grad = torch.ones_like(p)
    opt.step()


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_shared_optimizer_state_is_shared_and_stepped_by_child(name: str) -> None:
    model = _mlp()
    model.share_memory()
    opt = make_optimizer(A3CConfig(optimizer=name, lr=0.01), model.parameters())
    assert isinstance(opt, SharedAdam if name == "adam" else SharedRMSprop)
    if name == "adam":
        assert opt.param_groups[0]["fused"]
    before = [p.detach().clone() for p in model.parameters()]
    state = opt.state[next(model.parameters())]
    assert all(v.is_shared() for v in state.values()) and float(state["step"]) == 0.0
    p = mp.get_context("forkserver").Process(target=_child_step, args=(model, opt))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert float(state["step"]) == 1.0  # the child's step is visible here: statistics are shared
    avg = state["exp_avg_sq" if name == "adam" else "square_avg"]
    assert float(avg.abs().sum()) > 0
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_lr_annealing_is_linear_to_zero() -> None:
    cfg = A3CConfig(lr=1e-3, total_steps=1000)
    assert annealed_lr(cfg, 0) == pytest.approx(1e-3)
    assert annealed_lr(cfg, 500) == pytest.approx(5e-4)
    assert annealed_lr(cfg, 1000) == 0.0 and annealed_lr(cfg, 2000) == 0.0
    assert annealed_lr(A3CConfig(lr=1e-3, lr_anneal=False), 10**9) == 1e-3


# ---------------------------------------------------------------- checkpoints
def _save(path: Path, model: nn.Module, opt: Any, step: int) -> None:
    save_checkpoint(
        path,
        model=model,
        optimizer=opt,
        config=A3CConfig(model=ModelConfig(hidden=(8,))),
        model_factory=None,
        observation_space=CARTPOLE_OBS,
        action_space=gym.spaces.Discrete(2),
        counters={"global_step": step},
        extra={"fingerprint": "abc"},
    )


def test_checkpoint_round_trip_and_atomicity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = _mlp()
    opt = SharedAdam(model.parameters(), lr=0.01)
    _child_step(model, opt)
    path = tmp_path / "latest.pt"
    _save(path, model, opt, step=123)
    payload = read_checkpoint(path)
    assert payload["counters"]["global_step"] == 123 and payload["extra"] == {"fingerprint": "abc"}
    opt2 = SharedAdam(_mlp().parameters(), lr=0.01)
    opt2.load_state_dict(payload["optimizer"])
    s1, s2 = opt.state_dict()["state"][0], opt2.state_dict()["state"][0]
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    loaded, cfg, meta = load_checkpoint(path)
    assert cfg.model.hidden == (8,) and meta["version"] and meta["extra"]["fingerprint"] == "abc"
    for a, b in zip(loaded.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)

    def broken_save(obj: Any, f: Any) -> None:
        Path(f).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        _save(path, model, opt, step=999)
    assert read_checkpoint(path)["counters"]["global_step"] == 123  # old file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.pt"]  # no temp files left


# ---------------------------------------------------------------- models
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
    _, values, _ = evaluate_rollout(model, roll)
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
    draws = torch.stack([sample_logits(logits) for _ in range(n)])  # [n, 4]
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


# ---------------------------------------------------------------- vector-env autoreset
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


def test_steady_rate_skips_start_up_warm_up_and_rows_after_the_budget(tmp_path: Path) -> None:
    from tradea3c.a3c.run import steady_steps_per_s

    csv_path = tmp_path / "metrics.csv"
    rows = [(1.0, 0), (2.0, 100), (4.0, 300), (6.0, 500), (9.0, 500)]  # last row: after the final eval
    csv_path.write_text("wall_s,global_step,steps_per_s\n" + "".join(f"{w},{s},0\n" for w, s in rows))
    assert steady_steps_per_s(csv_path) == pytest.approx((500 - 100) / (9.0 - 2.0))
    assert steady_steps_per_s(csv_path, budget=500) == pytest.approx((500 - 100) / (6.0 - 2.0))
    assert steady_steps_per_s(csv_path, warmup_s=3.0, budget=500) == pytest.approx((500 - 300) / (6.0 - 4.0))
    assert np.isnan(steady_steps_per_s(csv_path, warmup_s=5.0, budget=500))  # one row left


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_weight_decay_shrinks_weights_that_get_no_gradient(name: str) -> None:
    p = nn.Parameter(torch.ones(4))
    for wd, expected in ((0.0, 1.0), (0.1, 1.0 - 0.01 * 0.1)):
        p.data.fill_(1.0)
        opt = make_optimizer(A3CConfig(optimizer=name, lr=0.01, weight_decay=wd), [p])
        p.grad = torch.zeros(4)
        opt.step()
        if name == "adam" or wd == 0.0:  # decoupled (AdamW): p <- p - lr * wd * p
            assert torch.allclose(p.data, torch.full((4,), expected)), (name, wd, p.data)
        else:  # RMSProp's L2 term enters the normalised step: any shrink, no closed form worth pinning
            assert bool((p.data < 1.0).all())
    with pytest.raises(ValueError, match="weight_decay"):
        A3CConfig(weight_decay=-1.0)
