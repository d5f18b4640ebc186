"""An untrained anchored agent *is* its benchmark: its greedy backtest trades like its anchor
(single asset: buy-and-hold or vol-targeted buy-and-hold; portfolio: equal weight)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tradea3c.a3c.config import ModelConfig
from tradea3c.backtest.baselines import baselines, replay_periodic
from tradea3c.backtest.engine import LoadedPolicy, policy_curve, resolve_range
from tradea3c.data.spec import MarketSpec
from tradea3c.data.synthetic import drift_market, planted_cross_section_market
from tradea3c.envs import CostConfig, MarketEnvConfig, PortfolioEnvConfig
from tradea3c.envs.config import DateSplit
from tradea3c.envs.make import make_env
from tradea3c.experiment.strategy import StrategyConfig

COSTS = CostConfig(commission_bps=10.0, half_spread_bps=0.0, slippage_bps=0.0)


def untrained(market, strategy: StrategyConfig, split: DateSplit) -> LoadedPolicy:
    env_cfg = strategy.env_config(market)
    env = make_env(market, env_cfg, split, "train")
    model = strategy.model_factory(market)(env.observation_space, env.action_space)
    return LoadedPolicy(Path("untrained"), model, env_cfg, MarketSpec(), split, "", (), 0, {"extra": {}})


@pytest.mark.parametrize("anchor", ["buy_and_hold", "vol_target"])
def test_untrained_single_asset_agent_trades_like_its_anchor(anchor: str) -> None:
    m = drift_market(900, seed=5)
    split = DateSplit(str(m.dates[500])[:10], str(m.dates[600])[:10])
    env = MarketEnvConfig(window=10, positions=(-1.0, -0.5, 0.0), anchor=anchor, costs=COSTS)
    pol = untrained(m, StrategyConfig(env=env, env_kind="market"), split)
    rng = resolve_range(m, split, None, None)
    pc = policy_curve(pol, m, rng)
    start = int(np.searchsorted(m.dates, pc.dates[0]))
    base = {c.name: c for c in baselines(m, start, len(pc.costs), COSTS, rules=[], risk=())}
    name = "buy_and_hold" if anchor == "buy_and_hold" else "vol_target"
    np.testing.assert_allclose(pc.equity, base[name].equity, rtol=1e-12)
    np.testing.assert_allclose(pc.costs, base[name].costs, rtol=1e-12, atol=1e-15)
    # and unanchored, the same untrained network does not hold the benchmark
    free = untrained(
        m,
        StrategyConfig(env=replace(env, anchor="none", positions=(0.0, 0.5, 1.0)), env_kind="market"),
        split,
    )
    assert not np.allclose(policy_curve(free, m, rng).equity, base["buy_and_hold"].equity)


def test_untrained_portfolio_agent_holds_equal_weight() -> None:
    m = planted_cross_section_market(700, 6, seed=1)
    split = DateSplit(str(m.dates[400])[:10], str(m.dates[500])[:10])
    portfolio = PortfolioEnvConfig(window=5, action="simplex", anchor="equal_weight", costs=COSTS)
    strategy = StrategyConfig(
        portfolio=portfolio,
        env_kind="portfolio",
        a3c=replace(StrategyConfig().a3c, model=ModelConfig(kind="per_asset", hidden=(16, 16))),
    )
    pol = untrained(m, strategy, split)
    rng = resolve_range(m, split, None, None)
    pc = policy_curve(pol, m, rng)
    start = int(np.searchsorted(m.dates, pc.dates[0]))
    from tradea3c.a3c.models.per_asset import ANCHOR_RESIDUAL

    ew = np.full(m.n_assets, (1.0 - ANCHOR_RESIDUAL) / m.n_assets)
    daily = replay_periodic(m, ew, start=start, n_steps=len(pc.costs), every=1, costs=COSTS)
    np.testing.assert_allclose(pc.equity, daily.equity, rtol=1e-5)
    # turnover: the greedy policy's is the daily-rebalanced benchmark's (the env rebalances every
    # step); a monthly rebalance of the same weights trades less (reported in docs/backtests.md)
    assert pc.costs.sum() <= 1.5 * daily.costs.sum()
