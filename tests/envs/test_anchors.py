"""Anchors: the volatility-targeting rule, and one-asset envs whose actions tilt a benchmark."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from tradea3c.data.synthetic import drift_market
from tradea3c.envs import MarketEnv, MarketEnvConfig, MarketVectorEnv
from tradea3c.envs.anchors import VolTargetConfig, anchor_exposure, realised_vol, vol_target_exposure
from tradea3c.envs.profiles import load_profile

TILTS = (-1.0, -0.5, 0.0)


def test_vol_target_worked_example_and_cap() -> None:
    rng = np.random.default_rng(0)
    lr = np.concatenate(
        [rng.normal(0, 0.20 / math.sqrt(252), 400), rng.normal(0, 0.10 / math.sqrt(252), 400)]
    )
    close = 100 * np.exp(np.cumsum(lr))
    e = vol_target_exposure(close, VolTargetConfig(step=0.0))
    assert (e[:63] == 1.0).all()  # no estimate yet: buy-and-hold
    assert np.median(e[100:400]) == pytest.approx(0.75, abs=0.08)  # 15% / 20%
    assert np.median(e[500:800]) == 1.0  # 15% / 10% = 1.5, capped at 1
    stepped = vol_target_exposure(close)
    np.testing.assert_allclose(stepped / 0.05, np.round(stepped / 0.05), atol=1e-9)
    assert anchor_exposure("buy_and_hold", close).tolist() == [1.0] * len(close)


def test_vol_target_is_causal() -> None:
    close = drift_market(500, seed=1).close[:, 0]
    e = vol_target_exposure(close)
    for t in (80, 200, 450):
        changed = close.copy()
        changed[t + 1 :] *= np.linspace(1.0, 3.0, len(close) - t - 1)
        np.testing.assert_array_equal(vol_target_exposure(changed)[: t + 1], e[: t + 1])
        assert realised_vol(changed, 63)[t] == realised_vol(close, 63)[t]


@pytest.mark.parametrize("anchor", ["buy_and_hold", "vol_target"])
def test_zero_tilt_holds_the_anchor(anchor: str) -> None:
    m = drift_market(600, seed=2)
    cfg = MarketEnvConfig(window=5, positions=TILTS, anchor=anchor, episode_length=200)
    env = MarketEnv(m, cfg)
    check_env(env, skip_render_check=True)
    env.reset(seed=0)
    expected = anchor_exposure(anchor, env.episode.track.close[:, 0])
    for _ in range(200):
        t = env._t
        _, _, _, _, info = env.step(cfg.anchor_action)
        assert info["target"] == expected[t]
    env.reset(seed=0)
    t = env._t
    assert env.step(0)[4]["target"] == max(expected[t] - 1.0, 0.0)  # tilts clip to the exposure range


def test_anchored_vector_env_matches_single_envs() -> None:
    m = drift_market(600, seed=4)
    cfg = MarketEnvConfig(window=5, positions=TILTS, anchor="vol_target", episode_length=50)
    venv = MarketVectorEnv(3, m, cfg)
    envs = [MarketEnv(m, cfg) for _ in range(3)]
    venv.reset(seed=[1, 2, 3])
    for e, s in zip(envs, (1, 2, 3), strict=True):
        e.reset(seed=s)
    rng = np.random.default_rng(0)
    for _ in range(49):
        acts = rng.integers(0, 3, 3)
        vo, vr, *_ = venv.step(acts)
        for i, e in enumerate(envs):
            o, r, *_ = e.step(int(acts[i]))
            assert r == pytest.approx(vr[i], rel=1e-12, abs=1e-15)
            np.testing.assert_allclose(o, vo[i], rtol=1e-6)


def test_anchor_needs_the_zero_tilt_and_profiles_bound_exposure() -> None:
    with pytest.raises(ValueError, match="zero tilt"):
        MarketEnvConfig(positions=(-1.0, -0.5), anchor="buy_and_hold")
    cfg = MarketEnvConfig(positions=TILTS, anchor="buy_and_hold", exposure_range=(-1.0, 1.0))
    long_only = load_profile("conservative").apply(cfg)  # positions [0, 1]
    assert long_only.positions == TILTS and long_only.exposure_range == (0.0, 1.0)
    plain = load_profile("conservative").apply(replace(cfg, anchor="none", positions=(-1.0, 0.0, 1.0)))
    assert plain.positions == (0.0, 0.0, 1.0)
