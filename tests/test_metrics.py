"""Metrics against hand-worked values and against quantstats on the same series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tradea3c.metrics import (
    annual_volatility,
    average_trade,
    cagr,
    calmar_ratio,
    exposure,
    hit_rate,
    infer_interval,
    max_drawdown,
    max_drawdown_duration,
    periods_per_year,
    returns_from_equity,
    sharpe_ratio,
    sortino_ratio,
    summarize,
    total_return,
    trade_returns,
    turnover,
)


def test_hand_worked_series() -> None:
    equity = np.array([100.0, 110.0, 99.0, 108.9])
    r = returns_from_equity(equity)
    np.testing.assert_allclose(r, [0.1, -0.1, 0.1])
    assert total_return(r) == pytest.approx(0.089)
    # mean 1/30, sample std sqrt(((2/30)^2*2 + (4/30)^2)/2) = sqrt(0.0133...) = 0.11547
    assert sharpe_ratio(r, periods=1) == pytest.approx((1 / 30) / 0.115470053837925, rel=1e-12)
    assert annual_volatility(r, periods=4) == pytest.approx(0.115470053837925 * 2, rel=1e-12)
    assert max_drawdown(r) == pytest.approx(-0.1)
    # 3 bars at 3 bars/year = 1 year: CAGR = total return
    assert cagr(r, periods=3) == pytest.approx(0.089)
    # downside deviation sqrt(0.01 / 3); Sortino = (1/30) / sqrt(1/300) = sqrt(300)/30
    assert sortino_ratio(r, periods=1) == pytest.approx(np.sqrt(300) / 30, rel=1e-12)
    assert calmar_ratio(r, periods=3) == pytest.approx(0.089 / 0.1)
    assert max_drawdown_duration(r) == 2  # below the 110 peak at bars 2 and 3 (108.9 < 110)
    assert hit_rate(np.array([0.1, 0.0, -0.1, 0.2])) == pytest.approx(2 / 3)


def test_drawdown_duration_counts_longest_spell() -> None:
    r = np.array([0.1, -0.05, 0.01, 0.05, 0.1, -0.01, -0.01, -0.01, -0.01])
    # peak 1.1; 1.045, 1.05545 under; 1.108 recovers; 1.2188 peak; then 4 bars under
    assert max_drawdown_duration(r) == 4


def test_turnover_exposure_and_trades() -> None:
    equity = np.array([1.0, 1.0, 2.0, 2.0, 2.0])
    traded = np.array([1.0, 0.0, 2.0, 0.0])  # buy all, hold, sell all (2 notional at equity 2), flat
    assert turnover(traded, equity, periods=4) == pytest.approx((1 + 0 + 1 + 0) / 4 * 4)
    assert exposure(np.array([True, True, False, False])) == 0.5
    # two trades: +10% then -10% (exit step counted with the trade it closes), then a flat span
    r = np.array([0.05, 0.047619047619047616, -0.1, 0.0, 0.0])
    fills = np.array([True, False, True, False, True])
    inv = np.array([True, True, True, False, False])
    # the fill at step 2 flips to another position (invested), step 4 exits to flat
    out = trade_returns(r, fills, inv)
    np.testing.assert_allclose(out, [0.1, -0.1])
    assert average_trade(r, fills, inv) == pytest.approx(0.0)
    inv2 = np.array([True, True, False, False, False])  # step 2 exits: counted with the first trade
    np.testing.assert_allclose(trade_returns(r, fills, inv2), [1.1 * 0.9 - 1.0])


def test_degenerate_series_score_zero() -> None:
    assert sharpe_ratio(np.zeros(10)) == 0.0
    assert sharpe_ratio(np.array([0.01])) == 0.0
    assert sortino_ratio(np.full(5, 0.01)) == 0.0
    assert max_drawdown(np.array([0.01, 0.02])) == 0.0
    assert total_return(np.array([])) == 0.0
    assert cagr(np.array([])) == 0.0
    assert hit_rate(np.zeros(3)) == 0.0
    s = summarize(np.ones(5), np.zeros(4), np.zeros(4), np.zeros(4, bool), np.zeros(4, bool))
    assert s.sharpe == 0.0 and s.n_trades == 0.0 and s.final_equity == 1.0


def test_matches_quantstats() -> None:
    qs = pytest.importorskip("quantstats")
    rng = np.random.default_rng(7)
    r = rng.normal(0.0004, 0.012, 600)
    r[0] = abs(r[0])
    r[rng.random(600) < 0.1] = 0.0
    s = pd.Series(r, index=pd.bdate_range("2015-01-02", periods=600))
    assert sharpe_ratio(r) == pytest.approx(qs.stats.sharpe(s), rel=1e-10)
    assert sortino_ratio(r) == pytest.approx(qs.stats.sortino(s), rel=1e-10)
    assert annual_volatility(r) == pytest.approx(qs.stats.volatility(s), rel=1e-10)
    assert cagr(r) == pytest.approx(qs.stats.cagr(s), rel=1e-10)
    assert total_return(r) == pytest.approx(qs.stats.comp(s), rel=1e-10)
    assert max_drawdown(r) == pytest.approx(qs.stats.max_drawdown(s), rel=1e-10)
    assert calmar_ratio(r) == pytest.approx(qs.stats.calmar(s), rel=1e-10)
    assert hit_rate(r) == pytest.approx(qs.stats.win_rate(s), rel=1e-10)


def test_periods_per_year_table_and_inference() -> None:
    assert [periods_per_year(i) for i in ("1d", "1wk", "1mo", "3mo")] == [252, 52, 12, 4]
    assert periods_per_year("1h") == periods_per_year("60m") == 252 * 7  # 6.5 h: 7 bars a session
    assert periods_per_year("1m") == 252 * 390
    with pytest.raises(ValueError, match="1wk"):
        periods_per_year("2wk")
    assert infer_interval(pd.bdate_range("2020-01-01", periods=50).to_numpy()) == "1d"
    assert infer_interval(pd.date_range("2020-01-03", periods=50, freq="W-FRI").to_numpy()) == "1wk"
    assert infer_interval(pd.date_range("2020-01-31", periods=30, freq="ME").to_numpy()) == "1mo"
    assert infer_interval(pd.date_range("2020-01-02 09:30", periods=30, freq="h").to_numpy()) == "1h"
