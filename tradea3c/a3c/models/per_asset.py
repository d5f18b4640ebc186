"""Per-item actor-critic: one small network scores every item of a set from its own window.

Permutation-equivariant, in the spirit of the EIIE topology (Jiang, Xu & Liang 2017, "A Deep
Reinforcement Learning Framework for the Financial Portfolio Management Problem"): the same
network reads each item's window of features and its own state, so the parameter count does not
depend on the number of items n, and a model trained on one set of items runs on another of any
size. The engine sees a generic layout; the portfolio env is one producer of it.

Observation, flat float32, for n items with a window of W bars of F features each::

    [ windows, laid out (bar, item, feature) row-major: W*n*F ][ slot state: n+1 ][ global: 1 ]

Slot 0 is the residual slot (the portfolio's cash), slots 1..n the items (their held weights);
the global scalar is the portfolio's equity / initial - 1. Action: n+1 weights on the simplex
(residual first) from one Dirichlet, or ``Discrete(n+1)`` from one categorical.

Sizes: W comes from the factory (``BuiltinModelFactory(cfg, window=W)``; a strategy passes its
env's window), W*F from the observation space at build time, and n from each observation at run
time (``n = (D - 2) / (W*F + 1)``), so the same module, or its state dict loaded into a model
built for another n, acts on any number of items.

Policy: item i's score ``s_i`` is a linear read of its embedding ``h_i`` = MLP(window_i, state_i);
the residual slot's score is a linear read of the items' pooled embeddings (mean and max over the
available items) plus the residual state and the global scalar. Dirichlet concentrations are
``1 + softplus(score)`` as in ``tradea3c.a3c.models.builtin.DirichletHead``. The critic pools
(mean, max) its own per-item embeddings, so the value is invariant to the items' order.

Anchored (``cfg.anchor_concentration = c > 0``): concentrations are ``c * softmax(log w + s)``
over the open slots, ``w`` the equal-weight benchmark (`anchor_weights`) and ``s`` the scores,
which start near 0 (0.01-gain heads): the untrained policy's mean weights are the benchmark and
its samples stay close to it (the weight of slot i has variance ``w_i (1 - w_i) / (c + 1)``); the
KL prior ``Dir(c w)`` (``A3CConfig.prior = "benchmark"``) pulls it back there.

Masking: an item whose features at the last bar of its window are all exactly 0 is unavailable
at this decision (the portfolio env writes 0.0 for an asset that is not listed or not yet warmed
up, and gives it no weight whatever the action says). It gets exactly zero weight: the Dirichlet
lives on the face of the simplex spanned by the residual slot and the available items
(`MaskedDirichlet`), so log-probs and entropies stay finite however many are masked. A
real item whose F features are all exactly 0 at once is masked too; with F >= 2 continuous
features that has probability zero (with one feature, e.g. a zero return on a flat bar, it can
happen, and costs that bar's opportunity, never a forbidden position).
"""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import torch
from torch import Tensor, nn
from torch.distributions import Categorical, Dirichlet, Distribution, Gamma, register_kl

from tradea3c.a3c.config import ModelConfig
from tradea3c.a3c.models.base import ActorCritic, State, mlp, value_head

MASKED_ALPHA = 1e-6
"""``concentration`` of a masked component as seen by code that rebuilds a plain Dirichlet from it
(ensemble mixtures): its mean weight stays ~0."""


class MaskedDirichlet(Dirichlet):
    """Dirichlet over the components where ``mask`` (bool, same shape) is True; the others are
    exactly 0 in samples and in ``mean`` and take no part in ``log_prob`` or ``entropy``.

    With k available components this is the ordinary k-dimensional Dirichlet on that face of the
    simplex (with nothing masked, it equals ``Dirichlet(concentration)`` exactly). A row with only
    one available component is a point mass: log-prob 0, entropy 0."""

    def __init__(self, concentration: Tensor, mask: Tensor) -> None:
        self.mask = mask
        # 1.0 at masked components: (alpha - 1) log x and lgamma(alpha) vanish there, no inf/NaN
        self._alpha = torch.where(mask, concentration, torch.ones_like(concentration))
        super().__init__(torch.where(mask, concentration, MASKED_ALPHA), validate_args=False)

    @property
    def mean(self) -> Tensor:
        a = self._alpha * self.mask
        return a / a.sum(-1, keepdim=True)

    def rsample(self, sample_shape: torch.Size | tuple[int, ...] = ()) -> Tensor:
        g = Gamma(self._alpha, torch.ones_like(self._alpha)).rsample(torch.Size(sample_shape)) * self.mask
        return g / g.sum(-1, keepdim=True)

    def log_prob(self, value: Tensor) -> Tensor:
        a, m = self._alpha, self.mask
        x = torch.where(m, value, torch.ones_like(value)).clamp_min(torch.finfo(value.dtype).tiny)
        return ((a - 1.0) * x.log() - torch.lgamma(a)).sum(-1) + torch.lgamma((a * m).sum(-1))

    def entropy(self) -> Tensor:
        a, m = self._alpha, self.mask
        k = m.sum(-1).to(a.dtype)
        a0 = (a * m).sum(-1)
        return (
            torch.lgamma(a).sum(-1)
            - torch.lgamma(a0)
            + (a0 - k) * torch.digamma(a0)
            - ((a - 1.0) * torch.digamma(a)).sum(-1)
        )


def masked_dirichlet_kl(dist: MaskedDirichlet, prior_alpha: Tensor, mask: Tensor) -> Tensor:
    """KL(Dir(a) || Dir(b)) on the face of the simplex where ``mask`` is True, per row:
    ``lgamma(a0) - sum lgamma(a) - lgamma(b0) + sum lgamma(b) + sum (a - b)(digamma(a) - digamma(a0))``
    with the sums and totals over available components only."""
    ones = torch.ones_like(dist._alpha)
    a = torch.where(mask, dist._alpha, ones)
    b = torch.where(mask, prior_alpha, ones)
    m = mask.to(a.dtype)
    a0, b0 = (a * m).sum(-1), (b * m).sum(-1)
    return (
        torch.lgamma(a0)
        - (torch.lgamma(a) * m).sum(-1)
        - torch.lgamma(b0)
        + (torch.lgamma(b) * m).sum(-1)
        + ((a - b) * (torch.digamma(a) - torch.digamma(a0).unsqueeze(-1)) * m).sum(-1)
    )


@register_kl(MaskedDirichlet, MaskedDirichlet)
def _kl_masked(p: MaskedDirichlet, q: MaskedDirichlet) -> Tensor:
    return masked_dirichlet_kl(p, q._alpha, p.mask)


ANCHOR_RESIDUAL = 0.02
"""Mean weight of the residual slot (cash) under the equal-weight anchor: the benchmark is 98%
equal weight over the available items, and the Dirichlet keeps a way to cash open."""


def anchor_weights(available: Tensor) -> Tensor:
    """Benchmark weights [B, n+1] (residual first): `ANCHOR_RESIDUAL` in the residual slot, the
    rest spread evenly over the available items (all in the residual slot when none is)."""
    m = available.to(torch.float32)
    k = m.sum(-1, keepdim=True)
    items = (1.0 - ANCHOR_RESIDUAL) * m / k.clamp_min(1.0)
    residual = torch.where(k > 0, torch.full_like(k, ANCHOR_RESIDUAL), torch.ones_like(k))
    return torch.cat([residual, items], -1)


def pool(h: Tensor, mask: Tensor) -> Tensor:
    """Mean and max of item embeddings ``h`` [B, n, H] over the available items (``mask`` [B, n]):
    [B, 2H]; zeros for a row with no available item."""
    m = mask.unsqueeze(-1)
    mean = (h * m).sum(1) / m.sum(1).clamp_min(1)
    top = h.masked_fill(~m, float("-inf")).amax(1)
    top = torch.where(mask.any(1, keepdim=True), top, torch.zeros_like(top))
    return torch.cat([mean, top], -1)


def _slots(action_space: gym.Space[Any]) -> int:
    if isinstance(action_space, gym.spaces.Discrete):
        return int(action_space.n)
    if isinstance(action_space, gym.spaces.Box) and len(action_space.shape) == 1:
        return int(action_space.shape[0])
    raise ValueError(f"per_asset model needs Discrete(n+1) or Box((n+1,)) actions, got {action_space}")


class PerItemActorCritic(ActorCritic):
    """Permutation-equivariant actor-critic over a set of items (module docstring)."""

    def __init__(self, cfg: ModelConfig, obs_dim: int, action_space: gym.Space[Any], window: int) -> None:
        super().__init__()
        policy = cfg.policy
        if policy == "auto":
            policy = "categorical" if isinstance(action_space, gym.spaces.Discrete) else "dirichlet"
        if (policy == "categorical") != isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(f"{policy} policy does not fit the action space {action_space}")
        n = _slots(action_space) - 1
        rest = obs_dim - n - 2  # the windows: W*n*F floats
        if n < 1 or window < 1 or rest < window * n or rest % (window * n):
            raise ValueError(
                f"per_asset model: an observation of {obs_dim} floats is not {n} items x a window of "
                f"{window} bars x F features + {n + 1} slot states + 1 (is {window} the env's window?)"
            )
        self.categorical = policy == "categorical"
        self.anchor_concentration = float(cfg.anchor_concentration)
        if self.anchor_concentration > 0 and self.categorical:
            raise ValueError("anchor_concentration anchors Dirichlet weights; this policy is categorical")
        self.window = window
        self.item_dim = rest // n  # W*F
        self.n_features = self.item_dim // window
        self.actor_items, h = mlp(self.item_dim + 1, cfg.hidden, cfg.activation)
        self.critic_items = (
            None if cfg.shared_trunk else mlp(self.item_dim + 1, cfg.hidden, cfg.activation)[0]
        )
        self.score = nn.Linear(h, 1)
        self.residual = nn.Linear(2 * h + 2, 1)
        for lin in (self.score, self.residual):
            # anchored: zero scores, so the untrained policy's mean is the benchmark exactly (and
            # its greedy backtest trades like it); the gradient still reaches these weights
            nn.init.orthogonal_(lin.weight, 0.0 if self.anchor_concentration > 0 else 0.01)
            nn.init.zeros_(lin.bias)
        trunk, out = mlp(2 * h + 2, (h,), cfg.activation)
        self.value = nn.Sequential(trunk, value_head(out))

    def split(self, obs: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(items [B, n, W*F + 1], available [B, n] bool, global [B, 2])`` of a flat batch; the
        item rows are (bar, feature) row-major plus the item's slot state, ``global`` is the
        residual slot's state and the global scalar."""
        obs = obs.flatten(1)
        b, d = obs.shape
        n, r = divmod(d - 2, self.item_dim + 1)
        if r or n < 1:
            raise ValueError(
                f"per_asset model: an observation of {d} floats does not hold n items of "
                f"{self.window} x {self.n_features} features + n + 2"
            )
        wf = self.item_dim * n
        x = obs[:, :wf].reshape(b, self.window, n, self.n_features).transpose(1, 2)
        available = x[:, :, -1].ne(0).any(-1)  # features at the last bar of the window
        slots = obs[:, wf : wf + n + 1]
        items = torch.cat([x.reshape(b, n, self.item_dim), slots[:, 1:, None]], -1)
        return items, available, torch.stack([slots[:, 0], obs[:, -1]], -1)

    def _policy(self, items: Tensor, available: Tensor, glob: Tensor) -> Distribution:
        h = self.actor_items(items)
        scores = torch.cat(
            [self.residual(torch.cat([pool(h, available), glob], -1)), self.score(h)[..., 0]], -1
        )
        mask = nn.functional.pad(available, (1, 0), value=True)  # the residual slot is always open
        if self.categorical:
            return Categorical(logits=scores.masked_fill(~mask, -1e9), validate_args=False)
        if self.anchor_concentration > 0:  # scores tilt the log benchmark weights
            logits = (anchor_weights(available).log() + scores).masked_fill(~mask, -1e9)
            alpha = self.anchor_concentration * torch.softmax(logits, -1)
            return MaskedDirichlet(alpha.clamp(1e-3, 1e4), mask)
        alpha = 1.0 + nn.functional.softplus(scores)
        return MaskedDirichlet(alpha.clamp_max(1e4), mask)

    def prior(self, dist: Distribution, obs: Tensor, kind: str) -> Distribution:
        """Benchmark prior of an anchored model: ``Dir(anchor_concentration * anchor_weights)``."""
        if kind == "benchmark" and self.anchor_concentration > 0:
            _, available, _ = self.split(obs)
            mask = nn.functional.pad(available, (1, 0), value=True)
            return MaskedDirichlet(self.anchor_concentration * anchor_weights(available), mask)
        return super().prior(dist, obs, kind)

    def _value(self, items: Tensor, available: Tensor, glob: Tensor) -> Tensor:
        net = self.actor_items if self.critic_items is None else self.critic_items
        return self.value(torch.cat([pool(net(items), available), glob], -1)).squeeze(-1)

    def forward(self, obs: Tensor, state: State = None) -> tuple[Distribution, Tensor, State]:
        items, available, glob = self.split(obs)
        return self._policy(items, available, glob), self._value(items, available, glob), None

    def act_distribution(self, obs: Tensor, state: State = None) -> tuple[Distribution, State]:
        return self._policy(*self.split(obs)), None
