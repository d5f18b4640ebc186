"""The model interface the engine uses, and the building blocks of the built-in models.

Every model implements [`ActorCritic`][] (a CNN for Atari only has to implement it)::

    class MyNet(ActorCritic):
        recurrent = False                      # True if it carries a hidden state
        def initial_state(self, batch): ...    # tuple of [batch, ...] tensors, or None
        def forward(self, obs, state):         # obs: float [B, *obs_shape]
            return distribution, value[B], new_state

The distribution is a ``torch.distributions.Distribution`` over a batch of B actions. Rollouts
call ``act(obs, state) -> (actions, new_state)``, which samples from ``act_distribution`` unless
a model overrides it with a faster path (the MLP samples categorical logits directly). A model
factory ``f(observation_space, action_space) -> ActorCritic`` must be picklable (a module-level
function or a small frozen dataclass) so worker processes can rebuild the network.

Also here: action sampling and initialised MLP layers, shared by the built-in models.
"""

from __future__ import annotations

import math

import numpy as np
import torch
from torch import Tensor, nn
from torch.distributions import Categorical, Dirichlet, Distribution

State = tuple[Tensor, ...] | None

UNAVAILABLE_SCORE = -1e9
"""The score (logit, or Q-value in the value-based modes) of an action that is not available now
(a per-asset model's unlisted item): never the argmax, never explored."""


class ScoredCategorical(Categorical):
    """A ``Categorical`` that keeps its unnormalised logits as ``scores`` [B, n].

    ``Categorical`` itself keeps only normalised logits; the value-based modes read a categorical
    head's raw outputs as Q-values (``tradea3c.a3c.qlearning.q_values``), so every model with a
    categorical head (MLP, LSTM, per-asset discrete, the Atari CNN) has a Q head without a new
    layer. Greedy actions are the same either way: argmax of the scores."""

    def __init__(self, scores: Tensor) -> None:
        super().__init__(logits=scores, validate_args=False)
        self.scores = scores


class ActorCritic(nn.Module):
    """Base class: ``forward(obs, state) -> (Distribution, value [B], new_state)``."""

    recurrent: bool = False

    def initial_state(self, batch: int) -> State:
        return None

    def act_distribution(self, obs: Tensor, state: State = None) -> tuple[Distribution, State]:
        """The policy alone, for acting during rollouts (values are recomputed in the update).
        Models with a separate critic override this to skip the critic's forward pass."""
        dist, _, new_state = self(obs, state)
        return dist, new_state

    def act(self, obs: Tensor, state: State = None) -> tuple[Tensor, State]:
        """Sampled actions for a batch (rollouts). Override for a faster path; the default samples
        from `act_distribution`."""
        dist, new_state = self.act_distribution(obs, state)
        return sample_action(dist), new_state

    def prior(self, dist: Distribution, obs: Tensor, kind: str) -> Distribution:
        """The default policy of the KL penalty (``A3CConfig.prior``) for the batch ``dist`` was
        computed on: "uniform", or "benchmark" (the model's anchor; a model without one raises)."""
        if kind == "uniform":
            if isinstance(dist, Categorical):
                return Categorical(logits=torch.zeros_like(dist.logits), validate_args=False)
            if isinstance(dist, Dirichlet):
                return Dirichlet(torch.ones_like(dist.concentration), validate_args=False)
        anchor = getattr(getattr(self, "policy", None), "anchor_logits", None)
        if kind == "benchmark" and anchor is not None and isinstance(dist, Categorical):
            return Categorical(logits=anchor.expand_as(dist.logits), validate_args=False)
        if kind == "benchmark":
            raise ValueError(
                f"a3c.prior = 'benchmark' needs an anchored model ({type(self).__name__} has no anchor): "
                "anchor the env (env.anchor) or use prior = 'uniform'"
            )
        raise ValueError(f"no {kind!r} prior for {type(dist).__name__} policies")


def prior_kl(dist: Distribution, prior: Distribution) -> Tensor:
    """KL(dist || prior) per batch row, [B]: the penalty ``A3CConfig.kl_coef`` weighs.

    Categorical, worked example: prior (0.1, 0.1, 0.8) (benchmark action 2, ``anchor_prob`` 0.8),
    policy (0.2, 0.2, 0.6): KL = 2 * 0.2 ln(0.2/0.1) + 0.6 ln(0.6/0.8) = 0.27726 - 0.17261 =
    0.10465; its gradient w.r.t. the logits z is ``pi * (log pi - log q - KL)``, so the penalty
    pushes probability toward the prior's benchmark action, where the entropy bonus would push it
    toward uniform. Dirichlets use the closed form (`torch.distributions.kl_divergence`; a
    masked Dirichlet registers its own, ``per_asset.masked_dirichlet_kl``)."""
    if isinstance(dist, Categorical) and isinstance(prior, Categorical):
        logp = dist.logits
        return (logp.exp() * (logp - prior.logits)).sum(-1)
    return torch.distributions.kl_divergence(dist, prior)


def anchor_log_probs(n: int, action: int, prob: float) -> Tensor:
    """Log-probabilities of the benchmark prior over ``n`` actions: ``prob`` on ``action``, the
    rest spread evenly (e.g. n 3, action 2, prob 0.8: log(0.1, 0.1, 0.8))."""
    if not 0 <= action < n:
        raise ValueError(f"anchor_action {action} is not an action of Discrete({n})")
    out = torch.full((n,), math.log((1.0 - prob) / (n - 1)))
    out[action] = math.log(prob)
    return out


def reset_state(state: State, start: Tensor) -> State:
    """Zero the hidden state of the envs whose episode starts (``start`` bool [B])."""
    if state is None or not bool(start.any()):
        return state
    keep = (~start).to(state[0].dtype).unsqueeze(-1)
    return tuple(s * keep for s in state)


def mlp(in_features: int, hidden: tuple[int, ...], activation: str) -> tuple[nn.Sequential, int]:
    act = {"tanh": nn.Tanh, "relu": nn.ReLU}[activation]
    layers: list[nn.Module] = []
    for width in hidden:
        lin = nn.Linear(in_features, width)
        nn.init.orthogonal_(lin.weight, float(np.sqrt(2)))
        nn.init.zeros_(lin.bias)
        layers += [lin, act()]
        in_features = width
    return nn.Sequential(*layers), in_features


def value_head(in_features: int) -> nn.Linear:
    lin = nn.Linear(in_features, 1)
    nn.init.orthogonal_(lin.weight, 1.0)
    nn.init.zeros_(lin.bias)
    return lin


def sample_action(dist: Distribution) -> Tensor:
    """Sample one action per batch row (Dirichlet samples are kept strictly inside the simplex)."""
    action = dist.sample()
    if isinstance(dist, Dirichlet):
        action = action.clamp_min(1e-6)
        mask = getattr(dist, "mask", None)  # a MaskedDirichlet's masked components stay exactly 0
        if mask is not None:
            action = action * mask
        action = action / action.sum(-1, keepdim=True)
    return action
