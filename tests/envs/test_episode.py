"""Cross-sectional training: one single-asset `MarketEnv` / `MarketVectorEnv` over a multi-asset
market draws one ticker per episode from its seeded RNG, and trades exactly that ticker's prices."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from gymnasium.utils import seeding
from gymnasium.utils.env_checker import check_env

from tests.envs.test_market_env import ONE, SYN, VARIANTS, episode_bars, run
from tests.envs.test_vector import assert_same_as_sync
from tradea3c.envs import (
    CostConfig,
    DateSplit,
    MarketEnv,
    MarketEnvConfig,
    MarketVectorEnv,
    PerturbConfig,
    RewardConfig,
)
from tradea3c.envs.execution import cost_rates
from tradea3c.features.compute import features_for

CFG = MarketEnvConfig(episode_length=60)


def tickers_of(seed: int, n: int = 20, cfg: MarketEnvConfig = CFG) -> list[str]:
    env = MarketEnv(SYN, cfg)
    out = [env.reset(seed=seed)[1]["ticker"]]
    out += [env.reset()[1]["ticker"] for _ in range(n - 1)]
    return out


def test_ticker_sequence_is_reproducible_from_the_seed() -> None:
    a, b = tickers_of(5), tickers_of(5)
    assert a == b and len(a) == 20
    assert tickers_of(6) != a
    assert set(a) == set(SYN.tickers)  # every ticker gets drawn


def test_every_ticker_is_drawn_roughly_uniformly() -> None:
    draws = tickers_of(0, n=300)
    counts = [draws.count(t) for t in SYN.tickers]
    assert min(counts) > 60, counts


def test_info_carries_the_ticker_at_reset_and_step() -> None:
    env = MarketEnv(SYN, CFG)
    _, info = env.reset(seed=1)
    tk = info["ticker"]
    assert tk in SYN.tickers and env.ticker == tk == env.episode.ticker
    for _ in range(5):
        assert env.step(1)[4]["ticker"] == tk
    assert MarketEnv(ONE, CFG).reset(seed=0)[1]["ticker"] == "SYN0"


def test_always_long_equity_is_the_drawn_tickers_close_ratio() -> None:
    cfg = MarketEnvConfig(episode_length=40, fill="close", costs=CostConfig.zero())
    env = MarketEnv(SYN, cfg)
    env.reset(seed=2)
    seen = set()
    for _ in range(12):
        _, info = env.reset()
        j = SYN.tickers.index(info["ticker"])
        seen.add(j)
        bars, eq = [], []
        for _ in range(40):
            _, _, term, trunc, info = env.step(1)
            bars.append(env.bar)
            eq.append(info["equity"])
        close = SYN.close[:, j]
        np.testing.assert_allclose(eq, close[bars] / close[bars[0]], rtol=1e-12)
        others = [k for k in range(3) if k != j]
        for k in others:  # and not another ticker's
            assert not np.allclose(eq, SYN.close[bars, k] / SYN.close[bars[0], k], rtol=1e-6)
    assert seen == {0, 1, 2}


def test_observation_holds_the_drawn_tickers_features() -> None:
    env = MarketEnv(SYN, CFG)
    feats = features_for(SYN, CFG.features).values
    wf = CFG.window * feats.shape[2]
    env.reset(seed=3)
    for _ in range(6):
        obs, info = env.reset()
        j, t = SYN.tickers.index(info["ticker"]), env.bar
        assert np.array_equal(obs[:wf], feats[t - CFG.window + 1 : t + 1, j, :].ravel())
        assert env.observation_space.contains(obs)


def test_drawn_asset_costs_and_cost_jitter() -> None:
    """ATR slippage makes each asset's cost rate different; the first buy pays the drawn asset's
    rate at the fill bar times the episode's jitter multiplier."""
    costs = CostConfig(slippage_atr=0.2)
    env = MarketEnv(SYN, MarketEnvConfig(costs=costs, perturb=PerturbConfig(cost_jitter=0.3)))
    rates = cost_rates(SYN, costs)
    env.reset(seed=4)
    for _ in range(8):
        _, info = env.reset()
        j, t = SYN.tickers.index(info["ticker"]), env.bar
        mult = env.episode.rate_mult
        assert mult != 1.0
        assert env.step(1)[4]["cost"] == pytest.approx(rates[t + 1, j] * mult, rel=1e-12)


def test_price_perturbations_apply_to_the_drawn_asset() -> None:
    sigma = 0.002
    cfg = MarketEnvConfig(episode_length=50, perturb=PerturbConfig(price_noise=sigma, cost_jitter=0.1))
    env = MarketEnv(SYN, cfg)
    env.reset(seed=5)
    for _ in range(6):
        _, info = env.reset()
        j = SYN.tickers.index(info["ticker"])
        tr = env.episode.track
        assert tr.close.shape[1] == 1 and tr.market.tickers == (info["ticker"],)
        rows = slice(tr.bar0, tr.bar0 + len(tr.close))
        noise = np.log(tr.close[:, 0] / SYN.close[rows, j])
        assert 0 < np.abs(noise).max() < 8 * sigma  # a noisy copy of this ticker ...
        for k in set(range(3)) - {j}:  # ... not of another one
            assert np.abs(np.log(tr.close[:, 0] / SYN.close[rows, k])).max() > 8 * sigma
        obs, r, *_ = env.step(1)
        assert np.isfinite(obs).all() and np.isfinite(r)
    boot = MarketEnv(SYN, VARIANTS["perturbed"])  # bootstrap + vol scaling + noise + jitter + latency
    for seed in range(4):
        _, r, _ = run(boot, np.ones(64, dtype=int), seed=seed)
        assert np.isfinite(r).all()


def test_single_asset_market_makes_no_extra_draw() -> None:
    """Same start as a single rng.integers draw: existing seeded results are unchanged."""
    env = MarketEnv(ONE, CFG)
    src = env.source
    for seed in (0, 1, 2):
        env.reset(seed=seed)
        rng, _ = seeding.np_random(seed)
        assert env.episode.start == int(rng.integers(src.first_decision, src.hi - src.n_steps + 1))


def test_explicit_ticker_keeps_todays_behaviour() -> None:
    actions = np.random.default_rng(0).integers(0, 2, 100)
    a = MarketEnv(SYN, CFG, ticker="SYN1")
    b = MarketEnv(SYN.select("SYN1"), CFG)
    for x, y in zip(run(a, actions, seed=7), run(b, actions, seed=7), strict=True):
        assert np.array_equal(x, y)
    assert a.reset(seed=1)[1]["ticker"] == "SYN1"


def test_split_applies_to_every_asset() -> None:
    split = DateSplit("2001-06-29", "2002-01-31")
    lo, hi = split.bounds(SYN, "val")
    env = MarketEnv(SYN, MarketEnvConfig(episode_length=0), split=split, split_name="val")
    assert env.source.market.n_bars == hi + 1
    env.reset(seed=0)
    seen = set()
    for _ in range(10):
        _, info = env.reset()
        seen.add(info["ticker"])
        bars = episode_bars(env)
        assert bars[0] >= lo and bars[-1] == hi
    assert len(seen) > 1


@pytest.mark.parametrize("name", ["default", "perturbed", "active"])
def test_vector_equals_single_envs_with_three_assets(name: str) -> None:
    cfg = VARIANTS.get(name) or MarketEnvConfig(reward=RewardConfig(kind="active"), fill="close")
    cfg = MarketEnvConfig(**{**cfg.__dict__, "episode_length": 40})
    assert_same_as_sync(SYN, cfg, k=5, n=150, seed=2)


def test_vector_tickers_match_single_envs() -> None:
    venv = MarketVectorEnv(6, SYN, CFG)
    venv.reset(seed=10)
    singles = [MarketEnv(SYN, CFG) for _ in range(6)]
    assert venv.tickers == [e.reset(seed=10 + i)[1]["ticker"] for i, e in enumerate(singles)]
    assert len(set(venv.tickers)) > 1


def test_check_env_on_multi_asset_market_env() -> None:
    env = MarketEnv(SYN, CFG)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        check_env(env, skip_render_check=True)


@pytest.mark.slow
def test_cross_sectional_agent_captures_the_oracle_on_tickers_it_never_saw(tmp_path) -> None:
    """One agent trained over four planted-signal tickers (each episode draws one), then scored
    greedily on two tickers held out of training, against the exact oracle net of the same costs."""
    from dataclasses import replace

    from tests.experiment.test_train import agent_and_oracle_log_returns
    from tradea3c.a3c import load_checkpoint
    from tradea3c.data.synthetic import planted_signal_universe
    from tradea3c.experiment import load_strategy, train_strategy

    universe = planted_signal_universe(1500, 6, seed=3)
    seen, unseen = ["SIG0", "SIG1", "SIG2", "SIG3"], ["SIG4", "SIG5"]
    cfg = load_strategy("signal")
    cfg = replace(
        cfg,
        env_kind="market",
        market=replace(cfg.market, source=",".join(seen)),
        a3c=replace(cfg.a3c, workers=2, total_steps=40_000, tensorboard=False),
    )
    result = train_strategy(cfg, tmp_path / "run", progress=False, market=universe.select(seen))
    assert result.best_checkpoint is not None
    model = load_checkpoint(result.best_checkpoint).model
    for ticker in unseen:
        agent_log, oracle_log = agent_and_oracle_log_returns(
            model, universe.select(ticker), cfg.env.for_evaluation()
        )
        print(f"{ticker}: agent log-return {agent_log:.2f}, oracle {oracle_log:.2f}")
        assert oracle_log > 1.0
        assert agent_log >= 0.7 * oracle_log, (ticker, agent_log, oracle_log)
