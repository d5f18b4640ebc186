"""Volatility-targeted baselines (``vol_target``, ``vol_target_equal_weight``): the exposure follows
the trailing volatility, decisions are causal, costs are the replay's, exposure 1 is the hold, and
the portfolio variant stays inside listings."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradea3c.backtest.baselines import REBALANCE_EVERY, baselines, basket_log_returns, vol_target_schedule
from tradea3c.backtest.runner import flat_costs
from tradea3c.data.market import Market, synthetic_market
from tradea3c.data.synthetic import changing_universe
from tradea3c.envs.anchors import VolTargetConfig, vol_target_exposure

VT = VolTargetConfig()  # 15% a year, 63 bars, cap 1.0, step 0.05
HALF = 600


def regime_market(seed: int = 0, n_bars: int = 2 * HALF, low: float = 0.012) -> Market:
    """One asset whose daily volatility doubles at bar ``HALF`` (``low`` then ``2 * low``); opens
    equal the previous close."""
    rng = np.random.default_rng(seed)
    vol = np.where(np.arange(n_bars) < HALF, low, 2 * low)
    log_ret = vol * rng.standard_normal(n_bars)
    log_ret[0] = 0.0
    close = 100.0 * np.exp(np.cumsum(log_ret))
    open_ = np.concatenate([[100.0], close[:-1]])
    high, low_ = np.maximum(open_, close) * 1.001, np.minimum(open_, close) / 1.001
    dates = pd.bdate_range("2000-01-03", periods=n_bars).to_numpy()
    cols = [a.reshape(-1, 1) for a in (open_, high, low_, close, np.full(n_bars, 1e6))]
    return Market(("VOL",), dates, *cols, source="synthetic", name="regime")


def by_name(curves) -> dict:
    return {c.name: c for c in curves}


def ann_vol(returns: np.ndarray) -> float:
    return float(np.std(returns, ddof=1) * np.sqrt(252))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_exposure_halves_when_volatility_doubles_and_tracks_the_target(seed: int) -> None:
    market = regime_market(seed)
    exposure = vol_target_exposure(market.close[:, 0], VT)
    settled_low = exposure[VT.window + 10 : HALF]  # windows entirely inside one regime
    settled_high = exposure[HALF + VT.window :]
    assert 0.5 < np.median(settled_low) < VT.cap  # 19% a year: below the cap
    assert abs(np.median(settled_high) - np.median(settled_low) / 2) <= VT.step
    assert np.allclose(exposure / VT.step, np.round(exposure / VT.step)) and exposure.max() <= VT.cap

    start, n = 50, len(exposure) - 51
    curves = by_name(baselines(market, start, n, flat_costs(0.0), rules=[], risk=()))
    assert [*curves] == ["buy_and_hold", "vol_target"]  # the hold first: the report's benchmark
    vt, bh = curves["vol_target"], curves["buy_and_hold"]
    np.testing.assert_array_equal(vt.targets[:, 0], exposure[start : start + n])
    second = slice(HALF + VT.window - start, None)  # steps after the estimate saw the new regime
    assert abs(ann_vol(vt.returns[second]) - VT.target_vol) < abs(ann_vol(bh.returns[second]) - VT.target_vol)
    assert abs(ann_vol(vt.returns[second]) - VT.target_vol) < 0.03


def _shock_after(market: Market, bar: int, seed: int = 9) -> Market:
    """``market`` with every price of the bars after ``bar`` scaled by a random path (OHLC stay
    consistent: one positive factor per bar and asset)."""
    rng = np.random.default_rng(seed)
    factor = np.ones(market.close.shape)
    k = market.n_bars - bar - 1
    factor[bar + 1 :] = np.exp(np.cumsum(0.05 * rng.standard_normal((k, market.n_assets)), axis=0)) * 1.7
    fields = {f: getattr(market, f) * factor for f in ("open", "high", "low", "close")}
    return Market(market.tickers, market.dates, volume=market.volume, tradable=market.tradable, **fields)


def test_decisions_are_causal() -> None:
    market = regime_market(3)
    start, n, t = 50, 1000, 700
    changed = _shock_after(market, t)
    assert not np.allclose(market.close[t + 1 :], changed.close[t + 1 :])
    before = vol_target_exposure(market.close[:, 0], VT)
    after = vol_target_exposure(changed.close[:, 0], VT)
    np.testing.assert_array_equal(before[: t + 1], after[: t + 1])

    # prices after bar t + 1 changed: the curve through the fill at t + 1 is the same
    changed = _shock_after(market, t + 1)
    a = by_name(baselines(market, start, n, flat_costs(10.0), rules=[], risk=()))["vol_target"]
    b = by_name(baselines(changed, start, n, flat_costs(10.0), rules=[], risk=()))["vol_target"]
    i = t - start  # step i is decided at the close of t and fills at t + 1
    np.testing.assert_array_equal(a.targets[: i + 2], b.targets[: i + 2])
    np.testing.assert_array_equal(a.equity[: i + 2], b.equity[: i + 2])  # equity[i + 1]: close of t + 1
    np.testing.assert_array_equal(a.units[: i + 1], b.units[: i + 1])
    assert not np.array_equal(a.equity, b.equity)

    universe = synthetic_market(900, 3, seed=5, vol=0.02)
    shocked = _shock_after(universe, t)
    s0 = vol_target_schedule(universe, start, 800, VT, every=REBALANCE_EVERY)
    s1 = vol_target_schedule(shocked, start, 800, VT, every=REBALANCE_EVERY)
    np.testing.assert_array_equal(s0[: t - start + 1], s1[: t - start + 1])


def test_costs_are_the_replays_and_exposure_one_is_the_hold() -> None:
    market = regime_market(4)
    start, n = 50, 1100
    free = by_name(baselines(market, start, n, flat_costs(0.0), rules=[], risk=()))
    paid = by_name(baselines(market, start, n, flat_costs(25.0), rules=[], risk=()))
    f, p = free["vol_target"], paid["vol_target"]
    assert p.trades.sum() > 10  # the exposure moves: it trades
    np.testing.assert_array_equal(f.targets, p.targets)
    np.testing.assert_array_equal(f.trades, p.trades)  # the same fills, only their costs differ
    assert (f.costs == 0).all()
    np.testing.assert_allclose(p.costs, 25e-4 * p.traded, rtol=0, atol=1e-15)
    # every step of the costly curve: its units' mark-to-market P&L minus exactly the cost charged
    t = np.arange(start, start + n)
    u_prev = np.concatenate([[0.0], p.units[:-1, 0]])
    fill, close0, close1 = market.open[t + 1, 0], market.close[t, 0], market.close[t + 1, 0]
    pnl = u_prev * (fill - close0) + p.units[:, 0] * (close1 - fill)
    np.testing.assert_allclose(np.diff(p.equity), pnl - p.costs, rtol=0, atol=1e-12)
    np.testing.assert_allclose(p.gross_equity[-1] - p.equity[-1], p.costs.sum(), rtol=0, atol=1e-12)
    # to first order the two curves end apart by the costs paid (the rest: costs x later returns)
    assert f.equity[-1] - p.equity[-1] == pytest.approx(p.costs.sum(), rel=0.25)

    # exposure pinned at the cap of 1 (a target no volatility reaches): the hold, bar for bar
    always = VolTargetConfig(target_vol=1e6, cap=1.0)
    assert (vol_target_exposure(market.close[:, 0], always) == 1.0).all()
    for costs in (flat_costs(0.0), flat_costs(25.0)):
        c = by_name(baselines(market, start, n, costs, rules=[], risk=(), vol_target=always))
        bh, vt = c["buy_and_hold"], c["vol_target"]
        for field in ("equity", "targets", "weights", "traded", "costs", "trades", "units"):
            np.testing.assert_array_equal(getattr(vt, field), getattr(bh, field), err_msg=field)

    assert [c.name for c in baselines(market, start, n, flat_costs(0.0), rules=[], vol_target=None)] == [
        "buy_and_hold"
    ]


def test_vol_target_equal_weight_respects_listings() -> None:
    market = changing_universe(n_assets=8, n_bars=600, seed=0)
    listed = market.tradable
    start, n = 100, 450
    cfg = VolTargetConfig(target_vol=0.06)  # the basket runs at 7-11% a year: exposure below the cap
    curves = by_name(baselines(market, start, n, flat_costs(10.0), rules=[], risk=(), vol_target=cfg))
    assert [*curves] == ["equal_weight_hold", "equal_weight_rebal21", "vol_target_equal_weight"]
    vt = curves["vol_target_equal_weight"]
    held = vt.weights
    assert not ((held != 0.0) & ~listed[start + 1 : start + n + 1]).any()
    late = [j for j in range(market.n_assets) if not listed[start, j] and listed[start + n, j]]
    assert late  # an asset that lists during the range
    # exposure decided at each rebalance, spread over the members listed at the decision and the fill
    basket = basket_log_returns(market, start + 1)[start + 1 - cfg.window :]  # the returns up to start
    exposure0 = min(
        cfg.cap, round(cfg.target_vol / (np.std(basket, ddof=1) * np.sqrt(252)) / cfg.step) * cfg.step
    )
    assert 0 < exposure0 < cfg.cap
    np.testing.assert_allclose(vt.targets[0], exposure0 / market.n_assets)
    assert len(np.unique(vt.targets.sum(axis=1).round(6))) > 1  # re-decided at the rebalances
    for k in range(0, n, REBALANCE_EVERY):
        members = listed[start + k] & listed[start + k + 1]
        t1 = start + k + 1
        # the equity the fill sized at: after the fill at the open, before its costs
        at_fill = vt.equity[k + 1] - vt.units[k] @ (market.close[t1] - market.open[t1]) + vt.costs[k]
        w = vt.units[k] * market.open[t1] / at_fill
        assert (w[~members] == 0).all(), k
        if vt.targets[k].sum() > 0:
            expo = vt.targets[k].sum()
            np.testing.assert_allclose(w[members], expo / members.sum(), rtol=1e-3)
    for j in late:  # no weight before its listing
        first = int(np.flatnonzero(listed[:, j])[0])
        assert (vt.units[: max(first - start - 1, 0), j] == 0).all()
