"""Generic A3C / A2C engine: Hogwild workers, shared optimisers, models, runs and checkpoints.

Nothing here knows about markets: ``train`` takes an env factory ``f(worker_index) -> env`` (a
Gymnasium Env or VectorEnv) and an optional model factory ``g(observation_space, action_space)``.
"""

from tradea3c.a3c.checkpoint import LoadedCheckpoint, load_checkpoint, read_checkpoint, save_checkpoint
from tradea3c.a3c.config import A3CConfig, ModelConfig
from tradea3c.a3c.engine import TrainResult, WorkerError, train
from tradea3c.a3c.evaluator import EvaluatorError
from tradea3c.a3c.models import (
    ActorCritic,
    CategoricalHead,
    DirichletHead,
    LSTMActorCritic,
    MLPActorCritic,
    Policy,
    build_model,
    greedy_action,
)
from tradea3c.a3c.returns import gae, nstep_returns
from tradea3c.a3c.shared_optim import SharedAdam, SharedRMSprop, make_optimizer

__all__ = [
    "A3CConfig",
    "ActorCritic",
    "CategoricalHead",
    "DirichletHead",
    "EvaluatorError",
    "LSTMActorCritic",
    "LoadedCheckpoint",
    "MLPActorCritic",
    "ModelConfig",
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
    "save_checkpoint",
    "train",
]
