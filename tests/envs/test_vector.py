"""The native vector env equals K single envs (SyncVectorEnv, same seeds and actions), follows the
Gymnasium 1.x VectorEnv API (NEXT_STEP autoreset), and the benchmark returns its table."""

from __future__ import annotations

from collections.abc import Callable

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from tests.envs.test_market_env import ONE, SYN, VARIANTS
from tradea3c import MARKET_ENV_ID
from tradea3c.data.market import Market
from tradea3c.envs import MarketEnv, MarketEnvConfig, MarketVectorEnv, PerturbConfig, RewardConfig
from tradea3c.envs.profiles import load_profiles


def assert_same_as_sync(market, cfg: MarketEnvConfig, k: int, n: int, seed: int, **kw) -> None:
    vec = MarketVectorEnv(k, market, cfg, **kw)
    sync = SyncVectorEnv([lambda: MarketEnv(market, cfg, **kw) for _ in range(k)])
    a, _ = vec.reset(seed=seed)
    b, _ = sync.reset(seed=seed)
    assert np.array_equal(a, b)
    rng = np.random.default_rng(seed)
    dones = 0
    for _ in range(n):
        act = rng.integers(0, len(cfg.positions), k)
        va, sa = vec.step(act), sync.step(act)
        assert np.array_equal(va[0], sa[0])
        np.testing.assert_allclose(va[1], sa[1], rtol=1e-12, atol=1e-15)
        assert np.array_equal(va[2], sa[2]) and np.array_equal(va[3], sa[3])
        dones += int(np.sum(va[2] | va[3]))
    assert dones > 0  # autoresets were exercised


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_vector_equals_single_envs(name: str) -> None:
    cfg = VARIANTS[name]
    if cfg.episode_length > 100 or cfg.episode_length == 0:
        cfg = MarketEnvConfig(**{**cfg.__dict__, "episode_length": 60})
    assert_same_as_sync(ONE, cfg, k=4, n=150, seed=3)


def test_vector_api() -> None:
    venv = gym.make_vec(MARKET_ENV_ID, num_envs=3, vectorization_mode="vector_entry_point")
    assert isinstance(venv, MarketVectorEnv)
    assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    assert venv.num_envs == 3 and venv.single_action_space == gym.spaces.Discrete(2)
    obs, info = venv.reset(seed=0)
    assert obs.shape == (3, *venv.single_observation_space.shape) and obs.dtype == np.float32
    assert venv.observation_space.contains(obs) and isinstance(info, dict)
    obs, rew, term, trunc, info = venv.step(venv.action_space.sample())
    assert rew.shape == term.shape == trunc.shape == (3,) and term.dtype == np.bool_
    other = MarketVectorEnv(3)
    assert np.array_equal(other.reset(seed=[0, 1, 2])[0], venv.reset(seed=0)[0])


def test_profile_vector_env_runs() -> None:
    profiles = load_profiles()
    assert any(p.perturb.changes_prices for p in profiles)
    for i, profile in enumerate(profiles):  # price-perturbed, latency and cost-jitter profiles
        v = MarketVectorEnv(4, ONE, profile.apply(MarketEnvConfig()))
        v.reset(seed=i)
        for _ in range(80):
            obs, r, *_ = v.step(v.action_space.sample())
            assert np.isfinite(obs).all() and np.isfinite(r).all()


def test_vector_on_djia(djia_market: Callable[[list[str]], Market]) -> None:
    m = djia_market(["MSFT"])
    assert_same_as_sync(m, MarketEnvConfig(episode_length=40), k=3, n=60, seed=1)


def test_bench_table_shape() -> None:
    from tradea3c.bench.env import run_env_benchmark

    rows = run_env_benchmark(steps=300, repeats=1, ks=(1, 4))
    assert [r.num_envs for r in rows] == [1, 1, 1, 4]
    assert rows[0].ratio == 1.0 and all(r.steps_per_s > 0 for r in rows)


ACTIVE_VARIANTS = {
    "active": MarketEnvConfig(reward=RewardConfig(kind="active", scale=100.0), episode_length=60),
    "active_cash": MarketEnvConfig(reward=RewardConfig(kind="active", benchmark="cash"), episode_length=60),
    "active_perturbed": MarketEnvConfig(
        reward=RewardConfig(kind="active"),
        positions=(-1.0, 0.0, 1.0),
        perturb=PerturbConfig(bootstrap_block=5, vol_scale=(0.7, 1.5), price_noise=0.002, latency_prob=0.5),
        episode_length=50,
    ),
}


@pytest.mark.parametrize("name", sorted(ACTIVE_VARIANTS))
def test_vector_equals_single_envs_active_reward(name: str) -> None:
    assert_same_as_sync(ONE, ACTIVE_VARIANTS[name], k=4, n=150, seed=5)


@pytest.mark.parametrize("name", ["default", "perturbed"])
def test_vector_equals_single_envs_multi_asset(name: str) -> None:
    cfg = MarketEnvConfig(**{**VARIANTS[name].__dict__, "episode_length": 50})
    assert_same_as_sync(SYN, cfg, k=4, n=150, seed=8)
    assert_same_as_sync(SYN, ACTIVE_VARIANTS["active"], k=3, n=150, seed=8)
