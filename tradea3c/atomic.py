"""Atomic file writes: write to a temp file in the same folder, fsync, then rename (text, bytes, JSON).

A crash or an exception mid-write leaves the previous file intact (rename is atomic on POSIX),
which is why the cache and every checkpoint go through here.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temp path next to ``path``; on success it replaces ``path``, on error it is removed."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; give the file the usual permissions
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def json_safe(x: Any) -> Any:
    """Dataclasses become dicts, tuples lists, and NaN/inf None (JSON has no NaN/inf)."""
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return {f.name: json_safe(getattr(x, f.name)) for f in dataclasses.fields(x)}
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [json_safe(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def atomic_write_json(path: str | os.PathLike[str], data: Any) -> None:
    """``data`` (dicts, lists, dataclasses) as indented JSON, atomically; NaN/inf written as null."""
    atomic_write_text(path, json.dumps(json_safe(data), indent=2, allow_nan=False, default=str) + "\n")
