"""Checkpoints cannot run code: FORMAT 2 is plain data read with ``weights_only=True``.

Crafted pickles are refused (one line, nothing executed) by every entry point that reads a
checkpoint; real checkpoints round-trip exactly; FORMAT 1 pickles are refused with the upgrade hint
and convert only through the explicit, trusted ``upgrade_checkpoint`` / ``tradea3c checkpoint
upgrade --trust-pickle``; ``save_checkpoint`` refuses non-plain metadata before touching the file.
"""

from __future__ import annotations

import functools
import os
import random
import subprocess
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tests.a3c.conftest import CARTPOLE_OBS, cartpole_mlp, step_with_ones
from tests.conftest import signal_strategy
from tradea3c.a3c import A3CConfig, ModelConfig, build_model
from tradea3c.a3c.checkpoint import (
    CheckpointError,
    LegacyCheckpointError,
    NotPlainDataError,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from tradea3c.a3c.checkpoint.format import FORMAT
from tradea3c.a3c.checkpoint.plain import rng_state, set_rng_state
from tradea3c.a3c.checkpoint.upgrade import upgrade_checkpoint, v1_backup_path
from tradea3c.a3c.models import BuiltinModelFactory
from tradea3c.a3c.models.builtin import model_factory_spec
from tradea3c.a3c.optim import SharedAdam
from tradea3c.cli import app
from tradea3c.config import to_dict

ROOT = Path(__file__).resolve().parents[3]
runner = CliRunner()


# ---------------------------------------------------------------- crafted files
class TouchOnUnpickle:
    """Unpickling this calls ``Path.touch(marker)``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (Path.touch, (self.marker,))


class SystemOnUnpickle:
    """Unpickling this runs a shell command (``os.system``)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (os.system, (f"touch '{self.marker}'",))


def _crafted(path: Path, marker: Path, kind: str) -> Path:
    """A malicious ``.pt``: a bare exploit object, or a FORMAT-1-looking payload hiding one."""
    evil = (SystemOnUnpickle if kind.startswith("system") else TouchOnUnpickle)(marker)
    if kind.endswith("bare"):
        obj: Any = evil
    else:
        model = build_model(ModelConfig(hidden=(4,)), gym.spaces.Box(-1, 1, (3,)), gym.spaces.Discrete(2))
        obj = {
            "format": 1,
            "version": "0.1.0",
            "config": to_dict(A3CConfig()),
            "extra": {"market_fingerprint": "x", "strategy": {}, "game": "Pong"},
            "model_factory": evil,
            "observation_space": gym.spaces.Box(-1, 1, (3,)),
            "action_space": gym.spaces.Discrete(2),
            "model": model.state_dict(),
            "optimizer": None,
            "counters": {"global_step": 1},
            "rng": None,
            "metrics": {},
        }
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)
    return path


KINDS = ["touch-bare", "system-bare", "touch-v1", "system-v1"]


def _one_line(exc: BaseException) -> str:
    text = str(exc)
    assert text and "\n" not in text, repr(text)
    return text


def test_crafted_files_really_run_code_when_unpickled(tmp_path: Path) -> None:
    """Control: the crafted files are live exploits (so the refusals below mean something)."""
    for kind in ("touch-v1", "system-bare"):
        marker = tmp_path / f"ran-{kind}"
        path = _crafted(tmp_path / f"{kind}.pt", marker, kind)
        torch.load(path, weights_only=False)
        assert marker.exists(), kind


@pytest.mark.parametrize("kind", KINDS)
def test_load_and_read_refuse_crafted_files_without_running_them(tmp_path: Path, kind: str) -> None:
    marker = tmp_path / "MARKER"
    path = _crafted(tmp_path / "best.pt", marker, kind)
    for load in (load_checkpoint, read_checkpoint):
        with pytest.raises(CheckpointError) as err:
            load(path)
        msg = _one_line(err.value)
        assert str(path) in msg
        assert "refused: the file contains code or objects that are not plain data" in msg
        assert not isinstance(err.value, LegacyCheckpointError)  # no upgrade hint for a foreign object
    assert not marker.exists()


def test_backtest_cli_refuses_a_crafted_best_pt(tmp_path: Path) -> None:
    marker = tmp_path / "MARKER"
    run_dir = tmp_path / "run"
    _crafted(run_dir / "best.pt", marker, "system-v1")
    res = runner.invoke(app, ["backtest", str(run_dir)])
    assert res.exit_code != 0
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:"), res.output
    assert "Traceback" not in res.output
    assert not marker.exists()


def test_resume_refuses_a_crafted_latest_pt(tmp_path: Path) -> None:
    from tradea3c.experiment import load_strategy, train_strategy

    cfg = load_strategy(signal_strategy(tmp_path))
    cfg = replace(cfg, a3c=replace(cfg.a3c, workers=1, total_steps=200, eval_every=0, tensorboard=False))
    run_dir = tmp_path / "run"
    train_strategy(cfg, run_dir, progress=False)
    assert read_checkpoint(run_dir / "latest.pt")["format"] == FORMAT
    marker = tmp_path / "MARKER"
    _crafted(run_dir / "latest.pt", marker, "touch-v1")
    with pytest.raises(Exception) as err:  # noqa: B017 - any one-line error will do
        train_strategy(
            replace(cfg, a3c=replace(cfg.a3c, total_steps=400)), run_dir, resume=True, progress=False
        )
    assert "refused" in _one_line(err.value)
    assert not marker.exists()


@pytest.mark.atari
def test_atari_eval_refuses_a_crafted_checkpoint(tmp_path: Path) -> None:
    from tradea3c.atari.evaluate import evaluate_checkpoint

    marker = tmp_path / "MARKER"
    path = _crafted(tmp_path / "best.pt", marker, "system-v1")
    with pytest.raises(ValueError) as err:
        evaluate_checkpoint(path, episodes=1)
    assert "refused" in _one_line(err.value)
    assert not marker.exists()


def test_damaged_and_foreign_files_fail_with_one_line(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError) as missing:
        load_checkpoint(tmp_path / "nope.pt")
    _one_line(missing.value)
    cases = {
        "junk.pt": b"not a checkpoint at all",
        "empty.pt": b"",
    }
    for name, data in cases.items():
        (tmp_path / name).write_bytes(data)
    torch.save(torch.zeros(3), tmp_path / "tensor.pt")
    torch.save({"format": FORMAT + 1, "model": {}}, tmp_path / "future.pt")
    torch.save({"format": FORMAT, "model": {}}, tmp_path / "partial.pt")
    good = _save_small(tmp_path / "good.pt")
    (tmp_path / "truncated.pt").write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    expected = {
        "junk.pt": "not a tradea3c checkpoint",
        "empty.pt": "not a tradea3c checkpoint",
        "tensor.pt": "not a tradea3c checkpoint",
        "future.pt": "newer than this tradea3c",
        "partial.pt": "missing",
        "truncated.pt": "damaged",
    }
    for name, text in expected.items():
        with pytest.raises(CheckpointError) as err:
            load_checkpoint(tmp_path / name)
        assert text in _one_line(err.value), name


# ---------------------------------------------------------------- round trip
OBS = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
OBS_RANGED = gym.spaces.Box(np.arange(6, dtype=np.float32), np.arange(6, dtype=np.float32) + 10.0)
WEIGHTS = gym.spaces.Box(0.0, 1.0, (3,), np.float32)


def _trained(model: torch.nn.Module, obs_dim: int) -> SharedAdam:
    opt = SharedAdam(model.parameters(), lr=0.01)
    dist, value, _ = model(torch.randn(5, obs_dim), model.initial_state(5))
    (value.sum() + dist.entropy().sum()).backward()
    opt.step()
    return opt


def _outputs(model: torch.nn.Module, x: torch.Tensor) -> list[torch.Tensor]:
    with torch.no_grad():
        dist, value, _ = model(x, model.initial_state(x.shape[0]))
    params = dist.logits if hasattr(dist, "logits") else dist.concentration
    return [params, value]


def _save_small(path: Path, **kw: Any) -> Path:
    cfg = A3CConfig(model=ModelConfig(hidden=(8,)))
    model = build_model(cfg.model, OBS, gym.spaces.Discrete(3))
    args: dict[str, Any] = {
        "model": model,
        "optimizer": None,
        "config": cfg,
        "model_factory": None,
        "observation_space": OBS,
        "action_space": gym.spaces.Discrete(3),
        "counters": {"global_step": 7},
        "extra": {"fingerprint": "abc"},
    }
    return save_checkpoint(path, **{**args, **kw})


@pytest.mark.parametrize(
    ("model_cfg", "obs", "act", "factory"),
    [
        (ModelConfig(hidden=(8,)), OBS, gym.spaces.Discrete(3), "builtin"),
        (ModelConfig(hidden=(8,)), OBS, gym.spaces.Discrete(3), "partial"),
        (ModelConfig(hidden=(8, 8), policy="dirichlet"), OBS_RANGED, WEIGHTS, "builtin"),
        (ModelConfig(kind="lstm", hidden=(8,), lstm_size=5), OBS_RANGED, gym.spaces.Discrete(2), "none"),
    ],
    ids=["mlp-discrete", "old-partial-factory", "dirichlet-box", "lstm-default-factory"],
)
def test_round_trip_is_exact_and_plain(
    tmp_path: Path, model_cfg: ModelConfig, obs: gym.spaces.Space, act: gym.spaces.Space, factory: str
) -> None:
    torch.manual_seed(0)
    cfg = A3CConfig(model=model_cfg)
    model = build_model(model_cfg, obs, act)
    opt = _trained(model, obs.shape[0])
    model_factory = {
        "builtin": BuiltinModelFactory(model_cfg),
        "partial": functools.partial(build_model, model_cfg),
        "none": None,
    }[factory]
    np.random.randn()  # leaves a cached gaussian in numpy's legacy state
    rng = rng_state()
    expected = (random.random(), random.gauss(0, 1), np.random.randn(3), torch.rand(3))
    path = save_checkpoint(
        tmp_path / "ck.pt",
        model=model,
        optimizer=opt,
        config=cfg,
        model_factory=model_factory,
        observation_space=obs,
        action_space=act,
        counters={"global_step": 42, "best_metric": np.float64(1.5)},
        extra={"fingerprint": "abc", "nested": {"a": [1, 2.5, None, True], "t": (1, "x")}},
        rng=rng,
        metrics={"score": np.float32(0.25)},
    )
    raw = torch.load(path, map_location="cpu", weights_only=True)  # plain data, no allow-list needed
    assert raw["format"] == FORMAT == 2
    assert raw["model_spec"]["factory"] == "builtin" and raw["model_spec"]["model"] == to_dict(model_cfg)
    assert raw["observation_space"]["type"] == "Box"
    if obs is OBS:
        assert raw["observation_space"]["low"] == -np.inf  # a uniform bound is one float
    else:
        assert isinstance(raw["observation_space"]["low"], torch.Tensor)

    loaded, config, meta = load_checkpoint(path)
    assert config == cfg and not loaded.training
    assert meta["observation_space"] == obs and meta["action_space"] == act
    assert meta["extra"] == {"fingerprint": "abc", "nested": {"a": [1, 2.5, None, True], "t": (1, "x")}}
    assert meta["counters"] == {"global_step": 42, "best_metric": 1.5}
    assert meta["metrics"] == {"score": 0.25} and type(meta["metrics"]["score"]) is float
    x = torch.as_tensor(np.stack([obs.sample() for _ in range(6)]), dtype=torch.float32)
    for a, b in zip(_outputs(model, x), _outputs(loaded, x), strict=True):
        assert torch.equal(a, b)

    payload = read_checkpoint(path)
    opt2 = SharedAdam(build_model(model_cfg, obs, act).parameters(), lr=0.01)
    opt2.load_state_dict(payload["optimizer"])
    for k, v in opt.state_dict()["state"][0].items():
        assert torch.equal(v, opt2.state_dict()["state"][0][k])

    random.seed(123)
    np.random.seed(123)
    torch.manual_seed(123)
    set_rng_state(payload["rng"])  # the plain form read back from the file
    again = (random.random(), random.gauss(0, 1), np.random.randn(3), torch.rand(3))
    assert again[:2] == expected[:2]
    np.testing.assert_array_equal(again[2], expected[2])
    assert torch.equal(again[3], expected[3])


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and torch.equal(a, b)
    if isinstance(a, dict):
        return isinstance(b, dict) and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list | tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return type(a) is type(b) and a == b


def test_resume_restores_the_saved_rng_state(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """workers=1: resuming puts the process RNGs exactly where the plain-data checkpoint left them."""
    from tradea3c.a3c import train
    from tradea3c.a3c.checkpoint import plain as ckpt

    def env_factory(i: int) -> gym.Env:
        return gym.make("CartPole-v1")

    cfg = A3CConfig(
        workers=1, total_steps=300, t_max=10, seed=3, tensorboard=False, model=ModelConfig(hidden=(8,))
    )
    train(env_factory, cfg, tmp_path, progress=False)
    saved = read_checkpoint(tmp_path / "latest.pt")["rng"]
    assert isinstance(saved["numpy"]["keys"], torch.Tensor) and isinstance(saved["python"]["state"], list)
    restored: list[dict[str, Any]] = []
    real = ckpt.set_rng_state

    def spy(state: dict[str, Any]) -> None:
        real(state)
        restored.append(ckpt.rng_to_plain(ckpt.rng_state()))

    monkeypatch.setattr(ckpt, "set_rng_state", spy)
    train(env_factory, replace(cfg, total_steps=600), tmp_path, resume=True, progress=False)
    assert len(restored) == 1 and _same(restored[0], saved)
    assert read_checkpoint(tmp_path / "latest.pt")["counters"]["global_step"] >= 600


@pytest.mark.atari
def test_atari_factory_is_described_and_rebuilt(tmp_path: Path) -> None:
    from tradea3c.atari.model import AtariActorCritic, AtariModelFactory

    obs, act = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8), gym.spaces.Discrete(6)
    factory = AtariModelFactory("a3c", lstm=True)
    model = factory(obs, act)
    path = save_checkpoint(
        tmp_path / "atari.pt",
        model=model,
        optimizer=None,
        config=A3CConfig(),
        model_factory=factory,
        observation_space=obs,
        action_space=act,
        counters={},
        extra={"game": "Pong"},
    )
    raw = read_checkpoint(path)
    assert raw["model_spec"] == {
        "factory": "atari",
        "arch": "a3c",
        "lstm": True,
        "lstm_size": 256,
        "module": "tradea3c.atari.model",
    }
    assert raw["observation_space"]["low"] == 0 and raw["observation_space"]["high"] == 255
    loaded = load_checkpoint(path).model
    assert isinstance(loaded, AtariActorCritic) and loaded.lstm is not None
    x = torch.randint(0, 255, (2, 4, 84, 84)).float()
    for a, b in zip(_outputs(model, x), _outputs(loaded, x), strict=True):
        assert torch.equal(a, b)


# ---------------------------------------------------------------- factories the file only names
@dataclass(frozen=True)
class UnregisteredFactory:
    hidden: int = 8

    def spec(self) -> dict[str, Any]:
        return {"factory": "not-registered-anywhere", "hidden": self.hidden}

    def __call__(self, obs: gym.Space, act: gym.Space) -> torch.nn.Module:
        return build_model(ModelConfig(hidden=(self.hidden,)), obs, act)


def _plain_function_factory(obs: gym.Space, act: gym.Space) -> torch.nn.Module:
    return build_model(ModelConfig(hidden=(8,)), obs, act)


def test_unknown_and_undescribed_factories_need_model_factory(tmp_path: Path) -> None:
    for name, factory in (("unknown", UnregisteredFactory()), ("plain", _plain_function_factory)):
        path = _save_small(tmp_path / f"{name}.pt", model_factory=factory)
        with pytest.raises(CheckpointError) as err:
            load_checkpoint(path)
        msg = _one_line(err.value)
        assert "model_factory=" in msg
        if name == "unknown":
            assert "not-registered-anywhere" in msg and f"import {__name__}" in msg
        model = load_checkpoint(path, model_factory=factory).model
        assert isinstance(model, torch.nn.Module)
    assert model_factory_spec(_plain_function_factory)["factory"] is None


# ---------------------------------------------------------------- FORMAT 1
def _write_v1(path: Path, factory: Any = "partial") -> tuple[torch.nn.Module, bytes]:
    """A checkpoint exactly as the FORMAT 1 code wrote it (a pickle of live objects)."""
    torch.manual_seed(1)
    cfg = A3CConfig(model=ModelConfig(hidden=(8,)))
    obs, act = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32), gym.spaces.Discrete(3)
    obs.sample()  # a seeded np_random Generator is pickled along with the space
    model = build_model(cfg.model, obs, act)
    opt = _trained(model, 4)
    payload = {
        "format": 1,
        "version": "0.1.0",
        "config": to_dict(cfg),
        "extra": {"fingerprint": "abc"},
        "model_factory": functools.partial(build_model, cfg.model) if factory == "partial" else factory,
        "observation_space": obs,
        "action_space": act,
        "model": {k: v.detach().clone() for k, v in model.state_dict().items()},
        "optimizer": opt.state_dict(),
        "counters": {"global_step": 99},
        "rng": rng_state(),
        "metrics": {"score": 1.0},
    }
    # The FORMAT 1 code's build_model lived in the module tradea3c.a3c.models (now a package that
    # still exports it): pickle it under that name, as the old files name it.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(build_model, "__module__", "tradea3c.a3c.models")
        torch.save(payload, path)
    return model, path.read_bytes()


def test_format1_is_refused_with_the_upgrade_hint_and_upgrades_when_trusted(tmp_path: Path) -> None:
    path = tmp_path / "latest.pt"
    model, original = _write_v1(path)
    for load in (load_checkpoint, read_checkpoint):
        with pytest.raises(LegacyCheckpointError) as err:
            load(path)
        msg = _one_line(err.value)
        assert str(path) in msg and f"tradea3c checkpoint upgrade {path} --trust-pickle" in msg

    with pytest.raises(CheckpointError, match="trust_pickle=True") as err:
        upgrade_checkpoint(path, trust_pickle=False)
    _one_line(err.value)
    assert path.read_bytes() == original and not v1_backup_path(path).exists()

    res = upgrade_checkpoint(path, trust_pickle=True)
    assert res.upgraded and res.path == path and res.original == tmp_path / "latest.v1.pt"
    assert res.original.read_bytes() == original  # the original bytes, kept next to it
    raw = torch.load(path, map_location="cpu", weights_only=True)
    assert raw["format"] == 2 and raw["model_spec"]["factory"] == "builtin"
    assert raw["upgraded_from"] == {"format": 1, "version": "0.1.0"}
    loaded, _, meta = load_checkpoint(path)
    x = torch.randn(5, 4)
    for a, b in zip(_outputs(model, x), _outputs(loaded, x), strict=True):
        assert torch.equal(a, b)
    assert meta["extra"] == {"fingerprint": "abc"} and meta["counters"] == {"global_step": 99}
    assert meta["action_space"] == gym.spaces.Discrete(3)
    set_rng_state(raw["rng"])
    SharedAdam(loaded.parameters(), lr=0.01).load_state_dict(raw["optimizer"])

    again = upgrade_checkpoint(path, trust_pickle=True)  # already FORMAT 2: nothing to do
    assert not again.upgraded and res.original.read_bytes() == original


def test_upgrade_to_another_path_leaves_the_original_alone(tmp_path: Path) -> None:
    src = tmp_path / "old.pt"
    model, original = _write_v1(src, factory=None)  # None: the built-in model of the config
    res = upgrade_checkpoint(src, tmp_path / "new.pt", trust_pickle=True)
    assert res.path == tmp_path / "new.pt" and res.original is None
    assert src.read_bytes() == original and not v1_backup_path(src).exists()
    loaded = load_checkpoint(res.path).model
    x = torch.randn(3, 4)
    assert torch.equal(_outputs(model, x)[0], _outputs(loaded, x)[0])


def test_upgrade_refuses_to_overwrite_a_different_backup(tmp_path: Path) -> None:
    path = tmp_path / "best.pt"
    _, original = _write_v1(path)
    v1_backup_path(path).write_bytes(b"something else")
    with pytest.raises(CheckpointError, match="already exists"):
        upgrade_checkpoint(path, trust_pickle=True)
    assert path.read_bytes() == original


def test_upgrade_cli(tmp_path: Path) -> None:
    run = tmp_path / "run"
    run.mkdir()
    _, best = _write_v1(run / "best.pt")
    _write_v1(run / "latest.pt")

    res = runner.invoke(app, ["checkpoint", "upgrade", str(run / "best.pt")])
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and "--trust-pickle" in lines[0]
    assert (run / "best.pt").read_bytes() == best

    res = runner.invoke(app, ["checkpoint", "upgrade", str(tmp_path / "missing.pt"), "--trust-pickle"])
    assert res.exit_code == 2 and res.output.strip().startswith("error:") and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1

    res = runner.invoke(app, ["checkpoint", "upgrade", str(run), "--trust-pickle"])
    assert res.exit_code == 0, res.output
    assert "upgraded" in res.output and "best.v1.pt" in res.output
    assert (run / "best.v1.pt").read_bytes() == best
    for name in ("best.pt", "latest.pt"):
        assert read_checkpoint(run / name)["format"] == 2
    res = runner.invoke(app, ["checkpoint", "upgrade", str(run / "best.pt"), "--trust-pickle"])
    assert res.exit_code == 0 and "already" in res.output


# ---------------------------------------------------------------- saving refuses non-plain data
@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("extra", {"weights": np.zeros(3)}, "extra['weights']"),
        ("extra", {"deep": [1, {"obj": object()}]}, "extra['deep'][1]['obj']"),
        ("extra", {"space": gym.spaces.Discrete(2)}, "extra['space']"),
        ("metrics", {"score": np.array([1.0])}, "metrics['score']"),
        ("counters", {"when": Path("x")}, "counters['when']"),
    ],
)
def test_save_refuses_non_plain_values_and_keeps_the_old_file(
    tmp_path: Path, field: str, value: Any, where: str
) -> None:
    path = _save_small(tmp_path / "latest.pt")
    before = path.read_bytes()
    with pytest.raises(NotPlainDataError) as err:
        _save_small(path, **{field: value})
    msg = _one_line(err.value)
    assert where in msg and "not plain data" in msg
    assert isinstance(err.value, TypeError)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.pt"]  # no temp file left


def test_engine_and_checkpoints_import_no_market_or_atari_code(tmp_path: Path) -> None:
    """Saving and loading a checkpoint needs only the engine (layering rule)."""
    code = f"""
import sys
import gymnasium as gym
from tradea3c.a3c.checkpoint import load_checkpoint, save_checkpoint
from tradea3c.a3c import A3CConfig, build_model
cfg = A3CConfig()
obs, act = gym.spaces.Box(-1, 1, (3,)), gym.spaces.Discrete(2)
save_checkpoint({str(tmp_path / "c.pt")!r}, model=build_model(cfg.model, obs, act), optimizer=None,
                config=cfg, model_factory=None, observation_space=obs, action_space=act, counters={{}})
load_checkpoint({str(tmp_path / "c.pt")!r})
bad = ("tradea3c.atari", "tradea3c.data", "tradea3c.envs", "tradea3c.features", "tradea3c.backtest",
       "tradea3c.experiment", "tradea3c.cli", "pandas")
print(sorted(m for m in sys.modules if m.startswith(bad)))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]", out.stdout


# ---------------------------------------------------------------- save, read, atomic replace
def _save(path: Path, model: torch.nn.Module, opt: Any, step: int) -> None:
    save_checkpoint(
        path,
        model=model,
        optimizer=opt,
        config=A3CConfig(model=ModelConfig(hidden=(8,))),
        model_factory=None,
        observation_space=CARTPOLE_OBS,
        action_space=gym.spaces.Discrete(2),
        counters={"global_step": step},
        extra={"fingerprint": "abc"},
    )


def test_checkpoint_round_trip_and_atomicity(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    model = cartpole_mlp()
    opt = SharedAdam(model.parameters(), lr=0.01)
    step_with_ones(model, opt)
    path = tmp_path / "latest.pt"
    _save(path, model, opt, step=123)
    payload = read_checkpoint(path)
    assert payload["counters"]["global_step"] == 123 and payload["extra"] == {"fingerprint": "abc"}
    opt2 = SharedAdam(cartpole_mlp().parameters(), lr=0.01)
    opt2.load_state_dict(payload["optimizer"])
    s1, s2 = opt.state_dict()["state"][0], opt2.state_dict()["state"][0]
    assert all(torch.equal(s1[k], s2[k]) for k in s1)
    loaded, cfg, meta = load_checkpoint(path)
    assert cfg.model.hidden == (8,) and meta["version"] and meta["extra"]["fingerprint"] == "abc"
    for a, b in zip(loaded.parameters(), model.parameters(), strict=True):
        assert torch.equal(a, b)

    def broken_save(obj: Any, f: Any) -> None:
        Path(f).write_bytes(b"partial")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        _save(path, model, opt, step=999)
    assert read_checkpoint(path)["counters"]["global_step"] == 123  # old file intact
    assert sorted(p.name for p in tmp_path.iterdir()) == ["latest.pt"]  # no temp files left
