"""Shared core: Market invariants and fingerprint, strict dataclass configs, atomic writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from tradea3c.atomic import atomic_path, atomic_write_text
from tradea3c.config import ConfigError, dump_toml, from_dict, load_toml, to_dict
from tradea3c.data.market import Market, synthetic_market


def test_synthetic_market_is_consistent_and_seeded() -> None:
    m = synthetic_market(300, 3, seed=4)
    assert m.close.shape == (300, 3) and m.n_assets == 3
    assert np.all(m.low <= np.minimum(m.open, m.close)) and np.all(m.high >= np.maximum(m.open, m.close))
    assert m.fingerprint == synthetic_market(300, 3, seed=4).fingerprint
    assert m.fingerprint != synthetic_market(300, 3, seed=5).fingerprint


def test_fingerprint_changes_with_one_value() -> None:
    m = synthetic_market(50, 1, seed=0)
    close = m.close.copy()
    close[10, 0] += 1e-9
    other = Market(m.tickers, m.dates, m.open, m.high, m.low, close, m.volume)
    assert other.fingerprint != m.fingerprint


def test_market_arrays_are_read_only_and_shape_checked() -> None:
    m = synthetic_market(20, 2)
    with pytest.raises(ValueError):
        m.close[0, 0] = 1.0
    with pytest.raises(ValueError, match="shape"):
        Market(("A",), m.dates, m.open, m.high, m.low, m.close, m.volume)


def test_market_rejects_unsorted_dates() -> None:
    m = synthetic_market(10, 1)
    with pytest.raises(ValueError, match="increasing"):
        Market(m.tickers, m.dates[::-1], m.open, m.high, m.low, m.close, m.volume)


def test_between_select_and_frame() -> None:
    m = synthetic_market(100, 2, start="2020-01-01")
    part = m.between("2020-02-01", "2020-02-29")
    assert part.start >= np.datetime64("2020-02-01") and part.end <= np.datetime64("2020-02-29")
    assert part.n_bars == 20  # business days in Feb 2020
    one = m.select("SYN1")
    assert one.tickers == ("SYN1",)
    np.testing.assert_array_equal(one.close[:, 0], m.close[:, 1])
    df = m.frame("SYN0")
    assert list(df.columns) == ["open", "high", "low", "close", "volume"] and len(df) == 100
    with pytest.raises(KeyError):
        m.select("NOPE")


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


def test_atomic_write_keeps_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial new content")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # temp file cleaned up


def test_atomic_write_gives_normal_permissions(tmp_path: Path) -> None:
    import os

    target = tmp_path / "report.html"
    atomic_write_text(target, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
