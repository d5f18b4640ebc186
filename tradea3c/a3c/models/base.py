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

import numpy as np
from torch import Tensor, nn
from torch.distributions import Dirichlet, Distribution

State = tuple[Tensor, ...] | None


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
