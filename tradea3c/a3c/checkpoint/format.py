"""Checkpoints that cannot run code: plain data written with ``torch.save``, read with ``weights_only``.

FORMAT 2 (this module): every value in the file is plain data (dict, list, tuple, str, int,
float, bool, None) or a torch tensor, and every load is ``torch.load(path, map_location="cpu",
weights_only=True)``, so a crafted file cannot execute anything: torch refuses any other object.
The payload holds:

* ``format`` (2), ``version`` (tradea3c's), ``config`` (``to_dict(A3CConfig)``);
* ``model_spec``: how to rebuild the network, ``{"factory": NAME, "module": ..., **kwargs}``
  (``factory.spec()``, see `tradea3c.a3c.models.builtin.model_factory_spec`); ``load_checkpoint``
  turns it back into a factory through the registry (``"builtin"`` is always registered,
  ``"atari"`` once ``tradea3c.atari.model`` is imported), never by importing what the file names;
* ``observation_space`` / ``action_space`` as small dicts (`space_to_dict`; a uniform
  ``Box`` bound is one number, a non-uniform one a tensor);
* ``model`` (state dict), ``optimizer`` (state dict or None), ``counters``, ``rng`` (python /
  numpy / torch RNG states as lists and tensors, `rng_to_plain`), ``metrics``, ``extra``.

``save_checkpoint`` refuses, before touching the file, any ``extra``/``metrics``/``counters``
value that is not plain data (numpy scalars are converted to Python numbers; arrays and objects are
refused), so every file it writes loads with ``weights_only``. Every write goes through
`tradea3c.atomic.atomic_path` (temp file, fsync, rename): a crash mid-write leaves the
previous file intact.

FORMAT 1 files (older tradea3c) were full pickles holding the model factory and gymnasium spaces;
loading refuses them. [`tradea3c.a3c.checkpoint.upgrade.upgrade_checkpoint`][] (CLI: ``tradea3c checkpoint
upgrade PATH --trust-pickle``) converts one, explicitly trusting it, and keeps the original bytes.
Plain-data conversion lives in `tradea3c.a3c.checkpoint.plain`, the refusal diagnosis in
`tradea3c.a3c.checkpoint.pickle_scan`.

Every loading failure is one line: `FileNotFoundError` for a missing file and
[`CheckpointError`][] (a ``ValueError``) otherwise.
"""

from __future__ import annotations

import pickle
import warnings
from pathlib import Path
from typing import Any, NamedTuple

import torch

from tradea3c._version import __version__
from tradea3c.a3c.checkpoint.pickle_scan import legacy_message, printable, refusal
from tradea3c.a3c.checkpoint.plain import (
    CheckpointError,
    LegacyCheckpointError,
    NotPlainDataError,
    rng_to_plain,
    space_from_dict,
    space_to_dict,
    to_plain,
)
from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.models.builtin import (
    ActorCritic,
    BuiltinModelFactory,
    UnknownModelFactoryError,
    model_factory_from_spec,
    model_factory_spec,
)
from tradea3c.atomic import atomic_path
from tradea3c.config import ConfigError, from_dict, to_dict

FORMAT = 2
PAYLOAD_KEYS = (
    "format",
    "version",
    "config",
    "model_spec",
    "observation_space",
    "action_space",
    "model",
    "optimizer",
    "counters",
    "rng",
    "metrics",
    "extra",
)


# ---------------------------------------------------------------- saving
def build_payload(
    *,
    model_state: dict[str, Any],
    optimizer_state: dict[str, Any] | None,
    config: dict[str, Any],
    model_spec: dict[str, Any],
    observation_space: Any,
    action_space: Any,
    counters: dict[str, Any],
    extra: dict[str, Any] | None,
    rng: dict[str, Any] | None,
    metrics: dict[str, Any] | None,
) -> dict[str, Any]:
    """The FORMAT 2 dict; every part is checked to be plain data (nothing is written here)."""
    return {
        "format": FORMAT,
        "version": __version__,
        "config": to_plain(config, "config"),
        "model_spec": to_plain(model_spec, "model_spec"),
        "observation_space": space_to_dict(observation_space, "observation_space"),
        "action_space": space_to_dict(action_space, "action_space"),
        "model": {str(k): v.detach().clone().as_subclass(torch.Tensor) for k, v in model_state.items()},
        "optimizer": None if optimizer_state is None else to_plain(optimizer_state, "optimizer state"),
        "counters": to_plain(dict(counters), "counters"),
        "rng": None if rng is None else rng_to_plain(rng),
        "metrics": to_plain(dict(metrics or {}), "metrics"),
        "extra": to_plain(dict(extra or {}), "extra"),
    }


def write_payload(path: Path, payload: dict[str, Any]) -> Path:
    with atomic_path(path) as tmp:
        torch.save(payload, tmp)
    return path


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
    """Atomically write a FORMAT 2 checkpoint; ``extra`` is the caller's metadata (plain data).

    ``model`` is a module or a state dict (e.g. the snapshot an evaluation ran on);
    ``model_factory`` is described by its ``spec()`` (None = the built-in model of
    ``config.model``); ``rng`` is `rng_state`'s dict. Raises `NotPlainDataError`
    before touching ``path`` if a value is not plain data.
    """
    factory = model_factory if model_factory is not None else BuiltinModelFactory(config.model)
    try:
        spec = model_factory_spec(factory)
    except TypeError as exc:
        raise NotPlainDataError(str(exc)) from None
    payload = build_payload(
        model_state=model if isinstance(model, dict) else model.state_dict(),
        optimizer_state=None if optimizer is None else optimizer.state_dict(),
        config=to_dict(config),
        model_spec=spec,
        observation_space=observation_space,
        action_space=action_space,
        counters=counters,
        extra=extra,
        rng=rng,
        metrics=metrics,
    )
    return write_payload(Path(path), payload)


# ---------------------------------------------------------------- loading
def _safe_load(path: Path) -> Any:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. "Detected pickle protocol 4" for foreign pickles
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError:
        raise refusal(path) from None
    except Exception as exc:  # noqa: BLE001 - zip, EOF, key and runtime errors for damaged files
        first = str(exc).splitlines()[0] if str(exc).strip() else "empty or truncated"
        raise CheckpointError(
            f"{path} is not a tradea3c checkpoint or is damaged ({type(exc).__name__}: "
            f"{printable(first, 100)})"
        ) from None


def _check(path: Path, payload: Any) -> dict[str, Any]:
    if not isinstance(payload, dict) or "format" not in payload:
        raise CheckpointError(f"{path} is not a tradea3c checkpoint (no format field)")
    fmt = payload["format"]
    if fmt == 1:
        raise LegacyCheckpointError(legacy_message(path))
    if type(fmt) is int and fmt > FORMAT:
        raise CheckpointError(
            f"{path}: checkpoint format {fmt} is newer than this tradea3c reads ({FORMAT}); upgrade tradea3c"
        )
    if fmt != FORMAT:
        raise CheckpointError(f"{path} is not a tradea3c checkpoint (format {printable(repr(fmt), 20)})")
    missing = [k for k in PAYLOAD_KEYS if k not in payload]
    if missing:
        raise CheckpointError(f"{path}: damaged tradea3c checkpoint, missing {', '.join(missing)}")
    for key in ("config", "model_spec", "observation_space", "action_space", "counters", "metrics", "extra"):
        if not isinstance(payload[key], dict):
            raise CheckpointError(f"{path}: damaged tradea3c checkpoint, {key} is not a dict")
    for key in ("optimizer", "rng"):
        if payload[key] is not None and not isinstance(payload[key], dict):
            raise CheckpointError(f"{path}: damaged tradea3c checkpoint, {key} is not a dict")
    if not isinstance(payload["model"], dict) or not all(
        isinstance(v, torch.Tensor) for v in payload["model"].values()
    ):
        raise CheckpointError(f"{path}: damaged tradea3c checkpoint, model is not a dict of tensors")
    return payload


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """The raw FORMAT 2 dict (plain data: spaces as dicts, RNG states as lists/tensors), loaded with
    ``weights_only=True``; keys `PAYLOAD_KEYS`. One-line errors: `FileNotFoundError`,
    `LegacyCheckpointError` for FORMAT 1 files, [`CheckpointError`][] otherwise."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"checkpoint {path} not found")
    return _check(path, _safe_load(path))


class LoadedCheckpoint(NamedTuple):
    model: ActorCritic
    config: A3CConfig
    metadata: dict[str, Any]


def default_model_factory(config: A3CConfig) -> BuiltinModelFactory:
    return BuiltinModelFactory(config.model)


def first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return printable(text.splitlines()[0], 200) if text else type(exc).__name__


def load_checkpoint(path: str | Path, model_factory: Any = None) -> LoadedCheckpoint:
    """Rebuild the model (eval mode) from a checkpoint: ``model, config, metadata = load_checkpoint(p)``.

    The factory is ``model_factory`` if given, else rebuilt from the stored model spec through the
    registry (import the module that registers a non-builtin factory first, e.g.
    ``tradea3c.atari.model``). ``metadata`` holds ``extra`` (the caller's metadata), ``version``,
    ``counters``, ``metrics`` (evaluation metrics at save time), ``model_spec`` and the gymnasium
    ``observation_space`` and ``action_space``.
    """
    path = Path(path)
    payload = read_checkpoint(path)
    try:
        config = from_dict(A3CConfig, payload["config"])
    except ConfigError as exc:
        raise CheckpointError(f"{path}: invalid config in checkpoint ({first_line(exc)})") from None
    spaces = []
    for key in ("observation_space", "action_space"):
        try:
            spaces.append(space_from_dict(payload[key]))
        except (ValueError, TypeError) as exc:
            raise CheckpointError(f"{path}: invalid {key} in checkpoint ({first_line(exc)})") from None
    factory = model_factory
    if factory is None:
        try:
            factory = model_factory_from_spec(payload["model_spec"])
        except (UnknownModelFactoryError, ValueError) as exc:
            raise CheckpointError(f"{path}: {first_line(exc)}") from None
    try:
        model = factory(*spaces)
    except (ValueError, TypeError, KeyError) as exc:
        raise CheckpointError(f"{path}: cannot build the stored model ({first_line(exc)})") from None
    try:
        model.load_state_dict(payload["model"])
    except RuntimeError as exc:
        raise CheckpointError(
            f"{path}: the stored weights do not fit the model the factory builds ({first_line(exc)})"
        ) from None
    model.eval()
    metadata = {k: payload[k] for k in ("extra", "version", "counters", "metrics", "model_spec")}
    metadata["observation_space"], metadata["action_space"] = spaces
    return LoadedCheckpoint(model, config, metadata)
