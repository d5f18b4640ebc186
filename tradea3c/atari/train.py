"""Train the generic A3C engine on an Atari game: presets, env/model/evaluator wiring, run metadata.

``train_atari(AtariTrainConfig(game="Pong", frames=10_000_000), "runs/pong")`` calls
[`tradea3c.a3c.train`][] (the same engine as the trading agents) with
[`AtariEnvFactory`][tradea3c.atari.envs.AtariEnvFactory],
[`AtariModelFactory`][tradea3c.atari.model.AtariModelFactory] and
`AtariEvaluator`. Budgets are in emulator *frames* (=
agent steps x frame skip 4), as in the papers; the engine counts agent steps.

Presets (every field is overridable):

* ``"paper"``: Mnih et al. 2016 A3C FF: one env per worker, t_max 5, gamma 0.99, entropy 0.01,
  shared RMSProp (alpha 0.99, eps 0.1), lr 7e-4 annealed linearly to 0, gradient-norm clip 40.
* ``"fast"``: what learns fastest on a 2-core CPU: K = 16 emulators per worker in one native
  ``AtariVectorEnv`` (batched forward passes), t_max 5, shared fused Adam with beta1 = 0 and
  beta2 = 0.99 (an RMSProp with bias correction, ~5x faster on CPU than torch's RMSProp), lr 7e-4
  annealed, eps 1e-5, clip 0.5: the A2C Atari settings of OpenAI baselines, run Hogwild.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tradea3c.a3c import A3CConfig, TrainResult, train
from tradea3c.atari.envs import FRAME_SKIP, AtariEnvFactory
from tradea3c.atari.evaluate import AtariEvaluator
from tradea3c.atari.model import AtariModelFactory
from tradea3c.config import apply_overrides


@dataclass(frozen=True)
class AtariTrainConfig:
    game: str = "Pong"
    frames: int = 10_000_000
    """Training budget in emulator frames (agent steps x 4)."""
    preset: Literal["paper", "fast"] = "paper"
    """Engine settings to start from (see the module docstring)."""
    workers: int = 0
    """Worker processes; 0 = number of cores."""
    envs_per_worker: int | None = None
    """Emulators per worker; None = the preset's."""
    life_loss: Literal["continue", "reset"] = "continue"
    """Training: after a life-loss terminal the game goes on ("continue", as baselines / SB3 zoo)
    or a new game starts ("reset", tradea3c before the Qbert investigation)."""
    emulator: Literal["vector", "gym"] = "vector"
    """"vector": ale-py's AtariVectorEnv (C++ preprocessing); "gym": the Gymnasium wrapper stack."""
    arch: Literal["a3c", "nature"] = "a3c"
    lstm: bool = False
    a3c: tuple[str, ...] = ()
    """Engine overrides on top of the preset, as `A3CConfig` keys: ("lr=1e-3", "t_max=20"); checked
    by the config loader like every other override."""
    seed: int = 0
    eval_every_frames: int = 1_000_000
    """Frames between evaluations (0 = final evaluation only)."""
    eval_episodes: int = 8
    eval_max_frames: int = 27_000
    """Cap on one evaluation game's length in frames (keeps evaluations from starving training)."""
    checkpoint_every_s: float = 180.0
    stop_at_score: float | None = None
    """End training once an evaluation's mean score reaches this."""


PRESETS: dict[str, dict[str, Any]] = {
    "paper": dict(
        envs_per_worker=1,
        t_max=5,
        gamma=0.99,
        entropy_coef=0.01,
        value_coef=0.5,
        optimizer="rmsprop",
        rmsprop_alpha=0.99,
        eps=0.1,
        lr=7e-4,
        lr_anneal=True,
        max_grad_norm=40.0,
    ),
    "fast": dict(
        envs_per_worker=16,
        t_max=5,
        gamma=0.99,
        entropy_coef=0.01,
        value_coef=0.5,
        optimizer="adam",
        adam_betas=(0.0, 0.99),
        eps=1e-5,
        lr=7e-4,
        lr_anneal=True,
        max_grad_norm=0.5,
    ),
}


def a3c_config(cfg: AtariTrainConfig) -> tuple[A3CConfig, int]:
    """The engine config and the number of envs per worker for an Atari run."""
    if cfg.preset not in PRESETS:
        raise ValueError(f"preset {cfg.preset!r}: use one of {sorted(PRESETS)}")
    p = dict(PRESETS[cfg.preset])
    k = int(cfg.envs_per_worker or p.pop("envs_per_worker"))
    p.pop("envs_per_worker", None)
    steps = max(cfg.frames // FRAME_SKIP, 1)
    a3c = A3CConfig(
        workers=cfg.workers,
        total_steps=steps,
        seed=cfg.seed,
        eval_every=cfg.eval_every_frames // FRAME_SKIP,
        checkpoint_every=0,
        checkpoint_every_s=cfg.checkpoint_every_s,
        log_every_s=5.0,
        **p,
    )
    a3c = apply_overrides(a3c, cfg.a3c)
    return a3c, k


def train_atari(
    cfg: AtariTrainConfig, run_dir: str | Path, *, resume: bool = False, progress: bool = True
) -> TrainResult:
    """Train on ``cfg.game`` into ``run_dir`` (same layout as trading runs; metric = mean score)."""
    a3c, k = a3c_config(cfg)
    env_factory = AtariEnvFactory(
        cfg.game, num_envs=k, backend=cfg.emulator, training=True, life_loss=cfg.life_loss
    )
    # A Q-network's outputs are action values, not a policy to sample: value-based runs play greedily.
    evaluator = AtariEvaluator(
        cfg.game,
        episodes=cfg.eval_episodes,
        greedy=a3c.value_based,
        max_episode_frames=cfg.eval_max_frames,
    )
    stop = None
    if cfg.stop_at_score is not None:
        stop = _StopAt(float(cfg.stop_at_score))
    meta = {
        "kind": "atari",
        "game": cfg.game,
        "frame_skip": FRAME_SKIP,
        "envs_per_worker": k,
        "emulator": cfg.emulator,
        "life_loss": cfg.life_loss,
        "arch": cfg.arch,
        "lstm": cfg.lstm,
        "preset": cfg.preset,
        "frames_budget": cfg.frames,
        "eval_episodes": cfg.eval_episodes,
        "mode": a3c.mode,
    }
    return train(
        env_factory,
        a3c,
        run_dir,
        model_factory=AtariModelFactory(cfg.arch, cfg.lstm),
        evaluate_fn=evaluator,
        select_metric="score",
        maximize=True,
        should_stop=stop,
        resume=resume,
        extra_metadata=meta,
        progress=progress,
    )


@dataclass(frozen=True)
class _StopAt:
    score: float

    def __call__(self, metrics: dict[str, float]) -> bool:
        return metrics.get("score", float("-inf")) >= self.score
