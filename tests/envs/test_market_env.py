"""Market/Portfolio envs: Gymnasium API, determinism, no look-ahead, cost accounting, splits, and
equality with the shared execution model's `replay`."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import replace

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env

from tests.features.test_compute import mutate_after
from tradea3c import MARKET_ENV_ID, PORTFOLIO_ENV_ID
from tradea3c.data.demo import demo_market
from tradea3c.data.market import Market, synthetic_market
from tradea3c.envs import (
    CostConfig,
    DateSplit,
    MarketEnv,
    MarketEnvConfig,
    PerturbConfig,
    PortfolioEnv,
    PortfolioEnvConfig,
    RewardConfig,
)
from tradea3c.envs.execution import replay

SYN = synthetic_market(700, 3, seed=11)
ONE = SYN.select("SYN0")

VARIANTS = {
    "default": MarketEnvConfig(),
    "short_close_fill": MarketEnvConfig(positions=(-1.0, 0.0, 1.0), fill="close"),
    "dsr_latency": MarketEnvConfig(reward=RewardConfig(kind="dsr"), latency=1, episode_length=100),
    "drawdown_atr": MarketEnvConfig(reward=RewardConfig(kind="drawdown"), costs=CostConfig(slippage_atr=0.1)),
    "perturbed": MarketEnvConfig(
        perturb=PerturbConfig(
            bootstrap_block=5, vol_scale=(0.7, 1.5), price_noise=0.002, cost_jitter=0.2, latency_prob=0.5
        ),
        episode_length=64,
    ),
    "noisy_obs": MarketEnvConfig(perturb=PerturbConfig(obs_noise=0.3), episode_length=64),
}


def run(env: gym.Env, actions, seed: int = 0):
    obs, info = env.reset(seed=seed)
    out_obs, out_r, out_eq = [obs], [], [info["equity"]]
    for a in actions:
        obs, r, term, trunc, info = env.step(a)
        out_obs.append(obs)
        out_r.append(r)
        out_eq.append(info["equity"])
        if term or trunc:
            break
    return np.array(out_obs), np.array(out_r), np.array(out_eq)


def test_registered_envs_pass_check_env() -> None:
    for env_id in (MARKET_ENV_ID, PORTFOLIO_ENV_ID):
        env = gym.make(env_id)  # default demo market
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            check_env(env.unwrapped, skip_render_check=True)
        obs, _ = env.reset(seed=0)
        assert env.observation_space.contains(obs)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_market_env_variants_pass_check_env(name: str) -> None:
    env = gym.make(MARKET_ENV_ID, market=ONE, config=VARIANTS[name])
    check_env(env.unwrapped, skip_render_check=True)


@pytest.mark.parametrize("action", ["continuous", "simplex", "discrete"])
def test_portfolio_variants_pass_check_env(action: str) -> None:
    env = PortfolioEnv(SYN, PortfolioEnvConfig(action=action, latency=1, episode_length=50))
    check_env(env, skip_render_check=True)


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_same_seed_same_trajectory(name: str) -> None:
    actions = np.random.default_rng(5).integers(0, len(VARIANTS[name].positions), 200)
    a, b = MarketEnv(ONE, VARIANTS[name]), MarketEnv(ONE, VARIANTS[name])
    for _ in range(2):  # second pass: episodes after the first reset are seeded too
        for x, y in zip(run(a, actions, seed=7), run(b, actions, seed=7), strict=True):
            assert np.array_equal(x, y)
    assert not np.array_equal(run(a, actions, seed=7)[0], run(a, actions, seed=8)[0])


def assert_no_leak(make, n_actions: int, seed: int = 3) -> None:
    """Mutate every bar after the decision bar t: observations up to t and rewards of fills up to t
    are unchanged (the rewards of later steps legitimately change)."""
    env = make(ONE)
    env.reset(seed=seed)
    start = env.unwrapped.bar
    cut = start + 40
    actions = np.random.default_rng(seed).integers(0, n_actions, 80)
    obs_a, r_a, _ = run(make(ONE), actions, seed)
    obs_b, r_b, _ = run(make(mutate_after(ONE, cut)), actions, seed)
    k = cut - start  # obs index k is the observation at bar start + k
    assert np.array_equal(obs_a[: k + 1], obs_b[: k + 1])
    assert np.array_equal(r_a[:k], r_b[:k])  # reward i is earned on bar start + i + 1 <= cut
    assert not np.array_equal(obs_a[k + 1 :], obs_b[k + 1 :])


@pytest.mark.parametrize("name", ["default", "short_close_fill", "dsr_latency", "drawdown_atr"])
def test_market_env_does_not_see_the_future(name: str) -> None:
    cfg = VARIANTS[name]
    assert_no_leak(lambda m: MarketEnv(m, cfg), len(cfg.positions))


def test_noise_perturbed_env_does_not_see_the_future() -> None:
    cfg = MarketEnvConfig(perturb=PerturbConfig(price_noise=0.003, vol_scale=(0.8, 1.2), cost_jitter=0.2))
    assert_no_leak(lambda m: MarketEnv(m, cfg), 2)


def test_portfolio_env_does_not_see_the_future() -> None:
    def make(m: Market) -> PortfolioEnv:
        return PortfolioEnv(SYN if m is ONE else _mut_syn, PortfolioEnvConfig(action="discrete"))

    env = make(ONE)
    env.reset(seed=2)
    start = env.episode.start
    global _mut_syn
    _mut_syn = mutate_after(SYN, start + 30)
    actions = np.random.default_rng(2).integers(0, 4, 60)
    obs_a, r_a, _ = run(make(ONE), actions, 2)
    obs_b, r_b, _ = run(make(None), actions, 2)
    assert np.array_equal(obs_a[:31], obs_b[:31]) and np.array_equal(r_a[:30], r_b[:30])
    assert not np.array_equal(obs_a[31:], obs_b[31:])


_mut_syn = SYN


# ------------------------------------------------------------------ costs
def _fixed(costs: CostConfig, **kw) -> MarketEnv:
    cfg = MarketEnvConfig(costs=costs, perturb=PerturbConfig(random_start=False), episode_length=50, **kw)
    return MarketEnv(ONE, cfg)


def test_buy_and_hold_pays_one_entry_cost() -> None:
    costs = CostConfig(commission_bps=5, half_spread_bps=2, slippage_bps=1)
    env = _fixed(costs)
    _, r, eq = run(env, [1] * 50)
    t = env.source.first_decision
    expected = ONE.close[t + 50, 0] / ONE.open[t + 1, 0] - 8e-4
    assert eq[-1] == pytest.approx(expected, rel=0, abs=1e-12)
    assert np.sum(r) == pytest.approx(np.log(expected), abs=1e-12)  # rewards telescope to log equity


def test_round_trip_pays_two_costs() -> None:
    c = 8e-4
    env = _fixed(CostConfig(commission_bps=5, half_spread_bps=2, slippage_bps=1))
    env.reset(seed=0)
    t = env.source.first_decision
    costs = [env.step(1)[4]["cost"], env.step(0)[4]["cost"]]
    o1, o2 = ONE.open[t + 1, 0], ONE.open[t + 2, 0]
    assert costs == pytest.approx([c, c * o2 / o1], abs=1e-15)  # exit notional = o2 / o1
    assert env.equity == pytest.approx(o2 / o1 - c - c * o2 / o1, abs=1e-14)
    for _ in range(10):
        assert env.step(0)[4]["cost"] == 0.0
    assert env.equity == pytest.approx(o2 / o1 - c - c * o2 / o1, abs=1e-14)


def test_zero_cost_flat_policy_has_zero_return() -> None:
    env = _fixed(CostConfig.zero())
    _, r, eq = run(env, [0] * 50)
    assert np.all(r == 0.0) and np.all(eq == 1.0)


def test_ruin_terminates() -> None:
    crash = ONE.close.copy()
    crash[300:] *= 0.2
    m = Market(
        ONE.tickers,
        ONE.dates,
        np.minimum(ONE.open, crash * 5),
        ONE.high,
        np.minimum(ONE.low, crash),
        crash,
        ONE.volume,
    )
    m = Market(
        m.tickers,
        m.dates,
        np.where(np.arange(700)[:, None] >= 300, crash, m.open),
        np.maximum(m.high, crash),
        np.minimum(m.low, crash),
        crash,
        m.volume,
    )
    env = MarketEnv(m, MarketEnvConfig(perturb=PerturbConfig(random_start=False), episode_length=0))
    env.reset(seed=0)
    for _ in range(1000):
        _, _, term, trunc, info = env.step(1)
        if term or trunc:
            break
    assert term and not trunc and info["equity"] < 0.5 and env.bar == 300


# ------------------------------------------------------------------ replay = env
@pytest.mark.parametrize("name", ["short_close_fill", "dsr_latency", "drawdown_atr"])
def test_replay_matches_env_equity(name: str) -> None:
    cfg = VARIANTS[name]
    cfg = MarketEnvConfig(**{**cfg.__dict__, "perturb": PerturbConfig(cost_jitter=0.3)})
    env = MarketEnv(ONE, cfg)
    actions = np.random.default_rng(1).integers(0, len(cfg.positions), 300)
    _, _, eq = run(env, actions, seed=4)
    ep = env.episode
    targets = np.asarray(cfg.positions)[actions[: len(eq) - 1]]
    rep = replay(
        env.source.market,
        targets,
        start=ep.start,
        costs=cfg.costs,
        fill=cfg.fill,
        latency=ep.latency,
        rates=ep.track.rates * ep.rate_mult,
    )
    np.testing.assert_allclose(rep.equity, eq, rtol=0, atol=1e-9)


def test_replay_matches_portfolio_env() -> None:
    env = PortfolioEnv(SYN, PortfolioEnvConfig(latency=1, episode_length=120))
    env.reset(seed=9)
    rng = np.random.default_rng(9)
    actions = rng.normal(0, 2, (120, 4)).astype(np.float32)
    _, _, eq = run(env, actions, seed=9)
    targets = np.array([env.target_weights(a) for a in actions])
    rep = replay(SYN, targets, start=env.episode.start, costs=env.config.costs, latency=1, mode="always")
    np.testing.assert_allclose(rep.equity, eq, rtol=0, atol=1e-9)


# ------------------------------------------------------------------ splits
def episode_bars(env: MarketEnv, action: int = 1) -> list[int]:
    """Bars an already-reset env visits until the episode ends, holding one action."""
    bars = [env.bar]
    while True:
        _, _, term, trunc, _ = env.step(action)
        bars.append(env.bar)
        if term or trunc:
            return bars


def test_split_never_emits_later_bars() -> None:
    m = demo_market()
    split = DateSplit("2014-12-31", "2016-12-31")
    for name in ("train", "val", "test"):
        env = MarketEnv(m, split=split, split_name=name, episode_length=0)
        lo, hi = split.bounds(m, name)
        assert env.source.market.n_bars == hi + 1  # bars after the split end do not exist in the env
        env.reset(seed=0)
        bars = episode_bars(env)
        assert bars[0] >= lo and bars[-1] == hi and max(bars) <= hi
    train = MarketEnv(m, split=split, split_name="train")
    assert train.source.market.dates[-1] <= np.datetime64("2014-12-31")


def test_train_env_is_blind_to_test_range() -> None:
    m = demo_market()
    split = DateSplit("2014-12-31", "2016-12-31")
    cut = split.bounds(m, "train")[1]
    actions = np.random.default_rng(0).integers(0, 2, 300)
    a = run(MarketEnv(m, split=split), actions, 1)
    b = run(MarketEnv(mutate_after(m, cut), split=split), actions, 1)
    for x, y in zip(a, b, strict=True):
        assert np.array_equal(x, y)


def test_djia_envs(djia_market: Callable[[list[str]], Market]) -> None:
    m = djia_market(["AAPL", "JPM", "XOM"])
    split = DateSplit("2013-12-31", "2015-12-31")
    env = MarketEnv(m, ticker="AAPL", split=split, split_name="val")
    check_env(env, skip_render_check=True)
    penv = PortfolioEnv(m, split=split, split_name="test")
    obs, _ = penv.reset(seed=0)
    assert obs.shape == penv.observation_space.shape and np.isfinite(obs).all()


def test_portfolio_simplex_action_is_the_target_weights() -> None:
    env = PortfolioEnv(SYN, PortfolioEnvConfig(action="simplex"))
    np.testing.assert_allclose(env.target_weights(np.array([0.2, 0.3, 0.1, 0.4])), [0.3, 0.1, 0.4])
    np.testing.assert_allclose(env.target_weights(np.array([1.0, 1.0, 0.0, 0.0])), [0.5, 0.0, 0.0])
    np.testing.assert_allclose(env.target_weights(np.zeros(4)), np.zeros(3))  # all cash


# ------------------------------------------------------------------ active reward, many tickers
ACTIVE = MarketEnvConfig(reward=RewardConfig(kind="active"), positions=(-1.0, 0.0, 1.0))


def test_active_reward_envs_pass_check_env_and_do_not_see_the_future() -> None:
    check_env(MarketEnv(ONE, ACTIVE), skip_render_check=True)
    check_env(MarketEnv(SYN, ACTIVE), skip_render_check=True)  # one drawn ticker per episode
    penv = PortfolioEnv(SYN, PortfolioEnvConfig(reward=RewardConfig(kind="active")))
    check_env(penv, skip_render_check=True)
    assert_no_leak(lambda m: MarketEnv(m, ACTIVE), 3)


def test_active_reward_telescopes_to_log_equity_minus_log_price_ratio() -> None:
    env = _fixed(CostConfig(), reward=RewardConfig(kind="active"))
    _, r, eq = run(env, [1, 1, 0, 1, 1] * 10)
    t = env.source.first_decision
    bench = np.log(ONE.close[t + 50, 0] / ONE.close[t, 0])
    assert np.sum(r) == pytest.approx(np.log(eq[-1]) - bench, abs=1e-12)


def test_observation_noise_blurs_features_only_and_evaluation_turns_it_off() -> None:
    actions = [1, 1, 0, 1, 0, 0, 1] * 8
    cfg = VARIANTS["noisy_obs"]
    plain = replace(cfg, perturb=PerturbConfig())
    o_noisy, r_noisy, eq_noisy = run(MarketEnv(ONE, cfg), actions, seed=4)
    o_plain, r_plain, eq_plain = run(MarketEnv(ONE, plain), actions, seed=4)
    wf = cfg.window * MarketEnv(ONE, cfg).n_features
    assert np.array_equal(eq_noisy, eq_plain) and np.array_equal(r_noisy, r_plain)  # same prices, fills
    assert np.array_equal(o_noisy[:, wf:], o_plain[:, wf:])  # position, P&L, time in state untouched
    noise = o_noisy[:, :wf] - o_plain[:, :wf]
    assert 0.25 < noise.std() < 0.35 and np.abs(o_noisy).max() <= cfg.features.clip
    assert np.array_equal(run(MarketEnv(ONE, cfg), actions, seed=4)[0], o_noisy)  # seeded
    evaluation = cfg.for_evaluation()
    assert evaluation.perturb.obs_noise == 0.0
