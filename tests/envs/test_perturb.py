"""Perturbations keep OHLC consistent and are seeded; profiles load from TOML; worker mapping."""

from __future__ import annotations

import numpy as np
import pytest

from tradea3c.config import ConfigError, from_dict
from tradea3c.data.demo import demo_market
from tradea3c.data.market import Market, synthetic_market
from tradea3c.envs import MarketEnv, MarketEnvConfig, PerturbConfig
from tradea3c.envs.perturb import block_bootstrap, perturb_prices, price_noise, scale_volatility
from tradea3c.envs.profiles import WorkerProfile, load_profiles, profile_for_worker

MARKETS = {"demo": demo_market().take(slice(0, 600)), "syn3": synthetic_market(500, 3, seed=2)}
PERTURBATIONS = {
    "bootstrap": lambda m, rng: block_bootstrap(m, rng, 10.0),
    "vol_up": lambda m, rng: scale_volatility(m, 2.5),
    "vol_down": lambda m, rng: scale_volatility(m, 0.4),
    "noise": lambda m, rng: price_noise(m, rng, 0.01),
    "all": lambda m, rng: perturb_prices(
        m, PerturbConfig(bootstrap_block=5, vol_scale=(0.5, 2.0), price_noise=0.005), rng
    ),
}


def assert_consistent(m: Market) -> None:
    assert np.all(m.low > 0) and np.all(np.isfinite(m.high))
    tol = 1e-12 * m.high
    assert np.all(m.low <= np.minimum(m.open, m.close) + tol)
    assert np.all(m.high >= np.maximum(m.open, m.close) - tol)


@pytest.mark.parametrize("market", sorted(MARKETS))
@pytest.mark.parametrize("name", sorted(PERTURBATIONS))
def test_perturbation_consistent_and_seeded(market: str, name: str) -> None:
    m, fn = MARKETS[market], PERTURBATIONS[name]
    a = fn(m, np.random.default_rng(1))
    b = fn(m, np.random.default_rng(1))
    assert_consistent(a)
    assert a.fingerprint == b.fingerprint and a.fingerprint != m.fingerprint
    assert a.dates.tolist() == m.dates.tolist() and a.tickers == m.tickers
    if name in ("bootstrap", "noise", "all"):
        assert a.fingerprint != fn(m, np.random.default_rng(2)).fingerprint


def test_volatility_scaling_scales_returns() -> None:
    m = MARKETS["demo"]
    r = np.diff(np.log(m.close[:, 0]))
    r2 = np.diff(np.log(scale_volatility(m, 2.0).close[:, 0]))
    assert np.std(r2) == pytest.approx(2 * np.std(r), rel=1e-9)


def test_bootstrap_uses_only_window_bars() -> None:
    m = MARKETS["demo"]
    b = block_bootstrap(m, np.random.default_rng(0), 5.0)
    rets = set(np.round(np.diff(np.log(m.close[:, 0])), 12))
    assert set(np.round(np.diff(np.log(b.close[:, 0])), 12)) <= rets | {0.0}


def test_shipped_profiles_load_and_run() -> None:
    profiles = load_profiles()
    assert {p.name for p in profiles} >= {"aggressive", "conservative", "volatility"}
    market = demo_market()
    for i, profile in enumerate(profiles):
        env = MarketEnv(market, profile.apply(MarketEnvConfig()))
        env.reset(seed=100 + i)
        assert env.config.perturb == profile.perturb and env.config.reward == profile.reward
        for _ in range(70):
            obs, r, term, trunc, _ = env.step(env.action_space.sample())
            assert np.isfinite(obs).all() and np.isfinite(r)
            if term or trunc:
                env.reset()


def test_profile_for_worker() -> None:
    ps = [WorkerProfile("a"), WorkerProfile("b"), WorkerProfile("c")]
    assert [(p.name, s) for p, s in (profile_for_worker(ps, i, 10) for i in range(5))] == [
        ("a", 10),
        ("b", 11),
        ("c", 12),
        ("a", 13),
        ("b", 14),
    ]


def test_profile_toml_rejects_typos() -> None:
    with pytest.raises(ConfigError, match="did you mean 'price_noise'"):
        from_dict(WorkerProfile, {"name": "x", "perturb": {"price_nosie": 0.1}})
