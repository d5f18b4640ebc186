"""Atari validation suite: the generic A3C engine on ale-py games with the A3C paper's CNN.

Needs the ``atari`` extra (``ale-py``, ``opencv-python-headless``). Entry points::

    from tradea3c.atari import AtariTrainConfig, train_atari, evaluate_checkpoint
    train_atari(AtariTrainConfig(game="Pong", frames=10_000_000, preset="fast"), "runs/pong")
"""

from tradea3c.atari.envs import AtariEnvFactory, make_atari_env
from tradea3c.atari.evaluate import evaluate_checkpoint
from tradea3c.atari.model import AtariActorCritic, AtariModelFactory
from tradea3c.atari.train import PRESETS, AtariTrainConfig, train_atari

__all__ = [
    "AtariActorCritic",
    "AtariEnvFactory",
    "AtariModelFactory",
    "AtariTrainConfig",
    "PRESETS",
    "evaluate_checkpoint",
    "make_atari_env",
    "train_atari",
]
