"""tradea3c.config: pydantic-validated frozen dataclasses, one-line errors, TOML round trips, --set."""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from tradea3c.a3c.config import A3CConfig, ModelConfig
from tradea3c.config import ConfigError, apply_overrides, dump_toml, from_dict, load_toml, set_dotted, to_dict


@dataclass(frozen=True)
class _Leaf:
    rate: float = 0.5
    kind: Literal["a", "b"] = "a"

    def __post_init__(self) -> None:
        if self.rate < 0:
            raise ValueError("rate must be >= 0")


@dataclass(frozen=True)
class _Root:
    """Every annotation shape the package's configs use (string annotations: __future__ import)."""

    name: str | None = None
    cap: int | None = None
    weights: tuple[float, ...] = (1.0,)
    band: tuple[float, float] = (0.0, 1.0)
    mode: Literal["x", "y"] = "x"
    leaf: _Leaf = field(default_factory=lambda: _Leaf(rate=2.0))
    leaves: tuple[_Leaf, ...] = ()


@dataclass(frozen=True)
class _Loose:
    x: int = 0
    tags: frozenset[int] = frozenset()


def _err(cls: type, data: dict) -> str:
    with pytest.raises(ConfigError) as info:
        from_dict(cls, data)
    msg = str(info.value)
    assert "\n" not in msg
    return msg


def test_unknown_keys_at_any_depth_name_the_path_and_a_fix() -> None:
    assert _err(A3CConfig, {"lrr": 1}) == "unknown key 'lrr'; did you mean 'lr'?"
    msg = _err(A3CConfig, {"model": {"hiden": [8]}})
    assert msg == "unknown key 'model.hiden'; did you mean 'hidden'?"
    assert _err(_Root, {"leaves": [{}, {"rat": 1}]}) == "unknown key 'leaves[1].rat'; did you mean 'rate'?"
    assert _err(_Root, {"leaf": {"zzz": 1}}) == "unknown key 'leaf.zzz'; valid keys: kind, rate"
    with pytest.raises(ConfigError, match=r"^unknown key 'cfg.model.kin'; did you mean 'kind'\?$"):
        from_dict(A3CConfig, {"model": {"kin": "mlp"}}, where="cfg")


def test_types_are_strict_except_list_to_tuple_and_int_to_float() -> None:
    cfg = from_dict(A3CConfig, {"lr": 1, "adam_betas": [0, 1], "model": {"hidden": [8, 4]}})
    assert cfg.lr == 1.0 and isinstance(cfg.lr, float) and cfg.adam_betas == (0.0, 1.0)
    assert isinstance(cfg.adam_betas, tuple) and cfg.model == ModelConfig(hidden=(8, 4))
    assert _err(A3CConfig, {"t_max": "3"}) == "t_max: expected int, got '3'"
    assert _err(A3CConfig, {"t_max": 1.5}) == "t_max: expected int, got 1.5"
    assert _err(A3CConfig, {"t_max": True}) == "t_max: expected int, got True"
    assert _err(A3CConfig, {"lr": True}) == "lr: expected float, got True"
    assert _err(A3CConfig, {"lr": "1e-3"}) == "lr: expected float, got '1e-3'"
    assert _err(A3CConfig, {"model": 3}) == "model: expected a table, got 3"
    assert _err(A3CConfig, {"model": {"hidden": [8, "x"]}}) == "model.hidden[1]: expected int, got 'x'"
    assert _err(A3CConfig, {"model": {"kind": "gru"}}) == (
        "model.kind: expected 'mlp', 'lstm' or 'per_asset', got 'gru'"
    )


def test_post_init_errors_become_config_errors_with_the_path() -> None:
    assert _err(_Root, {"leaf": {"rate": -1}}) == "leaf: rate must be >= 0"
    assert _err(A3CConfig, {"gamma": 2}) == "A3CConfig: gamma and gae_lambda must be in [0, 1]"


def test_several_errors_report_the_first_and_count_the_rest() -> None:
    msg = _err(A3CConfig, {"t_max": "x", "lr": "y", "seed": None})
    assert msg == "t_max: expected int, got 'x' (and 2 more errors)"
    assert _err(A3CConfig, {"t_max": "x", "lr": "y"}).endswith("(and 1 more error)")


def test_unions_tuples_literals_and_default_factories() -> None:
    assert from_dict(_Root, {}) == _Root() and _Root().leaf.rate == 2.0
    cfg = from_dict(_Root, {"name": "n", "cap": 3, "weights": [1, 2.5], "band": [0, 2], "mode": "y"})
    assert cfg == _Root(name="n", cap=3, weights=(1.0, 2.5), band=(0.0, 2.0), mode="y")
    assert from_dict(_Root, {"leaves": [{"kind": "b"}]}).leaves == (_Leaf(kind="b"),)
    assert _err(_Root, {"name": 3}) == "name: expected str, got 3"
    assert _err(_Root, {"cap": "3"}) == "cap: expected int, got '3'"
    assert _err(_Root, {"band": [1]}) == "band: expected more items, got [1]"
    assert _err(_Root, {"band": [1, 2, 3]}).startswith("band: Tuple should have at most 2 items")
    assert _err(_Root, {"weights": "ab"}) == "weights: expected a list, got 'ab'"
    assert _err(_Root, {"mode": "z"}) == "mode: expected 'x' or 'y', got 'z'"
    with pytest.raises(ConfigError, match="name: required key is missing"):
        from_dict(__import__("tradea3c.envs.profiles").envs.profiles.WorkerProfile, {})


def test_no_type_passes_through_unchecked() -> None:
    assert _err(_Loose, {"x": {"a": 1}}) == "x: expected int, got {'a': 1}"
    assert from_dict(_Loose, {"tags": [1, 2]}).tags == frozenset({1, 2})
    assert _err(_Loose, {"tags": ["a"]}).startswith("tags[0]: expected int")


def test_to_dict_drops_none_and_writes_lists() -> None:
    d = to_dict(_Root(cap=2, leaves=(_Leaf(),)))
    assert d == {
        "cap": 2,
        "weights": [1.0],
        "band": [0.0, 1.0],
        "mode": "x",
        "leaf": {"rate": 2.0, "kind": "a"},
        "leaves": [{"rate": 0.5, "kind": "a"}],
    }


def _round_trip(obj: object, tmp_path: Path) -> None:
    path = tmp_path / "c.toml"
    path.write_text(dump_toml(obj))
    assert load_toml(type(obj), path) == obj


def test_dump_toml_round_trips(tmp_path: Path) -> None:
    from tradea3c.envs.profiles import WorkerProfile

    _round_trip(A3CConfig(lr=3e-4, adam_betas=(0.5, 0.9), model=ModelConfig(kind="lstm")), tmp_path)
    _round_trip(WorkerProfile(name="w", positions=(0.0, 1.0)), tmp_path)
    _round_trip(_Root(name="r", cap=1, leaves=(_Leaf(), _Leaf(rate=1, kind="b"))), tmp_path)
    assert "lr = 0.0003" in dump_toml(A3CConfig(lr=3e-4)) and "[model]" in dump_toml(A3CConfig())


def test_shipped_configs_round_trip(tmp_path: Path) -> None:
    from tradea3c.backtest.baselines import load_rules
    from tradea3c.envs.profiles import load_profiles
    from tradea3c.experiment.strategy import StrategyConfig, load_strategy, shipped_strategies

    strategies = [load_strategy(p) for p in shipped_strategies()]
    assert len(strategies) >= 4
    for obj in [StrategyConfig(), *strategies, *load_profiles(), *load_rules()]:
        _round_trip(obj, tmp_path)


def test_load_toml_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"config file .*missing.toml not found"):
        load_toml(A3CConfig, tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("lr = 1\nt_max = = 3\n")
    with pytest.raises(ConfigError, match=r"bad.toml: invalid TOML .*line 2"):
        load_toml(A3CConfig, bad)
    bad.write_text("[model]\nhiden = [8]\n")
    with pytest.raises(ConfigError, match=r"bad.toml: unknown key 'model.hiden'; did you mean 'hidden'\?$"):
        load_toml(A3CConfig, bad)
    bad.write_text("lr = 2024-01-31\n")  # an unquoted TOML date is no config value
    with pytest.raises(ConfigError, match=r"bad.toml: lr: unsupported date .*quote it"):
        load_toml(A3CConfig, bad)


def test_apply_overrides_parse_toml_values_and_revalidate() -> None:
    base = A3CConfig()
    cfg = apply_overrides(
        base,
        ["lr=3e-4", "lr_anneal=false", "model.hidden=[32, 32]", "optimizer=rmsprop", 'start_method="spawn"'],
    )
    assert cfg == A3CConfig(
        lr=3e-4,
        lr_anneal=False,
        model=ModelConfig(hidden=(32, 32)),
        optimizer="rmsprop",
        start_method="spawn",
    )
    assert base == A3CConfig() and apply_overrides(base, []) == base
    assert apply_overrides(base, [" gamma = 1 "]).gamma == 1.0
    root = apply_overrides(_Root(), ["name=2024-01-31", "cap=7", "leaf.kind=b"])
    assert root.name == "2024-01-31" and root.cap == 7 and root.leaf == _Leaf(rate=2.0, kind="b")


def test_apply_overrides_errors_name_the_override() -> None:
    def err(*overrides: str) -> str:
        with pytest.raises(ConfigError) as info:
            apply_overrides(A3CConfig(), overrides)
        return str(info.value)

    assert err("lr=1e-3", "lrr=1") == "--set lrr=1: unknown key 'lrr'; did you mean 'lr'?"
    assert (
        err("model.hidden=[8, x]") == "--set model.hidden=[8, x]: model.hidden: expected a list, got '[8, x]'"
    )
    assert (
        err("model.hidden=[8, 1.5]") == "--set model.hidden=[8, 1.5]: model.hidden[1]: expected int, got 1.5"
    )
    assert (
        err("gamma=2", "seed=1")
        == "--set gamma=2, --set seed=1: A3CConfig: gamma and gae_lambda must be in [0, 1]"
    )
    assert err("lr") == "--set lr: expected dotted.key=value, e.g. a3c.lr=3e-4"
    assert err("model..kind=mlp").startswith("--set model..kind=mlp: expected dotted.key=value")
    assert err("lr.x=1") == "--set lr.x=1: 'lr' is a value, not a table"
    assert err("modl.kind=lstm") == "--set modl.kind=lstm: unknown key 'modl'; did you mean 'model'?"


def test_apply_overrides_on_a_strategy_validate_all_keys_together() -> None:
    from tradea3c.experiment.strategy import StrategyConfig

    cfg = apply_overrides(
        StrategyConfig(),
        ["a3c.lr=3e-4", "env.positions=[0, 0.5, 1]", "market.source=dow30", "a3c.model.hidden=[32,32]"],
    )
    assert cfg.a3c.lr == 3e-4 and cfg.env.positions == (0.0, 0.5, 1.0) and cfg.market.source == "dow30"
    assert cfg.a3c.model.hidden == (32, 32) and cfg.a3c.total_steps == StrategyConfig().a3c.total_steps
    # min_periods must stay <= window: only valid once both keys are set, whatever the order
    pair = ["env.features.norm_min_periods=5", "env.features.norm_window=10"]
    assert apply_overrides(StrategyConfig(), pair).env.features.norm_window == 10
    with pytest.raises(ConfigError, match=r"^--set a3c.lrr=1: unknown key 'a3c.lrr'; did you mean 'lr'\?$"):
        apply_overrides(StrategyConfig(), ["a3c.lr=1e-3", "a3c.lrr=1"])
    with pytest.raises(ConfigError, match=r"^--set env.features.norm_window=10: env.features: need 2 <="):
        apply_overrides(StrategyConfig(), ["a3c.lr=1e-3", "env.features.norm_window=10"])


def test_set_dotted_creates_tables() -> None:
    d: dict = {"a": {"b": 1}}
    set_dotted(d, "a.c.d", 2)
    set_dotted(d, "e", 3)
    assert d == {"a": {"b": 1, "c": {"d": 2}}, "e": 3}
    with pytest.raises(ConfigError, match="'a.b' is a value, not a table"):
        set_dotted(d, "a.b.x", 1)


def test_config_modules_do_not_import_pydantic() -> None:
    code = (
        "import sys, tradea3c.config, tradea3c.a3c.config, tradea3c.envs.execution, tradea3c.envs.perturb, "
        "tradea3c.features.config; print(sorted({'pydantic', 'tomli_w'} & set(sys.modules)))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    assert out.strip() == "[]", f"importing the config modules loaded {out.strip()}"


@dataclass(frozen=True)
class _Inner:
    bps: float = 5.0  # commission, basis points
    mode: str = "open"


@dataclass(frozen=True)
class _Outer:
    name: str = "x"
    steps: int = 10
    inner: _Inner = field(default_factory=_Inner)
    lags: tuple[int, ...] = (1, 5)
    note: str | None = None


def test_config_from_dict_nested_and_types() -> None:
    cfg = from_dict(_Outer, {"steps": 3, "inner": {"bps": 2}, "lags": [1, 2, 3]})
    assert cfg.steps == 3 and cfg.inner.bps == 2.0 and isinstance(cfg.inner.bps, float)
    assert cfg.lags == (1, 2, 3)


def test_config_unknown_key_has_did_you_mean() -> None:
    with pytest.raises(ConfigError, match=r"unknown key 'inner.bsp'.*did you mean 'bps'"):
        from_dict(_Outer, {"inner": {"bsp": 1.0}})
    with pytest.raises(ConfigError, match="expected int"):
        from_dict(_Outer, {"steps": "ten"})


def test_config_toml_round_trip(tmp_path: Path) -> None:
    cfg = _Outer(name="run", steps=7, inner=_Inner(bps=1.5, mode="close"), lags=(2, 4))
    path = tmp_path / "c.toml"
    path.write_text(dump_toml(cfg))
    assert load_toml(_Outer, path) == cfg
    assert to_dict(cfg)["inner"] == {"bps": 1.5, "mode": "close"}


def test_config_bad_file_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        load_toml(_Outer, tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("steps = = 3\n")
    with pytest.raises(ConfigError, match="invalid TOML") as info:
        load_toml(_Outer, bad)
    assert "\n" not in str(info.value)


def test_a_non_utf8_toml_file_is_one_line_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('name = "caf\xe9"\n'.encode("latin-1"))
    with pytest.raises(ConfigError) as info:
        load_toml(_Outer, bad)
    msg = str(info.value)
    assert msg.startswith(f"{bad}: not UTF-8 text") and "line 1" in msg and "save it as UTF-8" in msg, msg
    assert "\n" not in msg


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "+nan"])
def test_a_non_finite_toml_number_names_the_file_and_the_key(tmp_path: Path, value: str) -> None:
    from tradea3c.experiment.strategy import StrategyConfig

    bad = tmp_path / "s.toml"
    bad.write_text(f"[env.reward]\nscale = {value}\n")  # no __post_init__ check of its own
    with pytest.raises(ConfigError) as info:
        load_toml(StrategyConfig, bad)
    shown = value.lstrip("+")
    assert str(info.value) == (
        f"{bad}: env.reward.scale = {shown} is not a finite number; set a number or delete the key "
        "for its default"
    )
    assert info.value.path == "env.reward.scale"
    bad.write_text(f"[a3c]\nlr = {value}\n")  # A3CConfig's own check said only "a3c: lr ..."
    with pytest.raises(ConfigError, match=rf"s.toml: a3c.lr = {re.escape(shown)} is not a finite number"):
        load_toml(StrategyConfig, bad)
