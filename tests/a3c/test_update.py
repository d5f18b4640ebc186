"""One A3C update (``tradea3c.a3c.update``): n-step returns and GAE worked by hand, and the gradient
hand-off from a worker's local model to the shared one (exactly one update's gradient, never a sum)."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
import torch.multiprocessing as mp

from tests.a3c.conftest import cartpole_mlp
from tradea3c.a3c import A3CConfig
from tradea3c.a3c.rollout import EnvBatch, nstep_returns
from tradea3c.a3c.update import UpdateStats, Worker, gae, push_grads


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
def test_push_grads_copies_each_update_and_never_accumulates() -> None:
    shared, local = cartpole_mlp(), cartpole_mlp()
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
    shared, local = cartpole_mlp(), cartpole_mlp()
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
    shared = cartpole_mlp()
    shared.share_memory()
    opt = _RecordingOptimizer(shared.parameters())
    cfg = A3CConfig(t_max=5, max_grad_norm=0.0)
    worker = Worker(0, cfg, EnvBatch([gym.make("CartPole-v1")]), shared, opt, mp.Value("q", 0), seed=0)
    for _ in range(3):
        worker.update(UpdateStats(0))
        for seen, lp in zip(opt.seen[-1], worker.local.parameters(), strict=True):
            assert torch.equal(seen, lp.grad)
    assert not torch.allclose(opt.seen[2][0], opt.seen[0][0] + opt.seen[1][0] + opt.seen[2][0])
