"""Frozen dataclass configs built from TOML/dicts, with strict keys and did-you-mean hints.

Every experiment knob lives in a plain stdlib dataclass; files under `strategies/` are those
dataclasses written as TOML. Validation is pydantic's (a `TypeAdapter` per class, strict JSON
mode), so every annotated type is checked; this module only adds forbidden extra keys and
one-line errors naming the dotted key. pydantic and tomli-w are imported lazily: config modules
never import pydantic, and `import tradea3c.config` stays cheap.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import json
import math
import reprlib
import tomllib
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")

# pydantic error type -> what was expected (Literal errors bring their own; others keep pydantic's text).
_EXPECTED = {"int_type": "int", "float_type": "float", "string_type": "str", "bool_type": "bool"}
_EXPECTED |= dict.fromkeys(["tuple_type", "list_type"], "a list")
_EXPECTED |= dict.fromkeys(["dataclass_type", "dict_type"], "a table")


class ConfigError(ValueError):
    """A config does not match its dataclass: one line naming the key and the fix; ``path`` = that key."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.path = path


def _is_table(tp: Any) -> bool:
    return isinstance(tp, type) and dataclasses.is_dataclass(tp)


def _forbid_extra(tp: Any, seen: set[Any]) -> None:
    """Mark every dataclass reachable from ``tp`` ``extra="forbid"`` (pydantic ignores extras otherwise)."""
    if tp in seen:
        return
    seen.add(tp)
    if _is_table(tp):
        config = {**getattr(tp, "__pydantic_config__", {}), "extra": "forbid"}
        tp.__pydantic_config__ = config
        for hint in typing.get_type_hints(tp).values():
            _forbid_extra(hint, seen)
    for arg in typing.get_args(tp):
        _forbid_extra(arg, seen)


@functools.cache
def _adapter(cls: type) -> Any:
    from pydantic import TypeAdapter

    _forbid_extra(cls, set())
    return TypeAdapter(cls)


def _walk(cls: type, loc: Sequence[str | int]) -> tuple[str, Any]:
    """pydantic ``loc`` -> (dotted path like ``env.positions[1]``, annotated type found there)."""
    path, tp = "", cls
    for part in loc:
        if typing.get_origin(tp) in (typing.Union, types.UnionType):
            members = [a for a in typing.get_args(tp) if a is not type(None)]
            named = [a for a in members if getattr(a, "__name__", None) == part]
            if named:  # pydantic tags union members in loc: not part of the user's key
                tp = named[0]
                continue
            tp = members[0] if len(members) == 1 else None
        if isinstance(part, int):
            path += f"[{part}]"
            args = typing.get_args(tp)
            tp = args[0] if args[-1:] == (Ellipsis,) or len(args) == 1 else (args[part:] or [None])[0]
        else:
            path += f".{part}" if path else str(part)
            tp = typing.get_type_hints(tp).get(part) if _is_table(tp) else None
    return path, tp


def _did_you_mean(key: str, options: list[str]) -> str:
    close = difflib.get_close_matches(key, options, n=1, cutoff=0.5)
    return f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(sorted(options))}"


def _message(cls: type, err: dict[str, Any], where: str) -> ConfigError:
    """One pydantic error -> one line that starts with the dotted key."""
    loc, kind, ctx = err["loc"], err["type"], err.get("ctx", {})
    if kind == "missing" and isinstance(loc[-1], int):  # a fixed-length tuple given too few items
        loc, kind, ctx = loc[:-1], "too_short", {"expected": "more items"}
    path = ".".join(p for p in (where, _walk(cls, loc)[0]) if p)
    got = reprlib.repr(err.get("input"))
    if kind in ("unexpected_keyword_argument", "extra_forbidden"):
        parent = _walk(cls, loc[:-1])[1]
        table = next((t for t in (parent, *typing.get_args(parent)) if _is_table(t)), None)
        fields = [f.name for f in dataclasses.fields(table) if f.init] if table else []
        return ConfigError(f"unknown key {path!r}{_did_you_mean(str(loc[-1]), fields)}", path)
    expected = _EXPECTED.get(kind) or ctx.get("expected")
    what = f"expected {expected}, got {got}" if expected else f"{err['msg']}, got {got}"
    if kind in ("value_error", "missing"):  # raised by a dataclass's __post_init__; a required field
        what = str(ctx["error"]) if kind == "value_error" else "required key is missing"
    return ConfigError(f"{path or cls.__name__}: {what}", path)


def _check_plain(value: Any, path: str) -> None:
    """Only JSON-like values reach pydantic (TOML dates/times are not config values: quote them)."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list | tuple):
        for i, v in enumerate(value):
            _check_plain(v, f"{path}[{i}]")
    elif value is not None and not isinstance(value, str | int | float):
        raise ConfigError(f"{path}: unsupported {type(value).__name__} {value!r}; quote it as a string", path)


def from_dict(cls: type[T], data: dict[str, Any], *, where: str = "") -> T:
    """Build dataclass ``cls`` from ``data``: nested tables become nested dataclasses, unknown keys fail.

    Strict JSON mode: lists become tuples, ints pass for floats, nothing else is coerced ("3", true).
    """
    from pydantic import ValidationError

    _check_plain(data, where)
    try:
        return _adapter(cls).validate_json(json.dumps(data), strict=True)
    except ValidationError as e:
        errors = e.errors()
        first, more = _message(cls, errors[0], where), len(errors) - 1
        tail = f" (and {more} more error{'s' * (more > 1)})" if more else ""
        raise ConfigError(f"{first}{tail}", first.path) from None


def to_dict(obj: Any) -> Any:
    """Dataclass -> plain dict/list tree (TOML/JSON-serialisable; None values dropped)."""
    if dataclasses.is_dataclass(obj) and not isinstance(obj, type):
        values = {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj)}
        return {k: to_dict(v) for k, v in values.items() if v is not None}
    if isinstance(obj, list | tuple):
        return [to_dict(v) for v in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


def _check_finite(value: Any, path: str) -> None:
    """`ConfigError` naming the key of the first non-finite number (TOML's ``nan``, ``inf``): no
    setting means "not a number", and a nan compares false against every bound check."""
    if isinstance(value, dict):
        for k, v in value.items():
            _check_finite(v, f"{path}.{k}" if path else str(k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            _check_finite(v, f"{path}[{i}]")
    elif isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(
            f"{path} = {value!r} is not a finite number; set a number or delete the key for its default", path
        )


def _read_text(path: Path) -> str:
    """The file's text; `ConfigError` naming the file (and the line of a non-UTF-8 byte)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{path}: cannot read it ({e.strerror or e}); pass a readable .toml file") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} on line {line}); save it as UTF-8 "
            "(TOML files are UTF-8)"
        ) from None


def load_toml(cls: type[T], path: str | Path) -> T:
    """Read a TOML file into dataclass ``cls``; errors name the file and the key (one line each:
    a missing or unreadable file, text that is not UTF-8, invalid TOML, a ``nan``/``inf`` value)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} not found; pass a path to a .toml file (see strategies/)")
    try:
        data = tomllib.loads(_read_text(path))
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path}: invalid TOML ({e}); fix the syntax at that line") from None
    try:
        _check_finite(data, "")
        return from_dict(cls, data)
    except ConfigError as e:
        raise ConfigError(f"{path}: {e}", e.path) from None


def dump_toml(obj: Any) -> str:
    """TOML text of a config dataclass (None fields are left out, so they load as their default)."""
    import tomli_w

    return tomli_w.dumps(to_dict(obj))


def set_dotted(data: dict[str, Any], key: str, value: Any) -> None:
    """``data["a"]["b"] = value`` for ``key="a.b"``, creating missing tables."""
    *parents, last = key.split(".")
    for i, part in enumerate(parents):
        data = data.setdefault(part, {})
        if not isinstance(data, dict):
            raise ConfigError(f"{'.'.join(parents[: i + 1])!r} is a value, not a table", key)
    data[last] = value


def _parse_value(text: str) -> Any:
    """A TOML value (3e-4, true, [1, 2], "x"); anything else, and dates, stay the bare string."""
    try:
        value = tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text
    return value if isinstance(value, str | int | float | list | dict) else text


def apply_overrides(obj: T, overrides: Sequence[str]) -> T:
    """``obj`` with ``dotted.key=value`` overrides (CLI ``--set``), re-validated like a config file.

    Merged first, validated once (a constraint between two keys may need both); errors name the override.
    """
    data = to_dict(obj)
    keys: dict[str, str] = {}
    for ov in overrides:
        key, eq, text = ov.partition("=")
        key = key.strip()
        if not eq or not all(key.split(".")):
            raise ConfigError(f"--set {ov}: expected dotted.key=value, e.g. a3c.lr=3e-4")
        try:
            set_dotted(data, key, _parse_value(text.strip()))
        except ConfigError as e:
            raise ConfigError(f"--set {ov}: {e}", key) from None
        keys[ov] = key
    try:
        return from_dict(type(obj), data)
    except ConfigError as e:
        hit = [o for o, k in keys.items() if _related(e.path, k)] or list(keys)
        raise ConfigError(f"--set {', --set '.join(hit)}: {e}", e.path) from None


def _related(path: str, key: str) -> bool:
    """Is an error at ``path`` about override ``key`` (same key, inside it, or a table holding it)?"""
    return path in ("", key) or key.startswith(path + ".") or path.startswith((key + ".", key + "["))
