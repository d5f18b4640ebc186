"""The benchmark prior: anchored heads start at the benchmark, KL(pi || prior) is exact, and its
gradient pulls toward the anchor (where the entropy bonus pulls toward uniform)."""

from __future__ import annotations

import math

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.distributions import Categorical, Dirichlet

from tradea3c.a3c.config import A3CConfig, ModelConfig
from tradea3c.a3c.models import build_model
from tradea3c.a3c.models.base import anchor_log_probs, prior_kl
from tradea3c.a3c.models.per_asset import ANCHOR_RESIDUAL, MaskedDirichlet, masked_dirichlet_kl
from tradea3c.a3c.update import a3c_loss


def test_kl_worked_example_and_gradient() -> None:
    q = Categorical(logits=anchor_log_probs(3, 2, 0.8))
    np.testing.assert_allclose(q.probs.numpy(), [0.1, 0.1, 0.8], rtol=1e-6)
    z = torch.log(torch.tensor([0.2, 0.2, 0.6])).requires_grad_()
    kl = prior_kl(Categorical(logits=z), q)
    assert kl.item() == pytest.approx(2 * 0.2 * math.log(2) + 0.6 * math.log(0.75), abs=1e-6)
    assert kl.item() == pytest.approx(0.10465, abs=1e-5)
    kl.backward()
    pi = torch.softmax(z.detach(), -1)
    hand = pi * (pi.log() - q.logits - kl.detach())
    torch.testing.assert_close(z.grad, hand, rtol=1e-5, atol=1e-7)
    assert z.grad[2] < 0  # descending the KL raises the benchmark action's probability
    # the same policy against the uniform prior: KL = log 3 - H(pi)
    u = Categorical(logits=torch.zeros(3))
    assert prior_kl(Categorical(logits=z), u).item() == pytest.approx(
        math.log(3) - Categorical(logits=z).entropy().item(), abs=1e-6
    )


def test_kl_enters_the_loss_with_its_coefficient() -> None:
    lp, v, ent = torch.zeros(4, 2), torch.zeros(4, 2), torch.ones(4, 2)
    adv, ret, mask = torch.zeros(4, 2), torch.zeros(4, 2), torch.ones(4, 2)
    kls = torch.full((4, 2), 0.3)
    base = a3c_loss(lp, v, ent, adv, ret, mask, 0.5, 0.0)
    with_kl = a3c_loss(lp, v, ent, adv, ret, mask, 0.5, 0.0, kls=kls, kl_coef=0.1)
    assert with_kl.total.item() == pytest.approx(base.total.item() + 0.03)
    assert with_kl.kl.item() == pytest.approx(0.3)
    with pytest.raises(ValueError):
        A3CConfig(kl_coef=-1.0)


def test_anchored_categorical_starts_at_the_benchmark() -> None:
    space = gym.spaces.Box(-5, 5, (12,), np.float32)
    model = build_model(ModelConfig(anchor_action=2), space, gym.spaces.Discrete(3))
    obs = torch.randn(256, 12) * 3
    dist, _, _ = model(obs)
    assert (dist.logits.argmax(-1) == 2).all()  # greedy = hold the benchmark
    assert dist.probs[:, 2].mean().item() == pytest.approx(0.8, abs=0.02)
    prior = model.prior(dist, obs, "benchmark")
    assert prior_kl(dist, prior).max().item() < 0.01
    plain = build_model(ModelConfig(), space, gym.spaces.Discrete(3))
    with pytest.raises(ValueError, match="anchored"):
        plain.prior(plain(obs)[0], obs, "benchmark")


def test_masked_dirichlet_kl_is_the_kl_on_the_face() -> None:
    a = torch.tensor([[2.0, 3.0, 4.0, 5.0]])
    b = torch.tensor([[1.5, 2.0, 9.0, 1.0]])
    full = masked_dirichlet_kl(
        MaskedDirichlet(a, torch.ones_like(a, dtype=torch.bool)), b, torch.ones_like(a, dtype=torch.bool)
    )
    torch.testing.assert_close(full, torch.distributions.kl_divergence(Dirichlet(a), Dirichlet(b)))
    mask = torch.tensor([[True, True, False, True]])
    face = masked_dirichlet_kl(MaskedDirichlet(a, mask), b, mask)
    keep = [0, 1, 3]
    torch.testing.assert_close(
        face, torch.distributions.kl_divergence(Dirichlet(a[:, keep]), Dirichlet(b[:, keep]))
    )


def test_anchored_per_asset_policy_is_near_equal_weight() -> None:
    n, w, f = 6, 3, 2
    obs_dim = w * n * f + n + 2
    cfg = ModelConfig(kind="per_asset", hidden=(16, 16), anchor_concentration=500.0)
    model = build_model(
        cfg, gym.spaces.Box(-5, 5, (obs_dim,), np.float32), gym.spaces.Box(0, 1, (n + 1,)), window=w
    )
    obs = torch.randn(64, obs_dim)
    obs[:, (w - 1) * n * f : (w - 1) * n * f + f] = 0.0  # item 0 not available at the last bar
    dist, _, _ = model(obs)
    mean = dist.mean
    assert (mean[:, 1] == 0).all()  # the masked item
    torch.testing.assert_close(mean[:, 0], torch.full((64,), ANCHOR_RESIDUAL), atol=1e-6, rtol=0)
    torch.testing.assert_close(
        mean[:, 2:], torch.full((64, n - 1), (1 - ANCHOR_RESIDUAL) / (n - 1)), atol=1e-6, rtol=0
    )
    samples = dist.sample((50,))
    assert (samples[..., 2:] - mean[:, 2:]).abs().mean() < 0.02  # samples stay near the benchmark
    kl = prior_kl(dist, model.prior(dist, obs, "benchmark"))
    assert kl.abs().max().item() < 1e-3  # the untrained policy is its prior
