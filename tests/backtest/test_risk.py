"""Risk-based baselines (skfolio): weights by hand, no look-ahead, listings, costs, long-only budgets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradea3c.backtest.baselines import REBALANCE_EVERY, baselines
from tradea3c.backtest.risk import RISK_MODELS, eligible, risk_schedule, weights_at
from tradea3c.data.market import Market, synthetic_market
from tradea3c.data.synthetic import changing_universe
from tradea3c.envs.execution import CostConfig

RISK_NAMES = [f"{m}_rebal{REBALANCE_EVERY}" for m in RISK_MODELS]


def _market(n_bars: int, vols: list[float], seed: int = 0, shift: tuple[int, float] | None = None) -> Market:
    """Random walks with one common factor and per-asset vols; ``shift=(t, f)`` multiplies every
    price after bar ``t`` by ``f ** k`` for asset k (a different future, the same past)."""
    rng = np.random.default_rng(seed)
    vols_ = np.asarray(vols)
    common = rng.normal(0.0, 0.006, (n_bars, 1))
    close = 50.0 * np.exp(np.cumsum(common + rng.normal(0.0, 1.0, (n_bars, len(vols))) * vols_, axis=0))
    open_ = np.vstack([close[:1], close[:-1]])
    if shift is not None:
        t, f = shift
        scale = np.where(np.arange(n_bars)[:, None] > t, f ** np.arange(len(vols)), 1.0)
        scale = scale * np.exp(np.cumsum(np.where(np.arange(n_bars)[:, None] > t, 0.03, 0.0), axis=0))
        close, open_ = close * scale, open_ * scale
    return Market(
        tickers=tuple(f"A{k}" for k in range(len(vols))),
        dates=pd.bdate_range("2001-01-01", periods=n_bars).to_numpy(),
        open=open_,
        high=np.maximum(open_, close) * 1.001,
        low=np.minimum(open_, close) * 0.999,
        close=close,
        volume=np.ones((n_bars, len(vols))),
    )


def test_inverse_vol_is_one_over_trailing_sigma() -> None:
    market = _market(120, [0.005, 0.01, 0.02, 0.04])
    t, window = 100, 60
    close = market.close[t - window : t + 1]
    sigma = (close[1:] / close[:-1] - 1.0).std(axis=0, ddof=1)
    expected = (1.0 / sigma) / (1.0 / sigma).sum()
    np.testing.assert_allclose(weights_at(market, t, "inverse_vol", window), expected, rtol=1e-10)
    assert expected.argmax() == 0 and expected.argmin() == 3  # the calm asset gets the most
    assert not weights_at(market, window - 1, "inverse_vol", window).any()  # no full window yet: cash
    assert eligible(market, window, window).all()


def test_weights_decided_by_t_ignore_prices_after_t() -> None:
    vols = [0.01, 0.015, 0.02, 0.012, 0.03]
    t = 105
    a, b = _market(200, vols, seed=1), _market(200, vols, seed=1, shift=(t, 1.5))
    np.testing.assert_array_equal(a.close[: t + 1], b.close[: t + 1])
    for model in RISK_MODELS:
        wa = risk_schedule(a, 70, 120, model, every=10, window=60)
        wb = risk_schedule(b, 70, 120, model, every=10, window=60)
        decided = 70 + 10 * (np.arange(120) // 10) <= t  # row i was decided at the close of that bar
        np.testing.assert_array_equal(wa[decided], wb[decided], err_msg=model)
        assert not np.allclose(wa[~decided], wb[~decided]), model  # the future does change later fits


def test_no_weight_on_unlisted_assets_and_cash_before_a_full_window() -> None:
    market = changing_universe(n_assets=8, n_bars=600, seed=0)
    listed = market.tradable_mask
    assert not listed.all()
    start, n = 100, 498
    curves = {c.name: c for c in baselines(market, start, n, CostConfig(), rules=[])}
    for name in RISK_NAMES:
        c = curves[name]
        assert not np.abs(c.weights[~listed[start + 1 : start + 1 + n]]).max(initial=0) > 0, name
        decided = np.arange(0, n, REBALANCE_EVERY)  # targets are held between rebalances
        assert not np.abs(c.targets[decided][~listed[start + decided]]).max(initial=0) > 0, name
        cash = start + np.arange(n) // 21 * 21 < 252  # decided before bar 252: no 252-bar window yet
        assert not c.targets[cash].any() and (c.equity[: cash.sum() + 1] == 1.0).all(), name
        np.testing.assert_allclose(c.targets[~cash].sum(axis=1), 1.0, atol=1e-9)
        first = listed.argmax(axis=0)
        late = first > 252
        assert late.any()  # a late listing joins once it has its own 252 bars, not before
        for j in np.flatnonzero(late):
            joined = start + np.flatnonzero(c.targets[:, j] > 0)
            assert len(joined) and joined[0] >= first[j] + 252, (name, j)


def test_risk_baselines_in_a_multi_asset_backtest_pay_costs(tmp_path: Path) -> None:
    """The policy's backtest (`policy_and_baselines`, what `tradea3c backtest` reports) lists each
    risk baseline, and each pays costs through the shared execution model."""
    from tradea3c.a3c.config import ModelConfig
    from tradea3c.a3c.models import build_model
    from tradea3c.backtest.engine import BarRange, LoadedPolicy
    from tradea3c.backtest.runner import flat_costs, policy_and_baselines
    from tradea3c.data.spec import MarketSpec
    from tradea3c.envs import make_env
    from tradea3c.envs.config import DateSplit
    from tradea3c.experiment import StrategyConfig

    market = synthetic_market(500, 3, seed=3)
    env_cfg = StrategyConfig(name="pf").env_config(market)
    split = DateSplit("2000-11-01", "2001-04-02")
    env = make_env(market, env_cfg.for_evaluation(), split, "test")
    model = build_model(ModelConfig(), env.observation_space, env.action_space)
    pol = LoadedPolicy(
        tmp_path / "x.pt", model, env_cfg, MarketSpec(), split, market.fingerprint, market.tickers, 0, {}
    )
    rng = BarRange(320, market.n_bars - 1, False)  # after a 252-bar window
    curves = {c.name: c for c in policy_and_baselines(pol, market, rng, rules=[])}
    assert list(curves)[:3] == ["policy", "equal_weight_hold", "equal_weight_rebal21"]
    for name in RISK_NAMES:
        c = curves[name]
        assert c.costs.sum() > 0 and c.metrics().costs_paid > 0, name
        assert len(c.equity) == len(curves["policy"].equity)
        traded = np.flatnonzero(c.traded > 0)
        assert traded[0] == 0 and set(traded) <= set(range(0, len(c.costs), REBALANCE_EVERY))
    free = {c.name: c for c in policy_and_baselines(pol, market, rng, flat_costs(0.0), rules=[])}
    for name in RISK_NAMES:  # same fits at every cost level: costs only lower the path
        np.testing.assert_array_equal(free[name].targets, curves[name].targets)
        assert free[name].equity[-1] > curves[name].equity[-1]


@pytest.mark.parametrize("model", ["min_variance", "hrp"])
@pytest.mark.parametrize(("n_assets", "window"), [(12, 60), (40, 30)])  # 40 assets > 30 returns too
def test_min_variance_and_hrp_are_long_only_and_fully_invested(
    model: str, n_assets: int, window: int
) -> None:
    rng = np.random.default_rng(n_assets)
    market = _market(window + 5, list(rng.uniform(0.005, 0.03, n_assets)), seed=n_assets)
    w = weights_at(market, window + 3, model, window)
    assert (w >= 0).all() and w.sum() == pytest.approx(1.0, abs=1e-12)
    assert np.isfinite(w).all()


def test_import_stays_free_of_skfolio() -> None:
    code = "import sys, tradea3c.backtest.baselines; print('skfolio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_fast_hrp_equals_skfolio_hrp() -> None:
    """The cluster-variance shortcut (`risk._estimator`) changes speed, not weights."""
    from skfolio.moments import LedoitWolf
    from skfolio.optimization import HierarchicalRiskParity
    from skfolio.prior import EmpiricalPrior
    from skfolio.seriation import HierarchicalSeriation

    from tradea3c.backtest.risk import _estimator

    market = _market(80, list(np.random.default_rng(7).uniform(0.005, 0.03, 15)), seed=7)
    x = market.close[1:] / market.close[:-1] - 1.0
    stock = HierarchicalRiskParity(
        prior_estimator=EmpiricalPrior(covariance_estimator=LedoitWolf(nearest=False)),
        seriation_estimator=HierarchicalSeriation(optimal_ordering=False),
    )
    np.testing.assert_allclose(_estimator("hrp").fit(x).weights_, stock.fit(x).weights_, rtol=1e-12)
