"""Backtests (``tradea3c.backtest.runner``, ``engine``, ``baselines``): one execution model, honest
baselines, cost sweeps and seeds, in-sample refusal (the ``tradea3c backtest`` command:
tests/cli/test_backtest.py)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from tests.conftest import train_tiny
from tradea3c.backtest.baselines import RuleConfig, baselines, load_rules, replay_periodic, rule_signal
from tradea3c.backtest.engine import BacktestError, BarRange, LoadedPolicy, load_policy, policy_curve
from tradea3c.backtest.results import write_json
from tradea3c.backtest.runner import backtest_run
from tradea3c.data.market import synthetic_market
from tradea3c.data.synthetic import planted_signal_market
from tradea3c.envs.config import DateSplit
from tradea3c.envs.execution import CostConfig, cost_rates

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def runs(tiny_runs: Callable[[int], Path]) -> tuple[Path, Path]:
    """The session's two tiny planted-signal seeds."""
    return tiny_runs(0), tiny_runs(1)


def test_policy_backtest_equals_env_equity(runs) -> None:
    """The replayed targets reproduce the evaluation env's own equity path (run_greedy) to 1e-9."""
    from tradea3c.envs import make_env
    from tradea3c.experiment.factory import run_greedy

    pol = load_policy(runs[0])
    market = planted_signal_market(2000)
    env = make_env(market, pol.env_config.for_evaluation(), pol.split, "test")
    env_equity = run_greedy(pol.model, env)
    ep = env.unwrapped.episode
    curve = policy_curve(pol, market, BarRange(ep.start, market.n_bars - 1, False))
    assert curve.dates[0] == market.dates[ep.start]
    np.testing.assert_allclose(curve.equity, env_equity, rtol=0, atol=1e-9)
    assert curve.trades.any()


def test_portfolio_policy_matches_env(tmp_path: Path) -> None:
    """Same check for the multi-asset env (rebalanced every step: replay mode "always")."""
    from tradea3c.a3c.config import ModelConfig
    from tradea3c.a3c.models import build_model
    from tradea3c.data.spec import MarketSpec
    from tradea3c.envs import make_env
    from tradea3c.experiment import StrategyConfig
    from tradea3c.experiment.factory import run_greedy

    market = synthetic_market(500, 3, seed=3)
    env_cfg = StrategyConfig(name="pf").env_config(market)
    assert env_cfg.kind == "portfolio"
    split = DateSplit("2000-11-01", "2001-04-02")
    env = make_env(market, env_cfg.for_evaluation(), split, "test")
    model = build_model(ModelConfig(), env.observation_space, env.action_space)
    pol = LoadedPolicy(
        tmp_path / "x.pt", model, env_cfg, MarketSpec(), split, market.fingerprint, market.tickers, 0, {}
    )
    env_equity = run_greedy(model, env)
    ep = env.unwrapped.episode
    curve = policy_curve(pol, market, BarRange(ep.start, market.n_bars - 1, False))
    np.testing.assert_allclose(curve.equity, env_equity, rtol=0, atol=1e-9)
    assert curve.weights.shape == (len(curve.costs), 3) and (curve.costs > 0).all()


def test_buy_and_hold_is_price_ratio_minus_entry_cost() -> None:
    market = synthetic_market(300, 1, seed=1)
    costs = CostConfig(5.0, 2.0, 1.0)
    start, n = 50, 200
    bh = baselines(market, start, n, costs, rules=[])[0]
    rate = 8e-4
    expected = market.close[start + n, 0] / market.open[start + 1, 0] - rate
    assert bh.name == "buy_and_hold"
    assert abs(bh.equity[-1] - expected) < 1e-9
    assert bh.trades.sum() == 1 and bh.costs.sum() == pytest.approx(rate)
    np.testing.assert_allclose(
        bh.equity[1:],
        market.close[start + 1 : start + n + 1, 0] / market.open[start + 1, 0] - rate,
        atol=1e-9,
    )


def test_equal_weight_baselines_pay_costs() -> None:
    market = synthetic_market(300, 4, seed=2)
    costs = CostConfig(10.0, 0.0, 0.0)
    curves = baselines(market, 10, 100, costs, rules=[])
    assert [c.name for c in curves] == [
        "equal_weight_hold",
        "equal_weight_rebal21",
        "vol_target_equal_weight",
        "inverse_vol_rebal21",
        "min_variance_rebal21",
        "hrp_rebal21",
    ]
    hold, rebal = curves[:2]
    assert all(c.costs.sum() == 0 for c in curves[3:])  # no 252-bar window before bar 110: cash
    assert hold.trades.sum() == 1
    np.testing.assert_allclose(hold.weights[0], np.full(4, 0.25), atol=0.03)
    assert list(np.flatnonzero(rebal.trades)) == [0, 21, 42, 63, 84]
    rates = cost_rates(market, costs)
    rep = replay_periodic(market, np.full(4, 0.25), start=10, n_steps=100, every=21, costs=costs)
    np.testing.assert_allclose(rep.costs, rep.traded * rates[11:111, 0], atol=1e-15)
    np.testing.assert_allclose(rebal.weights[21], np.full(4, 0.25), atol=0.02)


def test_rules_are_causal_and_shipped() -> None:
    names = {r.name for r in load_rules()}
    assert {"sma_50_200", "ts_mom_252"} <= names
    close = synthetic_market(400, 1, seed=4).close[:, 0]
    rule = RuleConfig(kind="sma_crossover", fast=5, slow=20)
    sig = rule_signal(close, rule)[:, 0]
    t = 100
    assert sig[t] == float(close[t - 4 : t + 1].mean() > close[t - 19 : t + 1].mean())
    assert (sig[:19] == 0).all()
    changed = close.copy()
    changed[t + 1 :] *= 3.0
    assert (rule_signal(changed, rule)[: t + 1] == rule_signal(close, rule)[: t + 1]).all()
    mom = rule_signal(close, RuleConfig(kind="ts_momentum", lookback=50, short=True))[:, 0]
    assert mom[200] == (1.0 if close[200] > close[150] else -1.0)


def test_backtest_run_default_range_costs_and_seeds(runs, tmp_path: Path) -> None:
    out = tmp_path / "m.json"
    rep = backtest_run(list(runs), costs_bps=(0, 25), n_trials=4)
    write_json(rep, out)
    assert rep.label == "out-of-sample"
    assert rep.ranges["backtest"][0] == rep.ranges["val"][1]  # base bar = last validation bar
    assert rep.ranges["test"][0] > rep.strategy["split"]["val_end"]
    assert {"policy", "buy_and_hold", "sma_50_200", "ts_mom_252"} <= set(rep.metrics)
    # buy-and-hold in the sweep: exactly the price ratio minus c bps (signal market: open = prev close)
    close = rep.market.close[:, 0]
    lo = int(np.searchsorted(rep.market.dates, rep.policy.dates[0]))
    for level in rep.cost_sweep:
        bh = level.metrics["buy_and_hold"].total_return
        assert bh == pytest.approx(close[-1] / close[lo] - 1 - level.cost_bps / 1e4, abs=1e-9)
    p0, p25 = (level.metrics["policy"] for level in rep.cost_sweep)
    assert p0.costs_paid == 0.0 and p25.costs_paid > 0
    assert p25.total_return < p0.total_return
    seeds = rep.seeds
    assert [r.seed for r in seeds.runs] == [0, 1]
    assert seeds.dsr.n_trials == 4 and seeds.dsr.dsr <= seeds.dsr.psr
    assert seeds.best_run == seeds.runs[seeds.dsr.best_trial].run
    assert seeds.summary["sharpe"].min <= seeds.summary["sharpe"].mean <= seeds.summary["sharpe"].max
    data = json.loads(out.read_text())
    assert data["metrics"]["policy"]["sharpe"] == pytest.approx(rep.metrics["policy"].sharpe)
    assert data["seeds"]["runs"][1]["stats"]["sharpe"] == pytest.approx(seeds.runs[1].stats.sharpe)
    assert data["label"] == "out-of-sample" and data["fingerprint"]["changed"] is False


def test_in_sample_refused_then_labelled(runs) -> None:
    with pytest.raises(BacktestError, match="--allow-in-sample"):
        backtest_run(runs[0], "2003-01-01", "2004-01-01", costs_bps=())
    rep = backtest_run(runs[0], "2003-01-01", "2004-01-01", costs_bps=(), allow_in_sample=True, rules=[])
    assert rep.label == "in-sample" and rep.to_json()["label"] == "in-sample"


def test_changed_data_is_reported(runs) -> None:
    other = planted_signal_market(2000, seed=5)
    rep = backtest_run(runs[0], costs_bps=(), market=other, rules=[])
    assert rep.fingerprint.changed and "market data changed" in rep.warnings[0]


def test_demo_market_tiny_run(tmp_path: Path) -> None:
    """The GOOGL demo strategy end to end: window 30, short/flat/long, profiles, tiny budget."""
    run = train_tiny(tmp_path / "demo", "default", steps=600, t_max=5)
    rep = backtest_run(run, costs_bps=(10,))
    assert rep.label == "out-of-sample" and rep.tickers == ["GOOGL"]
    assert rep.benchmark.name == "buy_and_hold"
    assert len(rep.policy.equity) == len(rep.benchmark.equity) > 200
