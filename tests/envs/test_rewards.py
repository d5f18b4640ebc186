"""Benchmark-aware reward (``RewardConfig(kind="active")``): exact worked examples for the reward
objects, hand-worked episodes through `MarketEnv`, `MarketVectorEnv` and `PortfolioEnv`, and the
existing kinds keep their values."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tradea3c.data.market import Market
from tradea3c.envs import (
    CostConfig,
    MarketEnv,
    MarketEnvConfig,
    MarketVectorEnv,
    PerturbConfig,
    PortfolioEnv,
    PortfolioEnvConfig,
    RewardConfig,
)
from tradea3c.envs.rewards import (
    ScalarReward,
    VectorReward,
    asset_log_returns,
    basket_log_returns,
    needs_benchmark,
)
from tradea3c.features.config import FeatureConfig

ACTIVE = RewardConfig(kind="active")
CASH = RewardConfig(kind="active", benchmark="cash")


# ------------------------------------------------------------------ reward objects
def test_worked_example_scalar() -> None:
    """Equity 1.00 -> 1.01 while the close goes 100 -> 102: log(1.01) - log(1.02) = -0.00985..."""
    bench = float(asset_log_returns(np.array([100.0, 102.0]))[1])
    assert bench == math.log(1.02)
    r = ScalarReward(ACTIVE, 1.0)(1.0, 1.01, bench)
    assert r == math.log(1.01) - math.log(1.02)
    assert r == pytest.approx(-0.009852296443011638, rel=0, abs=1e-17)
    scaled = ScalarReward(RewardConfig(kind="active", scale=100.0), 1.0)(1.0, 1.01, bench)
    assert scaled == 100.0 * (math.log(1.01) - math.log(1.02))
    assert ScalarReward(ACTIVE, 1.0)(1.0, 1.02, bench) == 0.0  # matching the benchmark earns 0
    assert ScalarReward(ACTIVE, 1.0)(1.0, 1.0, bench) == -math.log(1.02)  # cash while it rises


def test_worked_example_vector() -> None:
    e0 = np.array([1.0, 1.0, 2.0])
    e1 = np.array([1.01, 1.02, 2.0])
    bench = asset_log_returns(np.array([[100.0, 100.0, 50.0], [102.0, 102.0, 49.0]]))[1]
    r = VectorReward(ACTIVE, 1.0, 3)(e0, e1, bench)
    np.testing.assert_array_equal(r, np.log(e1 / e0) - bench)
    np.testing.assert_allclose(r, [-0.009852296443011638, 0.0, -math.log(49 / 50)], rtol=0, atol=1e-17)
    scalar = ScalarReward(ACTIVE, 1.0)
    for i in range(3):
        assert r[i] == pytest.approx(scalar(e0[i], e1[i], bench[i]), rel=1e-15, abs=1e-18)


def test_cash_benchmark_is_the_plain_log_return() -> None:
    assert needs_benchmark(ACTIVE) and not needs_benchmark(CASH) and not needs_benchmark(RewardConfig())
    plain, cash = ScalarReward(RewardConfig(), 1.0), ScalarReward(CASH, 1.0)
    for e0, e1 in [(1.0, 1.01), (1.01, 0.97), (0.97, 0.97)]:
        assert cash(e0, e1) == plain(e0, e1) == math.log(e1 / e0)
    e0, e1 = np.array([1.0, 1.01]), np.array([1.01, 0.97])
    v_plain, v_cash = VectorReward(RewardConfig(), 1.0, 2), VectorReward(CASH, 1.0, 2)
    np.testing.assert_array_equal(v_cash(e0, e1), v_plain(e0, e1))


def test_benchmark_series() -> None:
    np.testing.assert_array_equal(
        asset_log_returns(np.array([100.0, 102.0, 51.0])), [0.0, math.log(1.02), -math.log(2.0)]
    )
    close = np.array([[50.0, 10.0], [100.0, 10.0], [60.0, 10.0], [75.0, 20.0]])
    b = basket_log_returns(close, 1)  # bought at the close of bar 1: B = 1, (0.6+1)/2, (0.75+2)/2
    np.testing.assert_allclose(b, [0.0, 0.0, math.log(0.8), math.log(1.375 / 0.8)], rtol=0, atol=1e-15)


def test_existing_kinds_keep_their_values() -> None:
    """The three old kinds, re-derived here from their formulas, on one equity path."""
    path = [1.0, 1.02, 0.99, 1.05, 1.01, 1e-12, 0.5]
    lr, dd, dsr = (
        ScalarReward(RewardConfig(kind=k, scale=2.0), 1.0) for k in ("log_return", "drawdown", "dsr")
    )
    peak, last_dd, a, b = 1.0, 0.0, 0.0, 0.0
    for e0, e1 in zip(path[:-1], path[1:], strict=True):
        e1f = max(e1, 1e-9)
        assert lr(e0, e1) == 2.0 * math.log(e1f / e0)
        peak = max(peak, e1f)
        d = 1.0 - e1f / peak
        inc, last_dd = d - last_dd, d
        assert dd(e0, e1) == 2.0 * (math.log(e1f / e0) - 1.0 * max(inc, 0.0))
        ret = e1f / e0 - 1.0
        da, db = ret - a, ret * ret - b
        var = b - a * a
        expected = (b * da - 0.5 * a * db) / var**1.5 if var > 1e-12 else 0.0
        a, b = a + 0.01 * da, b + 0.01 * db
        assert dsr(e0, e1) == 2.0 * expected


# ------------------------------------------------------------------ envs, by hand
CLOSE = np.array([100.0, 101.0, 102.0, 100.0, 103.0, 104.0, 102.0, 105.0])
OPEN = np.array([100.0, 100.5, 101.5, 101.0, 101.0, 103.5, 104.0, 103.0])
RATE = 0.001  # 10 bps per side
TINY_FEATURES = FeatureConfig(names=("ret_1",), norm="none")  # first valid bar 1: decisions from bar 1


def tiny_market(closes=(CLOSE,), opens=(OPEN,)) -> Market:
    c, o = np.column_stack(closes), np.column_stack(opens)
    dates = pd.bdate_range("2020-01-01", periods=len(c)).to_numpy()
    tickers = tuple("AB"[: c.shape[1]])
    return Market(
        tickers, dates, o, np.maximum(o, c) * 1.01, np.minimum(o, c) * 0.99, c, np.full(c.shape, 1e5)
    )


def tiny_cfg(cls=MarketEnvConfig, **kw):
    base = {
        "window": 1,
        "features": TINY_FEATURES,
        "episode_length": 4,
        "costs": CostConfig(commission_bps=10.0, half_spread_bps=0.0, slippage_bps=0.0),
        "reward": ACTIVE,
        "perturb": PerturbConfig(random_start=False),
    }
    return cls(**{**base, **kw})


# actions buy, hold, sell, flat from decision bar 1; fills at the next open, marks at the close
ACTIONS = [1, 1, 0, 0]
UNITS = 1.0 / OPEN[2]
E = [
    1.0,
    UNITS * CLOSE[2] - RATE,  # bought at 101.5 paying 0.001
    UNITS * CLOSE[3] - RATE,
    UNITS * OPEN[4] * (1 - RATE) - RATE,  # sold at 101 paying 0.001 * 101 / 101.5
]
E.append(E[3])  # flat
BENCH = [math.log(CLOSE[t + 1] / CLOSE[t]) for t in range(1, 5)]
HAND = [math.log(E[i + 1] / E[i]) - BENCH[i] for i in range(4)]


def test_hand_numbers_are_what_they_say() -> None:
    assert HAND[0] == pytest.approx(math.log(102 / 101.5 - 0.001) - math.log(102 / 101), abs=1e-15)
    assert HAND[1] == pytest.approx(
        math.log((100 / 101.5 - 0.001) / (102 / 101.5 - 0.001)) - math.log(100 / 102)
    )
    assert HAND[3] == -math.log(104 / 103)  # flat while the asset rises: pays the benchmark's gain
    assert sum(HAND) == pytest.approx(math.log(E[4]) - math.log(104 / 101), abs=1e-15)  # telescopes


def test_market_env_active_reward_by_hand() -> None:
    env = MarketEnv(tiny_market(), tiny_cfg())
    _, info = env.reset(seed=0)
    assert env.bar == 1 and info["equity"] == 1.0
    rewards, equity = [], []
    for a in ACTIONS:
        _, r, term, trunc, info = env.step(a)
        rewards.append(r)
        equity.append(info["equity"])
    assert trunc and not term
    np.testing.assert_allclose(equity, E[1:], rtol=0, atol=1e-15)
    np.testing.assert_allclose(rewards, HAND, rtol=0, atol=1e-15)


def test_vector_env_active_reward_by_hand() -> None:
    venv = MarketVectorEnv(2, tiny_market(), tiny_cfg())
    venv.reset(seed=0)
    rewards = []
    for a in ACTIONS:
        _, r, _, trunc, _ = venv.step(np.array([a, 1]))  # env 1 buys, then holds
        rewards.append(r)
    assert trunc.all()
    rewards = np.array(rewards)
    np.testing.assert_allclose(rewards[:, 0], HAND, rtol=0, atol=1e-15)
    # env 1 holds after buying; its equity carries the entry cost (cash -0.001), so its active
    # reward is log((U c[t+1] - 0.001) / (U c[t] - 0.001)) - log(c[t+1] / c[t]): small, not 0
    eq1 = [1.0] + [UNITS * CLOSE[t] - RATE for t in (2, 3, 4, 5)]
    hand1 = [math.log(eq1[i + 1] / eq1[i]) - BENCH[i] for i in range(4)]
    assert hand1[0] == HAND[0] and abs(hand1[1]) < 1e-4
    np.testing.assert_allclose(rewards[:, 1], hand1, rtol=0, atol=1e-15)


def test_holding_the_asset_earns_zero_after_entry() -> None:
    env = MarketEnv(tiny_market(), tiny_cfg(costs=CostConfig.zero(), episode_length=6))
    env.reset(seed=0)
    rewards = [env.step(1)[1] for _ in range(6)]
    assert rewards[0] == pytest.approx(
        math.log(CLOSE[2] / OPEN[2]) - math.log(CLOSE[2] / CLOSE[1]), abs=1e-15
    )
    np.testing.assert_allclose(rewards[1:], 0.0, rtol=0, atol=1e-15)


def test_cash_benchmark_env_equals_log_return_env() -> None:
    acts = [1, 1, 0, 0]
    out = []
    for reward in (RewardConfig(), CASH):
        env = MarketEnv(tiny_market(), tiny_cfg(reward=reward))
        env.reset(seed=0)
        out.append([env.step(a)[1] for a in acts])
    assert out[0] == out[1]
    np.testing.assert_allclose(out[0], [math.log(E[i + 1] / E[i]) for i in range(4)], rtol=0, atol=1e-15)


def test_portfolio_env_active_reward_by_hand() -> None:
    cb = np.array([50.0, 50.0, 49.0, 52.0, 51.0, 53.0, 50.0, 54.0])
    ob = np.array([50.0, 50.0, 50.0, 49.5, 51.5, 51.0, 52.0, 51.0])
    m = tiny_market((CLOSE, cb), (OPEN, ob))
    env = PortfolioEnv(
        m, tiny_cfg(PortfolioEnvConfig, action="discrete", episode_length=3, costs=CostConfig.zero())
    )
    env.reset(seed=0)
    assert env.episode.start == 1
    got = [env.step(a) for a in (1, 1, 0)]  # all in A, stay in A, all cash
    eq = [1.0] + [g[4]["equity"] for g in got]
    e1 = CLOSE[2] / OPEN[2]
    e2 = e1 * CLOSE[3] / CLOSE[2]  # rebalanced (zero cost) at the open, still all in A
    e3 = e2 * OPEN[4] / CLOSE[3]  # sold at the open of bar 4
    np.testing.assert_allclose(eq, [1.0, e1, e2, e3], rtol=0, atol=1e-14)
    basket = [
        (CLOSE[t] / CLOSE[1] + cb[t] / cb[1]) / 2 for t in (1, 2, 3, 4)
    ]  # B bought at the close of bar 1
    hand = [math.log(eq[i + 1] / eq[i]) - math.log(basket[i + 1] / basket[i]) for i in range(3)]
    np.testing.assert_allclose([g[1] for g in got], hand, rtol=0, atol=1e-14)
    assert hand[0] == pytest.approx(math.log(102 / 101.5) - math.log((102 / 101 + 49 / 50) / 2), abs=1e-14)


def test_active_reward_envs_are_seed_reproducible() -> None:
    from tradea3c.data.market import synthetic_market

    m = synthetic_market(400, 3, seed=2)
    for make in (
        lambda: MarketEnv(m, MarketEnvConfig(reward=ACTIVE, episode_length=50)),
        lambda: PortfolioEnv(m, PortfolioEnvConfig(reward=ACTIVE, episode_length=50, action="discrete")),
    ):
        runs = []
        for _ in range(2):
            env = make()
            env.reset(seed=4)
            rng = np.random.default_rng(0)
            runs.append([env.step(int(rng.integers(env.action_space.n)))[1] for _ in range(50)])
        assert runs[0] == runs[1] and np.isfinite(runs[0]).all()


# ------------------------------------------------------------------ vol_scaled and dsr
def test_vol_scaled_worked_example() -> None:
    """Equity 1.00 -> 1.01 at multiplier 0.5 (asset vol 30%, target 15%): 0.00995033 * 0.5."""
    cfg = RewardConfig(kind="vol_scaled")
    assert needs_benchmark(cfg)
    r = ScalarReward(cfg, 1.0)(1.0, 1.01, 0.5)
    assert r == pytest.approx(0.004975165, abs=1e-9)
    v = VectorReward(cfg, 1.0, 2)(np.array([1.0, 1.0]), np.array([1.01, 0.99]), np.array([0.5, 2.0]))
    np.testing.assert_allclose(v, [math.log(1.01) * 0.5, math.log(0.99) * 2.0], rtol=1e-15)


def test_vol_multipliers_use_the_volatility_known_at_the_decision() -> None:
    from tradea3c.envs.rewards import VOL_SCALE_CAP, vol_multipliers

    rng = np.random.default_rng(0)
    lr = np.concatenate([rng.normal(0, 0.01, 300), rng.normal(0, 0.03, 300)])
    close = 100 * np.exp(np.cumsum(lr))
    m = vol_multipliers(close, 0.15, 63)
    assert (m[:64] == 1.0).all()  # no estimate yet
    # the step ending at t uses sigma at t-1: changing the close at t leaves m[t] alone
    bumped = close.copy()
    bumped[400:] *= 1.5
    np.testing.assert_array_equal(vol_multipliers(bumped, 0.15, 63)[:401], m[:401])
    calm, wild = np.median(m[150:300]), np.median(m[450:600])
    assert calm == pytest.approx(0.15 / (0.01 * math.sqrt(252)), rel=0.15)
    assert wild == pytest.approx(0.15 / (0.03 * math.sqrt(252)), rel=0.15)
    assert m.max() <= VOL_SCALE_CAP


def test_dsr_worked_example() -> None:
    """A = 0.001, B = 0.0002, R = 0.01: D = (B dA - A dB / 2) / (B - A^2)^1.5 = 0.6590."""
    rew = ScalarReward(RewardConfig(kind="dsr", dsr_eta=0.5), 1.0)
    rew.a, rew.b = 0.001, 0.0002
    d = rew(1.0, 1.01)
    assert d == pytest.approx((0.0002 * 0.009 + 0.5 * 0.001 * 0.0001) / 0.000199**1.5, rel=1e-9)
    assert d == pytest.approx(0.6590, abs=1e-4)
    assert rew.a == pytest.approx(0.001 + 0.5 * 0.009) and rew.b == pytest.approx(0.0002 - 0.5 * 0.0001)


def test_vol_scaled_env_reward_is_the_log_return_times_the_multiplier() -> None:
    from tradea3c.data.synthetic import drift_market
    from tradea3c.envs.rewards import vol_multipliers

    m = drift_market(400, seed=3)
    base = MarketEnvConfig(window=5, episode_length=100, positions=(0.0, 1.0))
    plain = MarketEnv(m, base)
    scaled = MarketEnv(
        m,
        MarketEnvConfig(
            window=5, episode_length=100, positions=(0.0, 1.0), reward=RewardConfig(kind="vol_scaled")
        ),
    )
    plain.reset(seed=1)
    scaled.reset(seed=1)
    mult = vol_multipliers(scaled.episode.track.close[:, 0], 0.15, 63)
    for _ in range(100):
        t1 = scaled._t + 1
        r0 = plain.step(1)[1]
        r1 = scaled.step(1)[1]
        assert r1 == pytest.approx(r0 * mult[t1], rel=1e-12, abs=1e-15)
