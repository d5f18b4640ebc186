"""The built-in actor-critics (MLP, LSTM), their policy heads, and the model-factory registry.

The interface they implement is [`ActorCritic`][tradea3c.a3c.models.base.ActorCritic] (``base.py``).

Describable factories: checkpoints store no code, only a *model spec*, so a factory that should
be rebuilt by ``load_checkpoint`` exposes ``spec() -> dict`` (``{"factory": NAME, **plain
kwargs}``) and registers ``NAME -> from_spec`` with [`register_model_factory`][] when its module
is imported (see `BuiltinModelFactory`; ``tradea3c.atari.model`` registers ``"atari"``).

Policy heads: `CategoricalHead` for ``Discrete`` actions and `DirichletHead` for
portfolio weights on the simplex. ``kind = "per_asset"`` builds the permutation-equivariant
per-item model of ``models/per_asset.py`` (parameters independent of the number of items).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch
from torch import Tensor, nn
from torch.distributions import Categorical, Dirichlet, Distribution

from tradea3c.a3c.config import ModelConfig
from tradea3c.a3c.models.base import (
    ActorCritic,
    ScoredCategorical,
    State,
    anchor_log_probs,
    mlp,
    sample_action,
    value_head,
)
from tradea3c.a3c.models.per_asset import PerItemActorCritic
from tradea3c.config import from_dict, to_dict


def _policy_linear(in_features: int, n: int) -> nn.Linear:
    """The policy's last layer, orthogonal with gain 0.01: the untrained policy is near uniform."""
    linear = nn.Linear(in_features, n)
    nn.init.orthogonal_(linear.weight, 0.01)
    nn.init.zeros_(linear.bias)
    return linear


class CategoricalHead(nn.Module):
    """Logits for a ``Discrete(n)`` action; greedy action = argmax.

    Anchored (``anchor = (action, prob)``): the bias starts at the benchmark prior's
    log-probabilities (`anchor_log_probs`), so the untrained policy holds the benchmark with
    probability ~``prob`` and its greedy action is the benchmark (the 0.01-gain weights move the
    logits by far less than the prior's margin); ``anchor_logits`` is that prior, for the KL penalty."""

    def __init__(self, in_features: int, n: int, anchor: tuple[int, float] | None = None) -> None:
        super().__init__()
        self.linear = _policy_linear(in_features, n)
        self.anchor_logits: Tensor | None = None
        if anchor is not None:
            self.anchor_logits = anchor_log_probs(n, *anchor)
            with torch.no_grad():
                self.linear.bias.copy_(self.anchor_logits)

    def forward(self, x: Tensor) -> Distribution:
        return ScoredCategorical(self.linear(x))

    def sample(self, x: Tensor) -> Tensor:
        """Sample actions without building a ``Categorical`` (its logit normalisation and
        ``multinomial`` cost more than the MLP at rollout batch sizes)."""
        return sample_logits(self.linear(x))


def sample_logits(logits: Tensor) -> Tensor:
    """One categorical sample per row of unnormalised ``logits`` [B, n], by inverse CDF."""
    cdf = torch.softmax(logits, -1).cumsum_(-1)
    u = torch.rand(logits.shape[0], 1) * cdf[:, -1:]  # scale by the total: float32 cumsum < 1 is possible
    return (cdf <= u).sum(-1).clamp_(max=logits.shape[-1] - 1)


class DirichletHead(nn.Module):
    """Dirichlet policy over portfolio weights (non-negative, summing to 1).

    Why Dirichlet rather than a softmax-Gaussian (logistic-normal): the Dirichlet is a proper
    density *on the simplex*, so ``log_prob(weights)`` and the entropy are exact and closed-form;
    with a softmax-Gaussian the executed weights are a non-invertible transform of the Gaussian
    sample, so the log-probability and entropy are those of the pre-softmax vector (the weights
    themselves have no tractable density) and the policy has a redundant degree of freedom. The
    Dirichlet mean ``alpha / sum(alpha)`` is a natural greedy action, and ``sum(alpha)`` expresses
    confidence. Concentrations are ``1 + softplus(x)`` (>= 1): unimodal, no density spikes at the
    simplex boundary (so log-probs stay finite), yet the mean can still approach a corner.
    """

    def __init__(self, in_features: int, n: int) -> None:
        super().__init__()
        self.linear = _policy_linear(in_features, n)

    def forward(self, x: Tensor) -> Distribution:
        alpha = 1.0 + nn.functional.softplus(self.linear(x))
        return Dirichlet(alpha.clamp_max(1e4), validate_args=False)


def _policy_head(cfg: ModelConfig, in_features: int, action_space: gym.Space[Any]) -> nn.Module:
    kind = cfg.policy
    if kind == "auto":
        kind = "categorical" if isinstance(action_space, gym.spaces.Discrete) else "dirichlet"
    if kind == "categorical":
        if not isinstance(action_space, gym.spaces.Discrete):
            raise ValueError(f"categorical policy needs a Discrete action space, got {action_space}")
        anchor = None if cfg.anchor_action < 0 else (cfg.anchor_action, cfg.anchor_prob)
        return CategoricalHead(in_features, int(action_space.n), anchor)
    if not isinstance(action_space, gym.spaces.Box) or len(action_space.shape) != 1:
        raise ValueError(f"dirichlet policy needs a 1-D Box action space (weights), got {action_space}")
    return DirichletHead(in_features, int(action_space.shape[0]))


class MLPActorCritic(ActorCritic):
    """Feed-forward actor-critic: separate (default) or shared MLP trunks, linear heads."""

    def __init__(self, cfg: ModelConfig, obs_dim: int, action_space: gym.Space[Any]) -> None:
        super().__init__()
        self.actor_trunk, out = mlp(obs_dim, cfg.hidden, cfg.activation)
        self.critic_trunk = None if cfg.shared_trunk else mlp(obs_dim, cfg.hidden, cfg.activation)[0]
        self.policy = _policy_head(cfg, out, action_space)
        self.value = value_head(out)

    def forward(self, obs: Tensor, state: State = None) -> tuple[Distribution, Tensor, State]:
        obs = obs.flatten(1)
        h = self.actor_trunk(obs)
        hv = h if self.critic_trunk is None else self.critic_trunk(obs)
        return self.policy(h), self.value(hv).squeeze(-1), None

    def act_distribution(self, obs: Tensor, state: State = None) -> tuple[Distribution, State]:
        return self.policy(self.actor_trunk(obs.flatten(1))), None

    def act(self, obs: Tensor, state: State = None) -> tuple[Tensor, State]:
        if isinstance(self.policy, CategoricalHead):
            return self.policy.sample(self.actor_trunk(obs.flatten(1))), None
        return super().act(obs, state)


class LSTMActorCritic(ActorCritic):
    """MLP encoder -> LSTMCell -> policy and value heads; state = (h, c), each [B, lstm_size]."""

    recurrent = True

    def __init__(self, cfg: ModelConfig, obs_dim: int, action_space: gym.Space[Any]) -> None:
        super().__init__()
        self.encoder, out = mlp(obs_dim, cfg.hidden, cfg.activation)
        self.lstm = nn.LSTMCell(out, cfg.lstm_size)
        self.lstm_size = cfg.lstm_size
        self.policy = _policy_head(cfg, cfg.lstm_size, action_space)
        self.value = value_head(cfg.lstm_size)

    def initial_state(self, batch: int) -> State:
        zeros = torch.zeros(batch, self.lstm_size)
        return (zeros, zeros.clone())

    def forward(self, obs: Tensor, state: State = None) -> tuple[Distribution, Tensor, State]:
        if state is None:
            state = self.initial_state(obs.shape[0])
        h, c = self.lstm(self.encoder(obs.flatten(1)), state)
        return self.policy(h), self.value(h).squeeze(-1), (h, c)


def build_model(
    cfg: ModelConfig,
    observation_space: gym.Space[Any],
    action_space: gym.Space[Any],
    window: int | None = None,
) -> ActorCritic:
    """The built-in MLP / LSTM / per-item actor-critic; `BuiltinModelFactory` ``(cfg)`` is its
    factory. ``window`` (bars per item) is needed by ``kind = "per_asset"`` only."""
    if observation_space.shape is None:
        raise ValueError(f"observation space {observation_space} has no shape; flatten it first")
    obs_dim = int(np.prod(observation_space.shape))
    if cfg.kind == "per_asset":
        if window is None:
            raise ValueError(
                "the per_asset model needs the items' window: BuiltinModelFactory(model, window=W) "
                "(a strategy passes its env's window)"
            )
        return PerItemActorCritic(cfg, obs_dim, action_space, window)
    cls = {"mlp": MLPActorCritic, "lstm": LSTMActorCritic}[cfg.kind]
    return cls(cfg, obs_dim, action_space)


# ---------------------------------------------------------------- describable model factories
_MODEL_FACTORIES: dict[str, Callable[[dict[str, Any]], Any]] = {}


class UnknownModelFactoryError(LookupError):
    """A model spec names a factory that is not registered in this process (one-line message)."""


def register_model_factory(name: str, from_spec: Callable[[dict[str, Any]], Any]) -> None:
    """Let checkpoints rebuild factories whose ``spec()["factory"] == name``.

    ``from_spec(spec)`` gets the whole spec dict (plain data read from a file: validate it) and
    returns the factory. Call it at import time of the module that defines the factory.
    """
    old = _MODEL_FACTORIES.get(name)
    if old is not None and _qualname(old) != _qualname(from_spec):
        raise ValueError(f"model factory name {name!r} is already registered by {_qualname(old)}")
    _MODEL_FACTORIES[name] = from_spec


def registered_model_factories() -> list[str]:
    """Names of the factories that checkpoints can rebuild in this process."""
    return sorted(_MODEL_FACTORIES)


def _qualname(obj: Any) -> str:
    target = getattr(obj, "__func__", obj)
    name = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{getattr(target, '__module__', None) or type(target).__module__}.{name}"


@dataclass(frozen=True)
class BuiltinModelFactory:
    """Picklable, describable factory of the built-in models: ``BuiltinModelFactory(cfg, window)(obs,
    act)`` is ``build_model(cfg, obs, act, window)``; its spec is ``{"factory": "builtin", "model":
    {...}}``, plus ``"window"`` when one is given."""

    model: ModelConfig = field(default_factory=ModelConfig)
    window: int | None = None
    """Bars of features per item in the observation (``kind = "per_asset"`` only; None = not given)."""
    name: ClassVar[str] = "builtin"

    def __call__(self, observation_space: gym.Space[Any], action_space: gym.Space[Any]) -> ActorCritic:
        return build_model(self.model, observation_space, action_space, self.window)

    def spec(self) -> dict[str, Any]:
        window = {} if self.window is None else {"window": self.window}
        return {"factory": self.name, "model": to_dict(self.model), **window}

    @classmethod
    def from_spec(cls, spec: dict[str, Any]) -> BuiltinModelFactory:
        model = spec.get("model")
        if not isinstance(model, dict):
            raise ValueError(f"builtin model spec needs a 'model' table, got {type(model).__name__}")
        window = spec.get("window")
        if window is not None and (type(window) is not int or window < 1):
            raise ValueError(f"builtin model spec: window must be an int >= 1, got {window!r:.40}")
        return cls(from_dict(ModelConfig, model, where="model"), window)


register_model_factory(BuiltinModelFactory.name, BuiltinModelFactory.from_spec)


def model_factory_spec(factory: Any) -> dict[str, Any]:
    """The spec stored in checkpoints: ``factory.spec()`` plus the defining ``"module"``.

    ``functools.partial(build_model, cfg)`` (the old default) is described as the builtin factory;
    a factory without ``spec()`` gets ``{"factory": None, "description": ...}``: its checkpoints
    load only with an explicit ``model_factory=``.
    """
    if (
        isinstance(factory, functools.partial)
        and factory.func is build_model
        and len(factory.args) == 1
        and isinstance(factory.args[0], ModelConfig)
        and not factory.keywords
    ):
        factory = BuiltinModelFactory(factory.args[0])
    describe = getattr(factory, "spec", None)
    if not callable(describe):
        return {"factory": None, "description": _qualname(factory)}
    spec = describe()
    if not isinstance(spec, dict) or not isinstance(spec.get("factory"), str):
        raise TypeError(f"{_qualname(factory)}.spec() must return a dict with a 'factory' name, got {spec!r}")
    return {**spec, "module": spec.get("module", type(factory).__module__)}


def model_factory_from_spec(spec: Any) -> Any:
    """Rebuild a factory from a stored spec through the registry; one-line errors.

    Raises `UnknownModelFactoryError` for an unregistered or undescribed factory and
    ``ValueError`` for a malformed spec. Never imports a module named by the spec.
    """
    if not isinstance(spec, dict) or "factory" not in spec:
        raise ValueError(f"malformed model spec ({type(spec).__name__})")
    name = spec["factory"]
    if name is None:
        what = str(spec.get("description", "?"))[:120]
        raise UnknownModelFactoryError(
            f"saved with a model factory that has no spec() ({what}); pass model_factory= to load it"
        )
    if not isinstance(name, str):
        raise ValueError(f"malformed model spec: factory name {name!r:.60}")
    from_spec = _MODEL_FACTORIES.get(name)
    if from_spec is None:
        module = spec.get("module")
        where = f"import {module[:120]} first" if isinstance(module, str) else "import its module first"
        raise UnknownModelFactoryError(
            f"model factory {name[:60]!r} is not registered: {where} (it registers the factory) "
            f"or pass model_factory= to load_checkpoint; registered: {', '.join(_MODEL_FACTORIES)}"
        )
    try:
        return from_spec(spec)
    except (TypeError, ValueError, KeyError) as exc:  # ConfigError is a ValueError
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(f"invalid {name[:60]!r} model spec: {first[:200]}") from None


def greedy_from(dist: Distribution) -> Tensor:
    """Deterministic action: argmax for Categorical, mean weights for Dirichlet, else ``mean``."""
    if isinstance(dist, Categorical):
        return dist.logits.argmax(-1)
    return dist.mean


@torch.no_grad()
def greedy_action(model: ActorCritic, obs: Any, state: State = None) -> tuple[np.ndarray, State]:
    """Greedy action(s) for a batch of observations (add the batch dim yourself), and the new state."""
    x = torch.as_tensor(np.asarray(obs), dtype=torch.float32)
    dist, _, state = model(x, state)
    return greedy_from(dist).numpy(), state


class Policy:
    """Stateful single-env policy for evaluation and backtests.

    ``act(obs)`` takes one unbatched observation and returns one action (greedy by default);
    call ``reset()`` at each episode start (it clears the LSTM state).
    """

    def __init__(self, model: ActorCritic, greedy: bool = True) -> None:
        self.model = model.eval()
        self.greedy = greedy
        self.state: State = None
        self.reset()

    def reset(self) -> None:
        self.state = self.model.initial_state(1)

    @torch.no_grad()
    def act(self, obs: Any) -> Any:
        x = torch.as_tensor(np.asarray(obs), dtype=torch.float32).unsqueeze(0)
        dist, _, self.state = self.model(x, self.state)
        action = greedy_from(dist) if self.greedy else sample_action(dist)
        out = action[0].numpy()
        return int(out) if out.ndim == 0 else out
