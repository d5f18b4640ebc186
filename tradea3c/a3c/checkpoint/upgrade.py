"""FORMAT 1 -> FORMAT 2: convert an old (pickle) checkpoint once, explicitly trusting it.

CLI: ``tradea3c checkpoint upgrade PATH --trust-pickle``. The original bytes are always kept.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any, NamedTuple

import torch

from tradea3c.a3c.checkpoint.format import build_payload, first_line, read_checkpoint, write_payload
from tradea3c.a3c.checkpoint.pickle_scan import printable
from tradea3c.a3c.checkpoint.plain import CheckpointError, NotPlainDataError, to_plain
from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.models.builtin import BuiltinModelFactory, model_factory_spec
from tradea3c.atomic import atomic_path
from tradea3c.config import from_dict


class Upgraded(NamedTuple):
    path: Path  # the FORMAT 2 file
    original: Path | None  # where the original bytes are kept (None: untouched at its own path)
    upgraded: bool  # False if the file already was FORMAT 2


def v1_backup_path(path: str | Path) -> Path:
    """Where an in-place upgrade keeps the original: ``run/latest.pt`` -> ``run/latest.v1.pt``."""
    path = Path(path)
    return path.with_name(f"{path.stem}.v1{path.suffix or '.pt'}")


def upgrade_checkpoint(src: str | Path, dst: str | Path | None = None, *, trust_pickle: bool) -> Upgraded:
    """Convert a FORMAT 1 checkpoint (a pickle) to FORMAT 2 (plain data, loads with weights_only).

    Reading a FORMAT 1 file unpickles it with ``weights_only=False``, which runs whatever code the
    file contains: this refuses unless ``trust_pickle=True``, which you should pass only for a
    checkpoint you produced yourself.

    Where things go (the original bytes are never lost):

    * ``dst=None`` (or ``dst == src``): in place. The original is first copied to
      `v1_backup_path` (``latest.pt`` -> ``latest.v1.pt``; refused if a different file is
      already there), then the upgraded checkpoint atomically replaces ``src``.
    * another ``dst``: the upgraded checkpoint is written there atomically; ``src`` is untouched.

    A file that already is FORMAT 2 is not rewritten (copied to ``dst`` if one is given). The
    model factory is described from the pickled one (``functools.partial(build_model, cfg)`` and
    ``AtariModelFactory`` are recognised; none = the built-in model of the stored config); every
    other part must be plain data or `NotPlainDataError` is raised and nothing is written.
    """
    src = Path(src)
    if not trust_pickle:
        raise CheckpointError(
            f"{src}: upgrading unpickles the old file, which runs any code it contains; pass "
            "trust_pickle=True (CLI: --trust-pickle) only for a checkpoint you produced yourself"
        )
    if not src.is_file():
        raise FileNotFoundError(f"checkpoint {src} not found")
    target = src if dst is None else Path(dst)
    in_place = target == src or (target.exists() and target.samefile(src))
    try:
        read_checkpoint(src)
    except CheckpointError:
        pass
    else:  # already FORMAT 2
        if not in_place:
            with atomic_path(target) as tmp:
                shutil.copyfile(src, tmp)
        return Upgraded(target, None, False)
    old = _trusted_load(src)
    new = _convert_v1(src, old)
    backup = None
    if in_place:
        backup = v1_backup_path(src)
        if backup.exists() and backup.read_bytes() != src.read_bytes():
            raise CheckpointError(f"{src}: {backup} already exists and differs; move it away or pass dst")
        with atomic_path(backup) as tmp:
            shutil.copyfile(src, tmp)
    write_payload(target, new)
    return Upgraded(target, backup, True)


def _trusted_load(src: Path) -> dict[str, Any]:
    try:
        payload = torch.load(src, map_location="cpu", weights_only=False)  # trust_pickle=True only
    except Exception as exc:  # noqa: BLE001 - anything an arbitrary pickle raises
        raise CheckpointError(
            f"{src}: cannot unpickle it as a FORMAT 1 checkpoint ({type(exc).__name__}: {first_line(exc)})"
        ) from None
    if not isinstance(payload, dict) or payload.get("format") != 1:
        fmt = payload.get("format") if isinstance(payload, dict) else None
        shown = printable(repr(fmt), 20)
        raise CheckpointError(f"{src} is not a FORMAT 1 tradea3c checkpoint (format {shown})")
    return payload


def _convert_v1(src: Path, old: dict[str, Any]) -> dict[str, Any]:
    try:
        config = from_dict(A3CConfig, old["config"])
        factory = old.get("model_factory") or BuiltinModelFactory(config.model)
        try:
            spec = model_factory_spec(factory)
        except TypeError as exc:
            raise NotPlainDataError(str(exc)) from None
        optimizer = old.get("optimizer")
        new = build_payload(
            model_state=old["model"],
            optimizer_state=None if optimizer is None else dict(optimizer),
            config=old["config"],
            model_spec=spec,
            observation_space=old["observation_space"],
            action_space=old["action_space"],
            counters=old.get("counters") or {},
            extra=old.get("extra"),
            rng=old.get("rng"),
            metrics=old.get("metrics"),
        )
    except NotPlainDataError as exc:
        raise NotPlainDataError(f"{src}: cannot upgrade: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError(f"{src}: cannot upgrade this FORMAT 1 file ({first_line(exc)})") from None
    new["upgraded_from"] = {"format": 1, "version": to_plain(old.get("version"), "version")}
    return new
