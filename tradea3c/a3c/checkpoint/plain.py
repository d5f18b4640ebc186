"""Plain data for checkpoints: values, RNG states and gymnasium spaces as dicts, lists and tensors.

Everything here produces what ``torch.load(weights_only=True)`` reads back, and refuses (with
`NotPlainDataError`, naming the entry) anything else, so a checkpoint that was written
can always be loaded and a loaded one can never hold code.
"""

from __future__ import annotations

import math
import random
from typing import Any

import gymnasium as gym
import numpy as np
import torch

MAX_SPACE_ELEMENTS = 100_000_000  # a Box bigger than this in a file is treated as damaged


class CheckpointError(ValueError):
    """A checkpoint cannot be read or written; the message is one line naming the file and the fix."""


class LegacyCheckpointError(CheckpointError):
    """A FORMAT 1 checkpoint (a pickle): convert it with [`upgrade_checkpoint`][] if you trust it."""


class NotPlainDataError(CheckpointError, TypeError):
    """``save_checkpoint`` got a value that is not plain data (nothing was written)."""


_PLAIN_TYPES = "dict/list/tuple/str/int/float/bool/None/torch.Tensor"


def _type_name(value: Any) -> str:
    t = type(value)
    return t.__qualname__ if t.__module__ == "builtins" else f"{t.__module__}.{t.__qualname__}"


def to_plain(value: Any, where: str = "value", _depth: int = 0) -> Any:
    """``value`` as plain data (what ``torch.load(weights_only=True)`` reads back), or
    `NotPlainDataError` naming the offending entry (``where``, e.g. ``extra['a'][0]``).

    Containers become dict/list/tuple, subclasses of str/int/float/bool their base type, numpy
    scalars Python numbers and tensors plain detached tensors; anything else is refused.
    """
    if _depth > 64:
        raise NotPlainDataError(f"checkpoint {where} is nested too deeply (a cycle?); store plain data")
    t = type(value)
    if value is None or t is bool or t is int or t is float or t is str:
        return value
    if isinstance(value, torch.Tensor):
        return (
            value
            if t is torch.Tensor and not value.requires_grad
            else value.detach().as_subclass(torch.Tensor)
        )
    if isinstance(value, np.generic) and value.dtype.kind in "biufU":
        return value.item()
    if isinstance(value, bool | int | float | str) and not isinstance(value, np.generic):
        base = next(b for b in (bool, int, float, str) if isinstance(value, b))
        return str.__str__(value) if base is str else base(value)
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            key = to_plain(k, f"{where} key {k!r:.40}", _depth + 1)
            if isinstance(key, torch.Tensor | dict | list | tuple):
                raise NotPlainDataError(f"checkpoint {where} has a {_type_name(k)} key; use str or int keys")
            out[key] = to_plain(v, f"{where}[{k!r:.40}]", _depth + 1)
        return out
    if isinstance(value, list | tuple):
        items = [to_plain(v, f"{where}[{i}]", _depth + 1) for i, v in enumerate(value)]
        return items if isinstance(value, list) else tuple(items)
    raise NotPlainDataError(
        f"checkpoint {where} is a {_type_name(value)}, which is not plain data ({_PLAIN_TYPES}); "
        "convert it first (e.g. .tolist(), float(...), a dict of fields)"
    )


# ---------------------------------------------------------------- RNG states
def rng_state() -> dict[str, Any]:
    """RNG states of this process (python, numpy global, torch CPU)."""
    return {"python": random.getstate(), "numpy": np.random.get_state(), "torch": torch.get_rng_state()}


def rng_to_plain(rng: dict[str, Any]) -> dict[str, Any]:
    """`rng_state` as plain data: python's state as a list of ints, numpy's legacy MT19937
    tuple as a dict holding its key as an int64 tensor; torch's state is already a tensor."""
    out: dict[str, Any] = {}
    for name, state in rng.items():
        if name == "python" and isinstance(state, tuple) and len(state) == 3:
            version, internal, gauss_next = state
            out[name] = {
                "version": int(version),
                "state": [int(x) for x in internal],
                "gauss_next": gauss_next,
            }
        elif name == "numpy" and isinstance(state, tuple) and len(state) == 5:
            algo, keys, pos, has_gauss, cached = state
            out[name] = {
                "bit_generator": str(algo),
                "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64).copy()),
                "pos": int(pos),
                "has_gauss": int(has_gauss),
                "cached_gaussian": float(cached),
            }
        else:
            out[name] = to_plain(state, f"rng[{name!r}]")
    return to_plain(out, "rng")


def set_rng_state(state: dict[str, Any]) -> None:
    """Restore `rng_state` (either its native form or the plain form stored in checkpoints)."""
    py = state["python"]
    if isinstance(py, dict):
        py = (py["version"], tuple(py["state"]), py["gauss_next"])
    random.setstate((py[0], tuple(py[1]), py[2]))
    npst = state["numpy"]
    if isinstance(npst, dict):
        keys = npst["keys"]
        keys = keys.numpy() if isinstance(keys, torch.Tensor) else np.asarray(keys)
        npst = (
            npst["bit_generator"],
            keys.astype(np.uint32),
            npst["pos"],
            npst["has_gauss"],
            npst["cached_gaussian"],
        )
    np.random.set_state(npst)
    torch.set_rng_state(state["torch"])


# ---------------------------------------------------------------- spaces
def _bound(arr: np.ndarray) -> Any:
    flat = np.asarray(arr).reshape(-1)
    if flat.size and bool((flat == flat[0]).all()):
        return flat[0].item()
    try:
        return torch.from_numpy(np.ascontiguousarray(arr).copy())
    except TypeError:  # a dtype torch has no tensor for
        return np.asarray(arr).tolist()


def space_to_dict(space: Any, where: str = "space") -> dict[str, Any]:
    """A gymnasium space as a small plain dict (Box, Discrete, MultiDiscrete, MultiBinary, Tuple, Dict)."""
    s = gym.spaces
    if isinstance(space, s.Box):
        return {
            "type": "Box",
            "shape": [int(n) for n in space.shape],
            "dtype": np.dtype(space.dtype).name,
            "low": _bound(space.low),
            "high": _bound(space.high),
        }
    if isinstance(space, s.Discrete):
        return {"type": "Discrete", "n": int(space.n), "start": int(space.start)}
    if isinstance(space, s.MultiDiscrete):
        return {
            "type": "MultiDiscrete",
            "nvec": np.asarray(space.nvec).tolist(),
            "start": np.asarray(space.start).tolist(),
            "dtype": np.dtype(space.dtype).name,
        }
    if isinstance(space, s.MultiBinary):
        n = space.n
        return {"type": "MultiBinary", "n": int(n) if np.ndim(n) == 0 else np.asarray(n).tolist()}
    if isinstance(space, s.Tuple):
        return {
            "type": "Tuple",
            "spaces": [space_to_dict(x, f"{where}[{i}]") for i, x in enumerate(space.spaces)],
        }
    if isinstance(space, s.Dict):
        return {
            "type": "Dict",
            "spaces": {str(k): space_to_dict(x, f"{where}[{k!r}]") for k, x in space.spaces.items()},
        }
    raise NotPlainDataError(
        f"checkpoint {where} is a {_type_name(space)}; storable spaces: Box, Discrete, MultiDiscrete, "
        "MultiBinary, Tuple, Dict"
    )


def _dtype(name: Any) -> np.dtype[Any]:
    if not isinstance(name, str):
        raise ValueError(f"dtype {name!r:.40}")
    dtype = np.dtype(name)
    if dtype.kind not in "biuf":
        raise ValueError(f"dtype {name!r:.40}")
    return dtype


def _int(value: Any, what: str) -> int:
    if type(value) is not int:
        raise ValueError(f"{what} {value!r:.40}")
    return value


def _bound_array(value: Any, shape: tuple[int, ...], dtype: np.dtype[Any], what: str) -> Any:
    if type(value) in (int, float, bool):
        return value
    if isinstance(value, torch.Tensor):
        value = value.numpy()
    elif not isinstance(value, list):
        raise ValueError(f"{what} bound {_type_name(value)}")
    arr = np.asarray(value, dtype=dtype)
    if arr.shape != shape:
        raise ValueError(f"{what} bound shape {arr.shape} != {shape}")
    return arr


def space_from_dict(data: Any) -> gym.Space[Any]:
    """Inverse of `space_to_dict`; ``ValueError`` for anything malformed."""
    if not isinstance(data, dict):
        raise ValueError(f"expected a dict, got {_type_name(data)}")
    kind = data.get("type")
    s = gym.spaces
    if kind == "Box":
        shape = data.get("shape")
        if not isinstance(shape, list | tuple) or any(type(n) is not int or n < 0 for n in shape):
            raise ValueError(f"Box shape {shape!r:.60}")
        if math.prod(shape) > MAX_SPACE_ELEMENTS:
            raise ValueError(f"Box shape {shape!r:.60} is implausibly large")
        shape, dtype = tuple(shape), _dtype(data.get("dtype"))
        low = _bound_array(data.get("low"), shape, dtype, "low")
        high = _bound_array(data.get("high"), shape, dtype, "high")
        return s.Box(low=low, high=high, shape=shape, dtype=dtype)
    if kind == "Discrete":
        return s.Discrete(
            _int(data.get("n"), "Discrete n"), start=_int(data.get("start", 0), "Discrete start")
        )
    if kind == "MultiDiscrete":
        nvec, start = data.get("nvec"), data.get("start")
        if not isinstance(nvec, list) or not isinstance(start, list):
            raise ValueError("MultiDiscrete nvec/start must be lists")
        return s.MultiDiscrete(np.asarray(nvec, dtype=np.int64), dtype=_dtype(data.get("dtype")), start=start)
    if kind == "MultiBinary":
        n = data.get("n")
        if isinstance(n, list):
            return s.MultiBinary([_int(x, "MultiBinary n") for x in n])
        return s.MultiBinary(_int(n, "MultiBinary n"))
    if kind == "Tuple" and isinstance(data.get("spaces"), list):
        return s.Tuple([space_from_dict(x) for x in data["spaces"]])
    if kind == "Dict" and isinstance(data.get("spaces"), dict):
        return s.Dict({str(k): space_from_dict(v) for k, v in data["spaces"].items()})
    raise ValueError(f"unknown space type {kind!r:.40}")
