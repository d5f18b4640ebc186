"""The search space of `tradea3c tune`: a TOML file with one table per dotted strategy key (the
``--set`` paths), each a range (``low``/``high``, optionally ``log`` or ``step``) or ``choices``,
validated against the strategy before any trial runs (`load_space`)."""

from __future__ import annotations

import json
import math
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradea3c.config import ConfigError, apply_overrides, to_dict
from tradea3c.experiment.strategy import StrategyConfig

if TYPE_CHECKING:
    import optuna

PARAM_KEYS = ("low", "high", "log", "step", "choices")
NOT_TUNABLE = {
    "a3c.seed": "tuning the seed only picks the luckiest one; tune settings, then run several seeds",
    "split.": "the validation range is the objective; tuning it moves the goalposts",
    "market.": "another market is another question; tune on one market, run a study across others",
    "tuning.": "written by the search itself",
    "name": "the study is named after the strategy",
}


@dataclass(frozen=True)
class Param:
    """One dimension of the search: a range (``low``..``high``, optionally ``log`` or ``step``) or
    a list of ``choices``; ``integer`` ranges are those of int settings (e.g. ``env.window``)."""

    key: str
    low: float | None = None
    high: float | None = None
    log: bool = False
    step: float | None = None
    choices: tuple[Any, ...] = ()
    integer: bool = False

    def suggest(self, trial: optuna.Trial) -> Any:
        if self.choices:
            if all(isinstance(c, str | int | float | bool) for c in self.choices):
                return trial.suggest_categorical(self.key, list(self.choices))
            text = trial.suggest_categorical(self.key, [json.dumps(c) for c in self.choices])
            return json.loads(text)  # tables / lists (e.g. env.positions): Optuna stores them as JSON text
        assert self.low is not None and self.high is not None
        if self.integer:
            return trial.suggest_int(
                self.key, int(self.low), int(self.high), step=int(self.step or 1), log=self.log
            )
        return trial.suggest_float(self.key, self.low, self.high, step=self.step, log=self.log)


@dataclass(frozen=True)
class SearchSpace:
    """The parameters a search varies, read from ``source`` (`load_space`)."""

    params: tuple[Param, ...]
    source: str = ""

    def as_data(self) -> list[dict[str, Any]]:
        return json.loads(json.dumps([to_dict(p) for p in self.params]))


def _toml_value(value: Any) -> str:
    import tomli_w

    return tomli_w.dumps({"v": value}).partition("=")[2].strip()


def overrides(params: dict[str, Any]) -> list[str]:
    """A trial's parameters as ``--set`` overrides (``key=TOML value``)."""
    return [f"{k}={_toml_value(v)}" for k, v in params.items()]


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"a3c.lr": {...}}`` and ``{"a3c": {"lr": {...}}}`` (unquoted ``[a3c.lr]``) alike."""
    out: dict[str, Any] = {}
    for k, v in table.items():
        key = f"{prefix}{k}"
        if (
            isinstance(v, dict)
            and v
            and not set(v) & set(PARAM_KEYS)
            and all(isinstance(x, dict) for x in v.values())
        ):
            out |= _flatten(v, key + ".")
        else:
            out[key] = v
    return out


def _current(strategy: StrategyConfig, key: str) -> Any:
    data: Any = to_dict(strategy)
    for part in key.split("."):
        data = data.get(part) if isinstance(data, dict) else None
    return data


def _param(strategy: StrategyConfig, key: str, spec: Any, where: str) -> Param:
    """One table of the space file, checked: its settings, its bounds, and every value it can
    take (the ends of a range, each choice) applied to ``strategy`` like ``--set``."""
    import difflib

    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a table with low/high or choices, got {spec!r}", key)
    for name in spec:
        if name not in PARAM_KEYS:
            close = difflib.get_close_matches(name, PARAM_KEYS, n=1)
            hint = f"did you mean {close[0]!r}?" if close else f"use {', '.join(PARAM_KEYS)}"
            raise ConfigError(f"{where}: unknown setting {name!r}; {hint}", key)
    for prefix, why in NOT_TUNABLE.items():
        if key == prefix or (prefix.endswith(".") and key.startswith(prefix)):
            raise ConfigError(f"{where}: {key} is not tunable ({why})", key)
    if "choices" in spec:
        choices = spec["choices"]
        if set(spec) - {"choices"}:
            raise ConfigError(f"{where}: give either choices or low/high, not both", key)
        if not isinstance(choices, list) or not choices:
            raise ConfigError(f"{where}: choices must be a non-empty list, got {choices!r}", key)
        if len({json.dumps(c, sort_keys=True) for c in choices}) < len(choices):
            raise ConfigError(f"{where}: choices {choices!r} repeat a value; list each once", key)
        values, param = [("choice", c) for c in choices], Param(key, choices=tuple(choices))
    else:
        low, high = spec.get("low"), spec.get("high")
        if low is None or high is None:
            raise ConfigError(f"{where}: a range needs both low and high (or give choices)", key)
        for name in ("low", "high", "step"):
            v = spec.get(name)
            if v is not None and (
                isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v)
            ):
                raise ConfigError(f"{where}: {name} = {v!r} is not a finite number", key)
        log_ = spec.get("log", False)
        if not isinstance(log_, bool):
            raise ConfigError(f"{where}: log = {log_!r}; expected true or false", key)
        if not low < high:
            raise ConfigError(f"{where}: low = {low!r} must be below high = {high!r}", key)
        if log_ and low <= 0:
            raise ConfigError(f"{where}: log = true needs low > 0, got low = {low!r}", key)
        step = spec.get("step")
        if step is not None and (step <= 0 or log_):
            raise ConfigError(f"{where}: step = {step!r} must be > 0 and cannot go with log = true", key)
        current = _current(strategy, key)
        integer = isinstance(current, int) and not isinstance(current, bool)
        if integer and not all(isinstance(v, int) for v in (low, high, step or 1)):
            raise ConfigError(f"{where}: {key} is an integer setting; give integer low/high/step", key)
        if isinstance(current, bool):
            raise ConfigError(f"{where}: {key} is true/false; use choices = [true, false]", key)
        values = [("low", low), ("high", high)]
        param = Param(
            key, float(low), float(high), log_, None if step is None else float(step), integer=integer
        )
    for name, value in values:
        try:
            apply_overrides(strategy, [f"{key}={_toml_value(value)}"])
        except ConfigError as e:
            raise ConfigError(f"{where}: {name} {value!r}: {str(e).partition(': ')[2]}", key) from None
    return param


def load_space(path: str | Path, strategy: StrategyConfig) -> SearchSpace:
    """The search space in TOML ``path`` (one table per dotted strategy key, with ``low``/``high``
    [``log``, ``step``] or ``choices``), validated against ``strategy`` up front: one-line
    `ConfigError`\\ s naming the file and the key (unknown keys with a did-you-mean hint, bad bounds,
    values the setting refuses)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"search space {path} not found; pass a .toml file (see docs/tuning.md)")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError, OSError) as e:
        raise ConfigError(f"{path}: not a readable TOML file ({e}); fix it (see docs/tuning.md)") from None
    flat = _flatten(data)
    if not flat:
        raise ConfigError(f'{path}: no parameters; add a table like ["a3c.lr"] with low = 1e-4, high = 3e-3')
    params = tuple(_param(strategy, k, v, f'{path}: ["{k}"]') for k, v in flat.items())
    return SearchSpace(params, str(path))


def decoded(param: Param, value: Any) -> Any:
    """A stored value back as the setting's (choices that are lists/tables are stored as JSON text)."""
    if param.choices and not all(isinstance(c, str | int | float | bool) for c in param.choices):
        return json.loads(value)
    return value
