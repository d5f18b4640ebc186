"""Generic A3C / A2C engine: Hogwild workers, shared optimisers, models, runs and checkpoints.

Nothing here knows about markets: [`train`][] takes an env factory ``f(worker_index) -> env`` (a
Gymnasium Env or VectorEnv) and an optional model factory ``g(observation_space, action_space)``.

Where to read: one update top to bottom is ``update.py`` (with ``rollout.py`` and the model
interface in ``models/base.py``); ``trainer.py`` runs it through a backend (``backends/``); every
seed comes from ``seeding.py``.
"""

from tradea3c.a3c.backends.base import WorkerError
from tradea3c.a3c.backends.ray import LearnerError, RayUnavailableError
from tradea3c.a3c.checkpoint import (
    CheckpointError,
    LoadedCheckpoint,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
    upgrade_checkpoint,
)
from tradea3c.a3c.config import A3CConfig, ModelConfig
from tradea3c.a3c.evaluator import EvaluatorError
from tradea3c.a3c.models import ActorCritic, EnsembleModel, Policy, build_model, register_model_factory
from tradea3c.a3c.play import EpisodeTrace, run_episode
from tradea3c.a3c.trainer import TrainResult, train

__all__ = [
    "A3CConfig",
    "ActorCritic",
    "CheckpointError",
    "EnsembleModel",
    "EpisodeTrace",
    "EvaluatorError",
    "LearnerError",
    "LoadedCheckpoint",
    "ModelConfig",
    "Policy",
    "RayUnavailableError",
    "TrainResult",
    "WorkerError",
    "build_model",
    "load_checkpoint",
    "read_checkpoint",
    "register_model_factory",
    "run_episode",
    "save_checkpoint",
    "train",
    "upgrade_checkpoint",
]
