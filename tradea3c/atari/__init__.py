"""Atari validation suite: the generic A3C engine on ale-py games with the A3C paper's CNN.

Needs the ``atari`` extra (``ale-py``, ``opencv-python-headless``). Entry points::

    from tradea3c.atari import AtariTrainConfig, train_atari, evaluate_checkpoint
    train_atari(AtariTrainConfig(game="Pong", frames=10_000_000, preset="fast"), "runs/pong")
"""

from tradea3c.atari.envs import AtariEnvFactory, camel_name, make_atari_env, make_vector_env, rom_name
from tradea3c.atari.evaluate import AtariEvaluator, evaluate_checkpoint, play, score_stats
from tradea3c.atari.model import AtariActorCritic, AtariModelFactory
from tradea3c.atari.train import PRESETS, AtariTrainConfig, a3c_config, train_atari

__all__ = [
    "PRESETS",
    "AtariActorCritic",
    "AtariEnvFactory",
    "AtariEvaluator",
    "AtariModelFactory",
    "AtariTrainConfig",
    "a3c_config",
    "camel_name",
    "evaluate_checkpoint",
    "make_atari_env",
    "make_vector_env",
    "play",
    "rom_name",
    "score_stats",
    "train_atari",
]
