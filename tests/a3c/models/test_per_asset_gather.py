"""The per-asset model's fast path (available rows gathered, fused item networks, segment pools)
against the dense forward it replaced: same log-probs, values, entropies and gradients, and masked
members get exactly zero weight."""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch import Tensor, nn
from torch.distributions import Categorical, Distribution

from tradea3c.a3c import ModelConfig
from tradea3c.a3c.models.base import sample_action
from tradea3c.a3c.models.builtin import BuiltinModelFactory
from tradea3c.a3c.models.per_asset import (
    MaskedDirichlet,
    PerItemActorCritic,
    anchor_weights,
    pool,
    segment_pool,
)

W, F, N, B = 3, 4, 9, 12


def dense_forward(m: PerItemActorCritic, obs: Tensor) -> tuple[Distribution, Tensor]:
    """The model's forward before gathering: every item through the nn.Sequential networks, dense
    pools, masking after the fact."""
    items, available, glob = m.split(obs)
    h = m.actor_items(items)
    scores = torch.cat([m.residual(torch.cat([pool(h, available), glob], -1)), m.score(h)[..., 0]], -1)
    mask = nn.functional.pad(available, (1, 0), value=True)
    dist: Distribution
    if m.categorical:
        dist = Categorical(logits=scores.masked_fill(~mask, -1e9), validate_args=False)
    elif m.anchor_concentration > 0:
        logits = (anchor_weights(available).log() + scores).masked_fill(~mask, -1e9)
        alpha = m.anchor_concentration * torch.softmax(logits, -1)
        dist = MaskedDirichlet(alpha.clamp(1e-3, 1e4), mask)
    else:
        dist = MaskedDirichlet((1.0 + nn.functional.softplus(scores)).clamp_max(1e4), mask)
    net = m.actor_items if m.critic_items is None else m.critic_items
    return dist, m.value(torch.cat([pool(net(items), available), glob], -1)).squeeze(-1)


def model(cfg: ModelConfig, discrete: bool = False) -> PerItemActorCritic:
    torch.manual_seed(0)
    obs = gym.spaces.Box(-5.0, 5.0, (W * N * F + N + 2,), np.float32)
    act = gym.spaces.Discrete(N + 1) if discrete else gym.spaces.Box(0.0, 1.0, (N + 1,), np.float32)
    m = BuiltinModelFactory(cfg, window=W)(obs, act)
    assert isinstance(m, PerItemActorCritic)
    with torch.no_grad():  # non-zero score heads (anchored ones start at exactly 0)
        for lin in (m.score, m.residual):
            lin.weight.normal_(0.0, 0.3)
    return m


def batch(seed: int = 0) -> tuple[Tensor, Tensor]:
    """Observations with some members masked (a whole row, single members, one member everywhere)."""
    g = torch.Generator().manual_seed(seed)
    feats = torch.randn(B, W, N, F, generator=g)
    masked = torch.rand(B, N, generator=g) < 0.3
    masked[:, 4] = True  # never available
    masked[2] = True  # a batch row with no available member
    feats[:, -1][masked] = 0.0  # the last bar's features: the availability signal
    weights = torch.distributions.Dirichlet(torch.ones(N + 1)).sample((B,))
    obs = torch.cat([feats.reshape(B, -1), weights, 0.1 * torch.randn(B, 1, generator=g)], 1)
    return obs, ~masked


CASES = {
    "dirichlet tanh": (ModelConfig(kind="per_asset", hidden=(16, 8)), False),
    "dirichlet relu shared": (
        ModelConfig(kind="per_asset", hidden=(16, 16), activation="relu", shared_trunk=True),
        False,
    ),
    "anchored": (ModelConfig(kind="per_asset", hidden=(16, 16), anchor_concentration=50.0), False),
    "categorical": (ModelConfig(kind="per_asset", hidden=(16, 16, 16)), True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_gathered_forward_matches_the_dense_one(case: str) -> None:
    cfg, discrete = CASES[case]
    m = model(cfg, discrete)
    obs, available = batch()
    dense, v0 = dense_forward(m, obs)
    fast, v1, _ = m(obs)
    if not discrete:
        assert isinstance(fast, MaskedDirichlet) and torch.equal(fast.mask[:, 1:], available)
    action = sample_action(dense)  # a categorical never samples a masked member (-1e9 logits)
    for a, b in (
        (dense.log_prob(action), fast.log_prob(action)),
        (dense.entropy(), fast.entropy()),
        (v0, v1),
    ):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-5)
    params = list(m.parameters())
    loss0 = (dense.log_prob(action) + dense.entropy()).sum() + v0.square().sum()
    g0 = torch.autograd.grad(loss0, params, allow_unused=True)
    loss1 = (fast.log_prob(action) + fast.entropy()).sum() + v1.square().sum()
    g1 = torch.autograd.grad(loss1, params, allow_unused=True)
    for a, b in zip(g0, g1, strict=True):
        if a is None or b is None:
            assert a is None and b is None
        else:  # float32 sums in another order: gradients of O(1) agree to a few 1e-5
            torch.testing.assert_close(b, a, rtol=1e-3, atol=5e-5)


def test_masked_members_get_exactly_zero_weight() -> None:
    m = model(CASES["dirichlet tanh"][0])
    obs, available = batch(1)
    dist, _ = m.act_distribution(obs)
    weights = sample_action(dist)
    items = weights[:, 1:]
    assert torch.all(items[~available] == 0.0) and torch.all(dist.mean[:, 1:][~available] == 0.0)
    assert torch.allclose(weights.sum(-1), torch.ones(B))
    assert torch.all(weights[2, 1:] == 0.0) and weights[2, 0] == 1.0  # nothing available: all cash
    assert torch.isfinite(dist.log_prob(weights)).all() and torch.isfinite(dist.entropy()).all()


def test_segment_pool_matches_the_dense_pool_and_its_gradient_with_ties() -> None:
    g = torch.Generator().manual_seed(3)
    h = torch.randn(5, 6, 4, generator=g, dtype=torch.float64)
    mask = torch.rand(5, 6, generator=g) < 0.7
    mask[1] = False
    h[0, 1], h[0, 3] = h[0, 2], h[0, 2]  # ties for the max
    mask[0, 1:4] = True
    dense_h = h.clone().requires_grad_(True)
    index = mask.flatten().nonzero().squeeze(1)
    rows = h.reshape(-1, 4)[index].clone().requires_grad_(True)
    weight = torch.randn(5, 8, generator=g, dtype=torch.float64)
    dense = pool(dense_h, mask)
    fast = segment_pool(rows, index // 6, mask.sum(1), 5)
    torch.testing.assert_close(fast, dense)
    (dense * weight).sum().backward()
    (fast * weight).sum().backward()
    assert dense_h.grad is not None and rows.grad is not None
    torch.testing.assert_close(rows.grad, dense_h.grad.reshape(-1, 4)[index])
