"""`PortfolioVectorEnv` equals K single `PortfolioEnv`s bit for bit (seeds s + i, same actions,
NEXT_STEP autoresets), on plain, perturbed and changing-membership markets; listings are honoured
(no weight on an untradable asset, delisted holdings sold at the last price); portfolio training
takes the batched path; and the benchmark returns its portfolio rows."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import pandas as pd
import pytest
from gymnasium.vector import AutoresetMode, SyncVectorEnv

from tests.envs.test_market_env import SYN
from tradea3c.data.market import Market
from tradea3c.data.synthetic import changing_universe
from tradea3c.envs import (
    CostConfig,
    PerturbConfig,
    PortfolioEnv,
    PortfolioEnvConfig,
    PortfolioVectorEnv,
    RewardConfig,
    make_vector_env,
)
from tradea3c.features.config import FeatureConfig

UNIVERSE = changing_universe(n_assets=8, n_bars=600, seed=4)
PERTURBED = PerturbConfig(
    bootstrap_block=5, vol_scale=(0.7, 1.5), price_noise=0.002, cost_jitter=0.2, latency_prob=0.5
)
VARIANTS = {
    "continuous": PortfolioEnvConfig(episode_length=50),
    "simplex": PortfolioEnvConfig(action="simplex", episode_length=50, fill="close"),
    "discrete": PortfolioEnvConfig(action="discrete", episode_length=50, latency=1),
    "perturbed": PortfolioEnvConfig(episode_length=40, perturb=PERTURBED),
    "active": PortfolioEnvConfig(reward=RewardConfig(kind="active", scale=100.0), episode_length=50),
    "active_perturbed": PortfolioEnvConfig(
        action="simplex", reward=RewardConfig(kind="active"), episode_length=40, perturb=PERTURBED
    ),
    "dsr_jitter": PortfolioEnvConfig(
        reward=RewardConfig(kind="dsr"),
        costs=CostConfig(slippage_atr=0.1),
        perturb=PerturbConfig(cost_jitter=0.3),
        episode_length=50,
    ),
    "drawdown_ruin": PortfolioEnvConfig(
        action="discrete", reward=RewardConfig(kind="drawdown"), ruin_floor=0.97, episode_length=60
    ),
}


def random_actions(cfg: PortfolioEnvConfig, rng: np.random.Generator, k: int, n: int) -> np.ndarray:
    """Actions of every kind, beyond the Box bounds and with all-zero simplex rows too."""
    if cfg.action == "discrete":
        return rng.integers(0, n + 1, k)
    if cfg.action == "simplex":
        a = rng.random((k, n + 1)) * (rng.random((k, n + 1)) < 0.6)
        a[rng.random(k) < 0.1] = 0.0  # all zero: all cash
        return a.astype(np.float32)
    return rng.uniform(-1.3, 1.3, (k, n + 1)).astype(np.float32)


def assert_same_as_singles(market: Market, cfg: PortfolioEnvConfig, k: int, n: int, seed: int) -> int:
    """Step the vector env and K single envs (in a SyncVectorEnv: NEXT_STEP autoreset, seeds s + i)
    with the same random actions; everything must be equal bit for bit. Returns the number of ends."""
    vec = PortfolioVectorEnv(k, market, cfg)
    sync = SyncVectorEnv([lambda: PortfolioEnv(market, cfg) for _ in range(k)])
    assert vec.single_observation_space == sync.single_observation_space
    assert vec.single_action_space == sync.single_action_space
    a, _ = vec.reset(seed=seed)
    b, _ = sync.reset(seed=seed)
    assert np.array_equal(a, b)
    rng = np.random.default_rng(seed)
    dones = 0
    for _ in range(n):
        act = random_actions(cfg, rng, k, market.n_assets)
        va, sa = vec.step(act), sync.step(act)
        assert np.array_equal(va[0], sa[0])
        assert np.array_equal(va[1], sa[1])
        assert np.array_equal(va[2], sa[2]) and np.array_equal(va[3], sa[3])
        assert np.array_equal(vec.equity, [e.unwrapped.equity for e in sync.envs])
        dones += int(np.sum(va[2] | va[3]))
    return dones


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_vector_equals_single_envs(name: str) -> None:
    cfg = VARIANTS[name]
    k, n = (3, 150) if cfg.perturb.changes_prices else (4, 200)  # perturbed resets recompute features
    assert assert_same_as_singles(SYN, cfg, k, n, seed=3) >= k  # autoresets exercised


@pytest.mark.parametrize("action", ["continuous", "simplex", "discrete"])
def test_vector_equals_single_envs_with_listings(action: str) -> None:
    """Late listings, delistings, halts and a trimmed placeholder prefix: masked weights and
    delisting sales included; with latency, cost jitter and the active reward on one variant."""
    assert UNIVERSE.tradable is not None and not UNIVERSE.tradable.all()
    cfg = PortfolioEnvConfig(action=action, episode_length=150)
    if action == "discrete":
        cfg = replace(
            cfg, reward=RewardConfig(kind="active"), perturb=PerturbConfig(cost_jitter=0.2, latency_prob=0.5)
        )
    assert assert_same_as_singles(UNIVERSE, cfg, k=4, n=300, seed=6) >= 4


def test_no_weight_is_ever_held_on_an_untradable_asset() -> None:
    """Random policies of every kind over the changing universe; the held weights in each observation
    (units * close / equity) are 0 wherever the market's mask says the asset is not listed."""
    checked = delisted_while_held = 0
    for action in ("continuous", "simplex", "discrete"):
        env = PortfolioEnv(UNIVERSE, PortfolioEnvConfig(action=action, episode_length=200, fill="close"))
        dim = env.observation_space.shape[0] - env.n_assets - 2
        rng = np.random.default_rng(1)
        for ep in range(4):
            obs, _ = env.reset(seed=ep)
            track, t = env.episode.track, env.episode.start
            for _ in range(env.episode.n_steps):
                act = random_actions(env.config, rng, 1, env.n_assets)[0]
                before = obs[dim + 1 : -1] != 0.0
                obs, *_ = env.step(act)
                t += 1
                listed = UNIVERSE.tradable[track.bar0 + t]
                assert np.array_equal(listed, track.tradable[t])
                held = obs[dim + 1 : -1]
                assert not held[~listed].any()
                checked += int((~listed).sum())
                delisted_while_held += int((before & ~listed).sum())
    assert checked > 500 and delisted_while_held > 0


def test_delisted_holding_is_sold_at_the_last_price_by_hand() -> None:
    """B delists after bar 4 (its placeholder prices repeat the last close, 51). All in B from the
    open of bar 4 (51.5, 10 bps); at the fill of bar 5 the holding is sold at 51 paying 10 bps, the
    order for B gets weight 0, and from bar 5 on the masked action (all in B) means all cash."""
    close_a = np.array([100.0, 101.0, 102.0, 100.0, 103.0, 104.0, 102.0, 105.0])
    open_a = np.array([100.0, 100.5, 101.5, 101.0, 101.0, 103.5, 104.0, 103.0])
    close_b = np.array([50.0, 50.0, 49.0, 52.0, 51.0, 51.0, 51.0, 51.0])
    open_b = np.array([50.0, 50.0, 50.0, 49.5, 51.5, 51.0, 51.0, 51.0])
    o, c = np.column_stack([open_a, open_b]), np.column_stack([close_a, close_b])
    tradable = np.ones(c.shape, dtype=bool)
    tradable[5:, 1] = False
    dates = pd.bdate_range("2020-01-01", periods=len(c)).to_numpy()
    m = Market(
        ("A", "B"), dates, o, np.maximum(o, c), np.minimum(o, c), c, np.full(c.shape, 1e5), tradable=tradable
    )
    rate = 0.001
    cfg = PortfolioEnvConfig(
        action="discrete",
        window=1,
        features=FeatureConfig(names=("ret_1",), norm="none"),
        episode_length=5,
        costs=CostConfig(commission_bps=10.0, half_spread_bps=0.0, slippage_bps=0.0),
        perturb=PerturbConfig(random_start=False),
    )
    env = PortfolioEnv(m, cfg)
    env.reset(seed=0)
    assert env.episode.start == 1
    out = [env.step(a) for a in (0, 0, 2, 2, 2)]  # cash, cash, all B, all B, all B (masked)
    infos = [o[4] for o in out]
    units = 1.0 / 51.5  # bought at the open of bar 4, cost 0.001 paid from cash
    e4 = units * 51.0 - rate
    e5 = -rate + units * 51.0 * (1.0 - rate)  # sold at the fill price of bar 5 = the last close
    eq = [i["equity"] for i in infos]
    np.testing.assert_allclose(eq, [1.0, 1.0, e4, e5, e5], rtol=0, atol=1e-15)
    assert infos[2]["cost"] == pytest.approx(rate, abs=1e-15)
    assert infos[3]["cost"] == pytest.approx(rate * units * 51.0, abs=1e-15)  # the sale's cost
    assert infos[4]["cost"] == 0.0 and infos[4]["target"].tolist() == [0.0, 0.0]  # masked: all cash
    assert out[2][0][-2] == np.float32(units * 51.0 / e4)  # held weight of B, then none
    assert out[3][0][-3:-1].tolist() == [0.0, 0.0]


def test_vector_api_and_make_vector_env() -> None:
    cfg = PortfolioEnvConfig(action="simplex", episode_length=30)
    venv = make_vector_env(3, SYN, cfg)
    assert isinstance(venv, PortfolioVectorEnv) and venv.num_envs == 3
    assert venv.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
    obs, info = venv.reset(seed=0)
    assert obs.shape == (3, *venv.single_observation_space.shape) and obs.dtype == np.float32
    assert venv.observation_space.contains(obs) and info == {}
    obs, rew, term, trunc, info = venv.step(venv.action_space.sample())
    assert rew.shape == term.shape == trunc.shape == (3,) and term.dtype == np.bool_
    other = PortfolioVectorEnv(3, SYN, cfg)
    assert np.array_equal(other.reset(seed=[0, 1, 2])[0], venv.reset(seed=0)[0])
    assert venv.single_action_space == gym.spaces.Box(0.0, 1.0, (4,), np.float32)
    with pytest.raises(ValueError, match="seeds"):
        venv.reset(seed=[1, 2])


def test_portfolio_strategy_with_several_envs_per_worker_trains(tmp_path: Path) -> None:
    """The strategy's own wiring (`TradingEnvFactory` with ``envs_per_worker``), one in-process
    worker stepping a `PortfolioVectorEnv`; `train_strategy` adds only the validation process."""
    from tradea3c.a3c import read_checkpoint, train
    from tradea3c.experiment import StrategyConfig, TradingEnvFactory

    cfg = StrategyConfig()
    cfg = replace(
        cfg,
        env_kind="portfolio",
        envs_per_worker=4,
        profiles=(),
        portfolio=replace(cfg.portfolio, episode_length=40),
        a3c=replace(cfg.a3c, workers=1, total_steps=400, tensorboard=False),
    )
    env_cfg = cfg.env_config(SYN)
    factory = TradingEnvFactory(SYN, env_cfg, cfg.split.resolve(SYN), (), cfg.a3c.seed, cfg.envs_per_worker)
    assert isinstance(factory(0), PortfolioVectorEnv)
    result = train(factory, cfg.a3c, tmp_path, model_factory=cfg.model_factory(SYN), progress=False)
    counters = read_checkpoint(result.latest_checkpoint)["counters"]
    assert counters["global_step"] >= 400 and counters["episodes"] >= 4


BENCH_CFG = PortfolioEnvConfig(action="simplex", window=5, episode_length=50)


def test_portfolio_bench_rows_without_finrl(tmp_path: Path) -> None:
    from tradea3c.bench.env import run_portfolio_benchmark

    res = run_portfolio_benchmark(
        steps=160,
        repeats=1,
        n_assets=4,
        vector_assets=12,
        vector_k=4,
        finrl_wheel=None,  # no wheel given: the FinRL row is skipped, nothing is looked for
        csv_dir=tmp_path,  # no CSVs: a synthetic market
        universe_bars=300,
        synthetic_bars=400,
        config=BENCH_CFG,
    )
    assert [(r.n_assets, r.num_envs) for r in res.rows] == [(4, 1), (4, 4), (12, 4)]
    assert all(r.ratio is None and r.steps_per_s > 0 for r in res.rows)
    assert "synthetic" in res.data and any("FinRL row skipped" in n for n in res.notes)


def test_portfolio_bench_finrl_row_from_the_wheel(tmp_path: Path) -> None:
    from tradea3c.bench.env import run_portfolio_benchmark

    wheel = os.environ.get("TRADEA3C_TEST_FINRL_WHEEL")  # explicit: a wheel's code is executed
    if not wheel or not Path(wheel).is_file():
        pytest.skip(
            "set TRADEA3C_TEST_FINRL_WHEEL to a FinRL 0.3.7 wheel (pip download finrl==0.3.7 --no-deps)"
        )
    res = run_portfolio_benchmark(
        steps=160,
        repeats=1,
        n_assets=4,
        vector_assets=6,
        vector_k=2,
        finrl_wheel=wheel,
        csv_dir=tmp_path,
        universe_bars=300,
        synthetic_bars=400,
        config=BENCH_CFG,
    )
    assert [r.name.split()[0] for r in res.rows] == ["FinRL", "tradea3c", "tradea3c", "tradea3c"]
    assert res.rows[0].ratio == 1.0 and res.rows[1].ratio is not None and res.rows[1].ratio > 0
    assert res.rows[-1].ratio is None  # other assets: no ratio
