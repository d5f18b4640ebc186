"""Generic A3C / A2C engine: Hogwild workers, shared optimisers, models, runs and checkpoints.

Nothing here knows about markets: ``train`` takes an env factory ``f(worker_index) -> env`` (a
Gymnasium Env or VectorEnv) and an optional model factory ``g(observation_space, action_space)``.
"""

from tradea3c.a3c.checkpoint import (
    CheckpointError,
    LegacyCheckpointError,
    LoadedCheckpoint,
    NotPlainDataError,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from tradea3c.a3c.config import A3CConfig, ModelConfig
from tradea3c.a3c.engine import TrainResult, train
from tradea3c.a3c.ensemble import EnsembleModel
from tradea3c.a3c.evaluator import EvaluatorError
from tradea3c.a3c.models import (
    ActorCritic,
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
from tradea3c.a3c.per_asset import MaskedDirichlet, PerItemActorCritic
from tradea3c.a3c.play import EpisodeTrace, run_episode
from tradea3c.a3c.ray_backend import LearnerError, RayUnavailableError
from tradea3c.a3c.returns import gae, nstep_returns
from tradea3c.a3c.shared_optim import SharedAdam, SharedRMSprop, make_optimizer
from tradea3c.a3c.upgrade import upgrade_checkpoint
from tradea3c.a3c.worker import WorkerError

__all__ = [
    "A3CConfig",
    "ActorCritic",
    "BuiltinModelFactory",
    "CategoricalHead",
    "CheckpointError",
    "DirichletHead",
    "EnsembleModel",
    "EpisodeTrace",
    "EvaluatorError",
    "LSTMActorCritic",
    "LearnerError",
    "LegacyCheckpointError",
    "LoadedCheckpoint",
    "MLPActorCritic",
    "MaskedDirichlet",
    "ModelConfig",
    "NotPlainDataError",
    "PerItemActorCritic",
    "RayUnavailableError",
    "Policy",
    "SharedAdam",
    "SharedRMSprop",
    "TrainResult",
    "WorkerError",
    "build_model",
    "gae",
    "greedy_action",
    "load_checkpoint",
    "make_optimizer",
    "nstep_returns",
    "read_checkpoint",
    "run_episode",
    "register_model_factory",
    "save_checkpoint",
    "train",
    "upgrade_checkpoint",
]
