"""Evaluation of Atari agents: full games, raw (unclipped) scores, no life-loss terminals.

`AtariEvaluator` is a picklable ``evaluate_fn(model) -> dict`` for the engine's evaluator
process; it plays ``episodes`` games in parallel in one native ``AtariVectorEnv`` (one batched
forward pass per step) and returns ``score`` (mean), ``median``, ``min``, ``max``, ``std``,
``episodes``, ``frames``, ``entropy`` (the policy's mean entropy over the states it visited, in
nats) and ``uniform_entropy`` (``ln(actions)``: a policy that has learned nothing yet).
[`evaluate_checkpoint`][] does the same for a saved checkpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from tradea3c.a3c.models import ActorCritic, reset_state
from tradea3c.a3c.models.base import sample_action
from tradea3c.a3c.models.builtin import greedy_from
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


@dataclass(frozen=True)
class Games:
    """What `play` measured: raw scores, emulator frames, the policy's mean entropy over the
    visited states (nats) and the number of actions (``ln(actions)`` = a uniform policy)."""

    scores: np.ndarray
    frames: int
    entropy: float
    actions: int

    def stats(self) -> dict[str, float]:
        return {
            **score_stats(self.scores),
            "frames": float(self.frames),
            "entropy": self.entropy,
            "uniform_entropy": float(np.log(self.actions)),
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
) -> Games:
    """Play ``episodes`` full games in parallel; returns their scores, frames and the policy's entropy.

    ``greedy=False`` samples from the policy (the stochastic policy the agent was trained with);
    ``greedy=True`` takes the argmax action. Games are cut at ``max_episode_frames`` frames.
    ``seed`` seeds the emulators and the action sampling (torch's global generator is forked, so the
    caller's random state is left as it was): the same checkpoint and seed play the same games.
    """
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return _play(model, game, episodes, seed, noop_max, greedy, max_episode_frames)


def _play(
    model: ActorCritic,
    game: str,
    episodes: int,
    seed: int,
    noop_max: int,
    greedy: bool,
    max_episode_frames: int,
) -> Games:
    model.eval()
    env = make_vector_env(
        game, episodes, training=False, noop_max=noop_max, max_episode_frames=max_episode_frames
    )
    try:
        obs, _ = env.reset(seed=seed)
        state = model.initial_state(episodes)
        totals = np.zeros(episodes)
        done = np.zeros(episodes, dtype=bool)
        steps, entropy_sum = 0, 0.0
        while not done.all():
            dist, state = model.act_distribution(torch.as_tensor(obs, dtype=torch.float32), state)
            entropy_sum += float(dist.entropy()[torch.as_tensor(~done)].sum())
            action = greedy_from(dist) if greedy else sample_action(dist)
            obs, reward, term, trunc, _ = env.step(action.numpy().astype(np.int64))
            totals += np.where(done, 0.0, reward)
            steps += int((~done).sum())
            done |= np.asarray(term, bool) | np.asarray(trunc, bool)
            state = reset_state(state, torch.as_tensor(done))  # finished games are ignored from now on
    finally:
        env.close()
    return Games(totals, steps * FRAME_SKIP, entropy_sum / max(steps, 1), int(env.single_action_space.n))


@dataclass(frozen=True)
class AtariEvaluator:
    """``evaluate_fn`` for [`tradea3c.a3c.train`][]: mean score of ``episodes`` full games."""

    game: str = "Pong"
    episodes: int = 8
    seed: int = 1_000_003
    noop_max: int = NOOP_MAX
    greedy: bool = False
    max_episode_frames: int = MAX_EPISODE_FRAMES

    def __call__(self, model: ActorCritic) -> dict[str, float]:
        return play(
            model,
            self.game,
            self.episodes,
            seed=self.seed,
            noop_max=self.noop_max,
            greedy=self.greedy,
            max_episode_frames=self.max_episode_frames,
        ).stats()


def evaluate_checkpoint(
    checkpoint: str | Path,
    *,
    episodes: int = 30,
    noop_starts: bool = True,
    greedy: bool | None = None,
    seed: int = 1_000_003,
    game: str | None = None,
    max_episode_frames: int = MAX_EPISODE_FRAMES,
) -> dict[str, Any]:
    """Load a checkpoint of an Atari run and play ``episodes`` games; returns the score statistics.

    ``greedy=None`` plays as the run was evaluated in training: argmax for a value-based run
    (``a3c.mode`` nstep_q / onestep_q / onestep_sarsa: its outputs are Q-values), sampled from the
    policy for A3C / A2C. The checkpoint is read as plain data (``weights_only``); a damaged,
    foreign or old FORMAT 1 file raises a one-line ``ValueError``
    (``tradea3c.a3c.checkpoint.CheckpointError``)."""
    from tradea3c.a3c import load_checkpoint
    from tradea3c.atari import model as _registers_the_atari_factory  # noqa: F401

    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    loaded = load_checkpoint(checkpoint)
    if greedy is None:
        greedy = loaded.config.value_based
    game = game or loaded.metadata["extra"].get("game")
    if not game:
        raise ValueError(f"{checkpoint} does not record its Atari game; pass game=")
    games = play(
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
        **games.stats(),
        "frames": games.frames,
        "scores": [float(s) for s in games.scores],
        "noop_starts": noop_starts,
        "greedy": greedy,
        "global_step": loaded.metadata["counters"].get("global_step"),
    }
