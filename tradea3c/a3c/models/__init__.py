"""Actor-critic models behind one small interface (``base.py``), so the engine never depends on an
architecture: the built-in MLP and LSTM (``builtin.py``), the per-asset set model (``per_asset.py``)
and seed ensembles (``ensemble.py``).

``tradea3c.a3c.models.build_model`` is also the name FORMAT 1 checkpoints (pickles) refer to, so it
stays importable from here for ``tradea3c checkpoint upgrade``.
"""

from tradea3c.a3c.models.base import ActorCritic, State, reset_state
from tradea3c.a3c.models.builtin import (
    BuiltinModelFactory,
    CategoricalHead,
    DirichletHead,
    LSTMActorCritic,
    MLPActorCritic,
    Policy,
    build_model,
    greedy_action,
    register_model_factory,
)
from tradea3c.a3c.models.ensemble import EnsembleModel
from tradea3c.a3c.models.per_asset import MaskedDirichlet, PerItemActorCritic

__all__ = [
    "ActorCritic",
    "BuiltinModelFactory",
    "CategoricalHead",
    "DirichletHead",
    "EnsembleModel",
    "LSTMActorCritic",
    "MLPActorCritic",
    "MaskedDirichlet",
    "PerItemActorCritic",
    "Policy",
    "State",
    "build_model",
    "greedy_action",
    "register_model_factory",
    "reset_state",
]
