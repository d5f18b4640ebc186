"""Ensemble policies: N actor-critics (seeds of one config, walk-forward folds) acting as one.

[`EnsembleModel`][] is an [`ActorCritic`][tradea3c.a3c.models.base.ActorCritic], so everything that drives a
model (``Policy``, ``greedy_action``, ``run_episode``, backtests) drives an ensemble unchanged.
Its ``forward`` returns the members' *mixture* distribution, which ``greedy_from`` and
``sample_action`` already handle:

* categorical heads: ``Categorical(probs=mean of the members' softmax probabilities)``; greedy =
  argmax of that mean (not a majority vote), sampling = a draw from the mixture;
* Dirichlet heads (portfolio weights): `DirichletMixture`, a uniform mixture of the members'
  Dirichlets; greedy (its ``mean``) = the mean of the members' Dirichlet means, i.e. of their greedy
  weight vectors; sampling = pick a member uniformly, then sample its Dirichlet.

Members trained by a value-based mode (``tradea3c.a3c.qlearning``: their categorical outputs are
Q-values) combine by ``combine = "q"``: the mean of the members' Q-values (a `ScoredCategorical`;
greedy = argmax of the mean Q), or ``"vote"``: each member's greedy action is one vote (greedy =
the most votes, ties to the lowest action). ``"probs"`` (the default) is the mixture above.

The value is the mean of the members' values. Recurrent (LSTM) members keep their own states: the
ensemble's state is the flat concatenation of the members' state tuples (each tensor ``[B, ...]``,
so ``reset_state`` zeroes it like any model's), split back per member on every step; feed-forward
members contribute nothing to it, and an ensemble without recurrent member has state ``None``.

Members must share the observation and the action space: pass ``spaces`` (one
``(observation_space, action_space)`` pair per member, e.g. from checkpoint metadata, see
[`EnsembleModel.from_checkpoints`][]) to have it checked up front; members whose distributions
disagree in family or shape are refused at the first forward pass. Every refusal is one line.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import torch
from torch import Tensor, nn
from torch.distributions import Categorical, Dirichlet, Distribution, MixtureSameFamily

from tradea3c.a3c.models.base import ActorCritic, ScoredCategorical, State

__all__ = ["COMBINE", "DirichletMixture", "EnsembleModel", "average_distributions", "combine_distributions"]

COMBINE = ("probs", "q", "vote")
"""How an ensemble combines its members (`EnsembleModel`'s ``combine``)."""

Spaces = tuple[gym.Space[Any], gym.Space[Any]]


class DirichletMixture(MixtureSameFamily):
    """Uniform mixture of Dirichlets: ``mean`` = mean of the components' means (the greedy
    weights); samples are kept strictly inside the simplex, like ``sample_action`` does for one
    Dirichlet."""

    def sample(self, sample_shape: tuple[int, ...] = ()) -> Tensor:
        action = super().sample(torch.Size(sample_shape)).clamp_min(1e-6)
        return action / action.sum(-1, keepdim=True)


def _one_line(obj: Any, limit: int = 120) -> str:
    text = " ".join(repr(obj).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def average_distributions(dists: Sequence[Distribution]) -> Distribution:
    """The uniform mixture of the members' policies (see the module docstring); one-line
    ``TypeError`` for other or mixed families, ``ValueError`` for mismatched shapes."""
    if all(isinstance(d, Categorical) for d in dists):
        probs = [d.probs for d in dists]
        if any(p.shape != probs[0].shape for p in probs):
            shapes = ", ".join(str(tuple(p.shape)) for p in probs)
            raise ValueError(f"ensemble members disagree on the action shape (probabilities {shapes})")
        return Categorical(probs=torch.stack(probs).mean(0), validate_args=False)
    if all(isinstance(d, Dirichlet) for d in dists):
        alphas = [d.concentration for d in dists]
        if any(a.shape != alphas[0].shape for a in alphas):
            shapes = ", ".join(str(tuple(a.shape)) for a in alphas)
            raise ValueError(f"ensemble members disagree on the action shape (concentrations {shapes})")
        alpha = torch.stack(alphas, -2)  # [B, N, n]: batch [B, N] of Dirichlets over n weights
        weights = alpha.new_full(alpha.shape[:-1], 1.0 / len(dists))
        return DirichletMixture(
            Categorical(probs=weights, validate_args=False),
            Dirichlet(alpha, validate_args=False),
            validate_args=False,
        )
    kinds = ", ".join(sorted({type(d).__name__ for d in dists}))
    raise TypeError(f"an ensemble averages Categorical or Dirichlet policies (all of one kind), got {kinds}")


def combine_distributions(dists: Sequence[Distribution], combine: str) -> Distribution:
    """``"probs"``: `average_distributions`; ``"q"``: the mean of the members' raw scores (Q-values);
    ``"vote"``: the share of members whose greedy action each action is."""
    if combine == "probs":
        return average_distributions(dists)
    scores = [getattr(d, "scores", None) for d in dists]
    if any(s is None for s in scores):
        kinds = ", ".join(sorted({type(d).__name__ for d in dists}))
        raise TypeError(f'ensemble combine = "{combine}" needs categorical members (Q-values), got {kinds}')
    if any(s.shape != scores[0].shape for s in scores):  # type: ignore[union-attr]
        raise ValueError("ensemble members disagree on the number of actions")
    stacked = torch.stack(scores)  # type: ignore[arg-type]  # [N, B, n]
    if combine == "q":
        return ScoredCategorical(stacked.mean(0))
    votes = nn.functional.one_hot(stacked.argmax(-1), stacked.shape[-1]).to(stacked.dtype).mean(0)
    return Categorical(probs=votes, validate_args=False)


def check_spaces(spaces: Sequence[Spaces]) -> None:
    """One-line ``ValueError`` naming the first member whose spaces differ from member 0's."""
    obs0, act0 = spaces[0]
    for i, (obs, act) in enumerate(spaces[1:], 1):
        if obs != obs0:
            raise ValueError(
                f"ensemble member {i} has observation space {_one_line(obs)}, member 0 "
                f"{_one_line(obs0)}; members must share observation and action spaces"
            )
        if act != act0:
            raise ValueError(
                f"ensemble member {i} has action space {_one_line(act)}, member 0 "
                f"{_one_line(act0)}; members must share observation and action spaces"
            )


def _state_size(state: State) -> int:
    return 0 if state is None else len(state)


class EnsembleModel(ActorCritic):
    """``EnsembleModel(members, spaces=None)``: the members' averaged policy (module docstring).

    For evaluation and backtests (``Policy(EnsembleModel(...))``); it is not meant to be trained
    (the Dirichlet mixture has no closed-form entropy).
    """

    def __init__(
        self, members: Sequence[ActorCritic], spaces: Sequence[Spaces] | None = None, combine: str = "probs"
    ) -> None:
        super().__init__()
        members = list(members)
        if not members:
            raise ValueError("an ensemble needs at least one member model")
        if combine not in COMBINE:
            raise ValueError(f"ensemble combine {combine!r}: use one of {', '.join(COMBINE)}")
        self.combine = combine
        if spaces is not None:
            spaces = list(spaces)
            if len(spaces) != len(members):
                raise ValueError(f"got {len(spaces)} space pairs for {len(members)} ensemble members")
            check_spaces(spaces)
        self.members = nn.ModuleList(members)
        self.recurrent = any(bool(getattr(m, "recurrent", False)) for m in members)
        self.state_sizes = tuple(_state_size(m.initial_state(1)) for m in members)

    @classmethod
    def from_checkpoints(cls, loaded: Sequence[Any], combine: str = "probs") -> EnsembleModel:
        """From ``load_checkpoint`` results (their metadata holds the spaces that are checked)."""
        spaces = [(c.metadata["observation_space"], c.metadata["action_space"]) for c in loaded]
        return cls([c.model for c in loaded], spaces, combine)

    def __len__(self) -> int:
        return len(self.members)

    def initial_state(self, batch: int) -> State:
        if not self.recurrent:
            return None
        parts: list[Tensor] = []
        for m in self.members:
            parts += list(m.initial_state(batch) or ())
        return tuple(parts)

    def _split(self, state: State) -> list[State]:
        if state is None:
            return [None] * len(self.members)  # each member starts from its own initial state
        if len(state) != sum(self.state_sizes):
            raise ValueError(
                f"ensemble state has {len(state)} tensors, its members expect {sum(self.state_sizes)}"
            )
        out: list[State] = []
        i = 0
        for k in self.state_sizes:
            out.append(tuple(state[i : i + k]) if k else None)
            i += k
        return out

    def _join(self, states: list[State]) -> State:
        if not self.recurrent:
            return None
        parts: list[Tensor] = []
        for i, (k, s) in enumerate(zip(self.state_sizes, states, strict=True)):
            if _state_size(s) != k:
                raise ValueError(f"ensemble member {i} returned {_state_size(s)} state tensors, expected {k}")
            parts += list(s or ())
        return tuple(parts)

    def forward(self, obs: Tensor, state: State = None) -> tuple[Distribution, Tensor, State]:
        dists, values, states = [], [], []
        for m, s in zip(self.members, self._split(state), strict=True):
            dist, value, new_state = m(obs, s)
            dists.append(dist)
            values.append(value)
            states.append(new_state)
        return combine_distributions(dists, self.combine), torch.stack(values).mean(0), self._join(states)

    def act_distribution(self, obs: Tensor, state: State = None) -> tuple[Distribution, State]:
        dists, states = [], []
        for m, s in zip(self.members, self._split(state), strict=True):
            dist, new_state = m.act_distribution(obs, s)
            dists.append(dist)
            states.append(new_state)
        return combine_distributions(dists, self.combine), self._join(states)
