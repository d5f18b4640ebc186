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

from typing import Any, NamedTuple

import gymnasium as gym
import torch
from torch import Tensor, nn
from torch.distributions import Dirichlet, Distribution, Gamma, register_kl

from tradea3c.a3c.config import ModelConfig
from tradea3c.a3c.models.base import (
    UNAVAILABLE_SCORE,
    ActorCritic,
    ScoredCategorical,
    State,
    mlp,
    value_head,
)

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
    [B, 2H]; zeros for a row with no available item. (The model pools gathered rows with
    `segment_pool`; this dense form is the reference it is tested against.)"""
    m = mask.unsqueeze(-1)
    mean = (h * m).sum(1) / m.sum(1).clamp_min(1)
    top = h.masked_fill(~m, float("-inf")).amax(1)
    top = torch.where(mask.any(1, keepdim=True), top, torch.zeros_like(top))
    return torch.cat([mean, top], -1)


class _SegmentPool(torch.autograd.Function):
    """`segment_pool` with a hand-written backward: autograd's for ``scatter_reduce(amax)`` costs
    ~30x its forward at universe scale. Like ``amax``, the max's gradient is split evenly over ties."""

    @staticmethod
    def forward(ctx: Any, h: Tensor, seg: Tensor, count: Tensor, batch: int) -> Tensor:
        width = h.shape[1]
        total = h.new_zeros(batch, width).index_add_(0, seg, h)
        top = h.new_zeros(batch, width).scatter_reduce_(
            0, seg.unsqueeze(1).expand(-1, width), h, "amax", include_self=False
        )
        ctx.save_for_backward(h, seg, count, top)
        return torch.cat([total / count.clamp_min(1).unsqueeze(1).to(h.dtype), top], 1)

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, None, None, None]:
        h, seg, count, top = ctx.saved_tensors
        width = h.shape[1]
        g_mean = grad[:, :width] / count.clamp_min(1).unsqueeze(1).to(grad.dtype)
        # rows of a batch row are contiguous: embedding() gathers them ~4x faster than index_select
        # in place where it can: each [R, H] temporary is a pass over memory and adds to the peak
        hit = nn.functional.embedding(seg, top)
        torch.eq(h, hit, out=hit)  # 1.0 where the row is its batch row's max
        ties = torch.zeros_like(top).index_add_(0, seg, hit)
        hit.mul_(nn.functional.embedding(seg, grad[:, width:] / ties.clamp_min(1)))
        return hit.add_(nn.functional.embedding(seg, g_mean)), None, None, None


def segment_pool(h: Tensor, seg: Tensor, count: Tensor, batch: int) -> Tensor:
    """`pool` of gathered rows: ``h`` [R, H] the embeddings of the available items, ``seg`` [R]
    the batch row of each, ``count`` [B] rows per batch row: [B, 2H], zeros where count is 0."""
    return _SegmentPool.apply(h, seg, count, batch)


class _ItemMLP(torch.autograd.Function):
    """Linear + activation layers over [R, in] rows, each activation applied in place on the
    layer's output (sigmoid or ReLU) and only the outputs saved: at universe scale every [R, H]
    temporary autograd would add (the pre-activation, the activation's own output) costs a pass
    over memory, about what the matmul filling it costs."""

    @staticmethod
    def forward(ctx: Any, x: Tensor, relu: bool, *params: Tensor) -> Tensor:
        outs = [x]
        for w, b in zip(params[::2], params[1::2], strict=True):
            y = torch.addmm(b, outs[-1], w.t())
            outs.append(y.relu_() if relu else y.sigmoid_())
        ctx.relu = relu
        ctx.save_for_backward(*outs, *params)
        return outs[-1]

    @staticmethod
    def backward(ctx: Any, grad: Tensor) -> tuple[Tensor | None, ...]:
        saved = ctx.saved_tensors
        layers = (len(saved) - 1) // 3
        outs, params = saved[: layers + 1], saved[layers + 1 :]
        grads: list[Tensor | None] = [None] * len(params)
        g = grad
        for i in range(layers - 1, -1, -1):
            y, w = outs[i + 1], params[2 * i]
            if ctx.relu:
                g = torch.ops.aten.threshold_backward(g, y, 0)
            else:
                g = torch.ops.aten.sigmoid_backward(g, y)
            grads[2 * i], grads[2 * i + 1] = g.t() @ outs[i], g.sum(0)
            g = g @ w if i or ctx.needs_input_grad[0] else None
        return (g, None, *grads)


def item_mlp(net: nn.Sequential, rows: Tensor) -> tuple[Tensor, float, float]:
    """An `mlp` (Linear, activation, ...) over item rows in one `_ItemMLP` call: ``(a, scale,
    shift)`` with ``net(rows) == scale * a + shift`` (to float rounding).

    ReLU nets: ``a = net(rows)``. Tanh nets run as sigmoids, ``tanh(z) = 2 sigmoid(2z) - 1``
    (torch's sigmoid kernel is ~3x faster than its tanh on AVX2 CPUs): the factors fold into the
    small weights (layer 1: ``2W, 2b``; a later layer, whose input is ``2s - 1``: ``4W,
    2(b - W 1)``), so the [R, H] activations take one elementwise pass each, and the consumers
    apply ``2a - 1`` to what they read (the score layer, the pooled rows)."""
    linears = [m for m in net if isinstance(m, nn.Linear)]
    tanh = isinstance(net[1], nn.Tanh)
    params: list[Tensor] = []
    for i, lin in enumerate(linears):
        w, b = lin.weight, lin.bias
        if tanh:
            if i:
                w, b = 2.0 * w, b - w.sum(1)
            w, b = 2.0 * w, 2.0 * b
        params += [w, b]
    a = _ItemMLP.apply(rows, not tanh, *params)
    return (a, 2.0, -1.0) if tanh else (a, 1.0, 0.0)


class Gathered(NamedTuple):
    """The available items of a batch as rows (`PerItemActorCritic.gather`)."""

    rows: Tensor  # [R, W*F + 1]: (bar, feature) row-major, then the item's slot state
    index: Tensor  # [R] flat position b * n + i of each row, ascending
    seg: Tensor  # [R] its batch row b
    count: Tensor  # [B] available items per batch row
    available: Tensor  # [B, n] bool
    glob: Tensor  # [B, 2]: the residual slot's state and the global scalar


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

    def _layout(self, obs: Tensor) -> tuple[Tensor, int, int, int]:
        """``(flat obs [B, D], B, n items, W*F*n floats of windows)``; `ValueError` if D is not
        n items of this model's window x features + n + 2."""
        obs = obs.flatten(1)
        b, d = obs.shape
        n, r = divmod(d - 2, self.item_dim + 1)
        if r or n < 1:
            raise ValueError(
                f"per_asset model: an observation of {d} floats does not hold n items of "
                f"{self.window} x {self.n_features} features + n + 2"
            )
        return obs, b, n, self.item_dim * n

    def split(self, obs: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        """``(items [B, n, W*F + 1], available [B, n] bool, global [B, 2])`` of a flat batch; the
        item rows are (bar, feature) row-major plus the item's slot state, ``global`` is the
        residual slot's state and the global scalar."""
        obs, b, n, wf = self._layout(obs)
        x = obs[:, :wf].reshape(b, self.window, n, self.n_features).transpose(1, 2)
        available = x[:, :, -1].ne(0).any(-1)  # features at the last bar of the window
        slots = obs[:, wf : wf + n + 1]
        items = torch.cat([x.reshape(b, n, self.item_dim), slots[:, 1:, None]], -1)
        return items, available, torch.stack([slots[:, 0], obs[:, -1]], -1)

    def gather(self, obs: Tensor) -> Gathered:
        """The available items' rows only: the item networks run on these (unavailable items,
        already masked out of the policy and the pools, cost nothing), in batch-row order."""
        obs, b, n, wf = self._layout(obs)
        x = obs[:, :wf].reshape(b, self.window, n, self.n_features)
        available = x[:, -1].ne(0).any(-1)  # features at the last bar of the window
        index = available.flatten().nonzero().squeeze(1)
        seg, item = index // n, index % n
        feats = x[seg, :, item].reshape(-1, self.item_dim)  # one gather: [R, W, F] -> [R, W*F]
        rows = torch.cat([feats, obs[seg, wf + 1 + item].unsqueeze(1)], 1)
        glob = torch.stack([obs[:, wf], obs[:, -1]], -1)
        return Gathered(rows, index, seg, available.sum(1), available, glob)

    def _pooled(self, a: Tensor, scale: float, shift: float, g: Gathered) -> Tensor:
        """`segment_pool` of the embeddings ``scale * a + shift`` (mean and max commute with an
        increasing affine map), zeros for a batch row with no available item."""
        pooled = segment_pool(a, g.seg, g.count, g.available.shape[0])
        if scale == 1.0 and shift == 0.0:
            return pooled
        return pooled * scale + (g.count > 0).unsqueeze(1).to(a.dtype) * shift

    def _policy(self, g: Gathered) -> Distribution:
        a, scale, shift = item_mlp(self.actor_items, g.rows)
        b, n = g.available.shape
        w, bias = self.score.weight, self.score.bias
        s = nn.functional.linear(a, w * scale, bias + shift * w.sum(1))[:, 0]  # score(scale a + shift)
        # unavailable items score 0: masked below, so their value never reaches the policy
        items = a.new_zeros(b * n).index_copy(0, g.index, s).view(b, n)
        residual = self.residual(torch.cat([self._pooled(a, scale, shift, g), g.glob], -1))
        scores = torch.cat([residual, items], -1)
        available = g.available
        mask = nn.functional.pad(available, (1, 0), value=True)  # the residual slot is always open
        if self.categorical:
            return ScoredCategorical(scores.masked_fill(~mask, UNAVAILABLE_SCORE))
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

    def _value(self, g: Gathered) -> Tensor:
        net = self.actor_items if self.critic_items is None else self.critic_items
        pooled = self._pooled(*item_mlp(net, g.rows), g)
        return self.value(torch.cat([pooled, g.glob], -1)).squeeze(-1)

    def forward(self, obs: Tensor, state: State = None) -> tuple[Distribution, Tensor, State]:
        g = self.gather(obs)
        return self._policy(g), self._value(g), None

    def act_distribution(self, obs: Tensor, state: State = None) -> tuple[Distribution, State]:
        return self._policy(self.gather(obs)), None
