"""Checkpoints: model + optimiser state, counters, RNG states, config and opaque metadata.

Every write goes through :func:`tradea3c.atomic.atomic_path` (temp file, fsync, rename), so a
crash mid-write leaves the previous file intact. Checkpoints are pickles (``torch.load`` with
``weights_only=False``) because they hold the spaces and the model factory needed to rebuild the
network; only load checkpoints you produced.
"""

from __future__ import annotations

import functools
import random
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import torch

import tradea3c
from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.models import ActorCritic, build_model
from tradea3c.atomic import atomic_path
from tradea3c.config import from_dict, to_dict

FORMAT = 1


def rng_state() -> dict[str, Any]:
    """RNG states of this process (python, numpy global, torch CPU)."""
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def set_rng_state(state: dict[str, Any]) -> None:
    random.setstate(state["python"])
    np.random.set_state(state["numpy"])
    torch.set_rng_state(state["torch"])


def save_checkpoint(
    path: str | Path,
    *,
    model: ActorCritic | dict[str, Any],
    optimizer: torch.optim.Optimizer | None,
    config: A3CConfig,
    model_factory: Any,
    observation_space: Any,
    action_space: Any,
    counters: dict[str, Any],
    extra: dict[str, Any] | None = None,
    rng: dict[str, Any] | None = None,
    metrics: dict[str, float] | None = None,
) -> Path:
    """Atomically write a checkpoint; ``extra`` is opaque metadata (e.g. a market fingerprint).

    ``model`` is a module or a state dict (e.g. the snapshot an evaluation ran on).
    """
    state = model if isinstance(model, dict) else model.state_dict()
    payload = {
        "format": FORMAT,
        "version": tradea3c.__version__,
        "config": to_dict(config),
        "extra": dict(extra or {}),
        "model_factory": model_factory,
        "observation_space": observation_space,
        "action_space": action_space,
        "model": {k: v.detach().clone() for k, v in state.items()},
        "optimizer": None if optimizer is None else optimizer.state_dict(),
        "counters": dict(counters),
        "rng": rng,
        "metrics": dict(metrics or {}),
    }
    path = Path(path)
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The raw checkpoint dict (used by resume); raises a clear error for missing/foreign files."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    payload = torch.load(path, map_location="cpu", weights_only=False)
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        raise ValueError(f"{path} is not a tradea3c A3C checkpoint (format {FORMAT})")
    return payload


class LoadedCheckpoint(NamedTuple):
    model: ActorCritic
    config: A3CConfig
    metadata: dict[str, Any]


def default_model_factory(config: A3CConfig) -> Any:
    return functools.partial(build_model, config.model)


def load_checkpoint(path: str | Path, model_factory: Any = None) -> LoadedCheckpoint:
    """Rebuild the model (eval mode) from a checkpoint: ``model, config, metadata = load_checkpoint(p)``.

    ``metadata`` holds ``extra`` (the caller's metadata), ``version``, ``counters``, ``metrics``
    (evaluation metrics at save time), ``observation_space`` and ``action_space``.
    """
    payload = read_checkpoint(path)
    config = from_dict(A3CConfig, payload["config"])
    factory = model_factory or payload["model_factory"] or default_model_factory(config)
    model = factory(payload["observation_space"], payload["action_space"])
    model.load_state_dict(payload["model"])
    model.eval()
    keys = ("extra", "version", "counters", "metrics", "observation_space", "action_space")
    return LoadedCheckpoint(model, config, {k: payload[k] for k in keys})
