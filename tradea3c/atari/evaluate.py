"""Evaluation of Atari agents: full games, raw (unclipped) scores, no life-loss terminals.

:class:`AtariEvaluator` is a picklable ``evaluate_fn(model) -> dict`` for the engine's evaluator
process; it plays ``episodes`` games in parallel in one native ``AtariVectorEnv`` (one batched
forward pass per step) and returns ``score`` (mean), ``median``, ``min``, ``max``, ``std``,
``episodes`` and ``frames``. :func:`evaluate_checkpoint` does the same for a saved checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tradea3c.a3c.models import ActorCritic, greedy_from, reset_state, sample_action
from tradea3c.atari.envs import FRAME_SKIP, MAX_EPISODE_FRAMES, NOOP_MAX, make_vector_env


def score_stats(scores: Any) -> dict[str, float]:
    s = np.asarray(scores, dtype=float)
    return {
        "score": float(s.mean()),
        "median": float(np.median(s)),
        "min": float(s.min()),
        "max": float(s.max()),
        "std": float(s.std()),
        "episodes": float(len(s)),
    }


@torch.no_grad()
def play(
    model: ActorCritic,
    game: str,
    episodes: int,
    *,
    seed: int = 1_000_003,
    noop_max: int = NOOP_MAX,
    greedy: bool = False,
    max_episode_frames: int = MAX_EPISODE_FRAMES,
) -> tuple[np.ndarray, int]:
    """Play ``episodes`` full games in parallel; returns (scores, emulator frames played).

    ``greedy=False`` samples from the policy (the stochastic policy the agent was trained with);
    ``greedy=True`` takes the argmax action. Games are cut at ``max_episode_frames`` frames.
    """
    model.eval()
    env = make_vector_env(
        game, episodes, training=False, noop_max=noop_max, max_episode_frames=max_episode_frames
    )
    try:
        obs, _ = env.reset(seed=seed)
        state = model.initial_state(episodes)
        totals = np.zeros(episodes)
        done = np.zeros(episodes, dtype=bool)
        steps = 0
        while not done.all():
            dist, state = model.act_distribution(torch.as_tensor(obs, dtype=torch.float32), state)
            action = greedy_from(dist) if greedy else sample_action(dist)
            obs, reward, term, trunc, _ = env.step(action.numpy().astype(np.int64))
            totals += np.where(done, 0.0, reward)
            steps += int((~done).sum())
            done |= np.asarray(term, bool) | np.asarray(trunc, bool)
            state = reset_state(state, torch.as_tensor(done))  # finished games are ignored from now on
    finally:
        env.close()
    return totals, steps * FRAME_SKIP


@dataclass(frozen=True)
class AtariEvaluator:
    """``evaluate_fn`` for :func:`tradea3c.a3c.train`: mean score of ``episodes`` full games."""

    game: str = "Pong"
    episodes: int = 8
    seed: int = 1_000_003
    noop_max: int = NOOP_MAX
    greedy: bool = False
    max_episode_frames: int = MAX_EPISODE_FRAMES

    def __call__(self, model: ActorCritic) -> dict[str, float]:
        scores, frames = play(
            model,
            self.game,
            self.episodes,
            seed=self.seed,
            noop_max=self.noop_max,
            greedy=self.greedy,
            max_episode_frames=self.max_episode_frames,
        )
        return {**score_stats(scores), "frames": float(frames)}


def evaluate_checkpoint(
    checkpoint: str | Path,
    *,
    episodes: int = 30,
    noop_starts: bool = True,
    greedy: bool = False,
    seed: int = 1_000_003,
    game: str | None = None,
    max_episode_frames: int = MAX_EPISODE_FRAMES,
) -> dict[str, Any]:
    """Load a checkpoint of an Atari run and play ``episodes`` games; returns the score statistics.

    The checkpoint is read as plain data (``weights_only``); a damaged, foreign or old FORMAT 1 file
    raises a one-line ``ValueError`` (``tradea3c.a3c.checkpoint.CheckpointError``)."""
    from tradea3c.a3c import load_checkpoint
    from tradea3c.atari import model as _registers_the_atari_factory  # noqa: F401

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    loaded = load_checkpoint(checkpoint)
    game = game or loaded.metadata["extra"].get("game")
    if not game:
        raise ValueError(f"{checkpoint} does not record its Atari game; pass game=")
    scores, frames = play(
        loaded.model,
        game,
        episodes,
        seed=seed,
        noop_max=NOOP_MAX if noop_starts else 0,
        greedy=greedy,
        max_episode_frames=max_episode_frames,
    )
    return {
        "game": game,
        **score_stats(scores),
        "frames": frames,
        "scores": [float(s) for s in scores],
        "noop_starts": noop_starts,
        "greedy": greedy,
        "global_step": loaded.metadata["counters"].get("global_step"),
    }
