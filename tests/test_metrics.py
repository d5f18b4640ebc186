"""Metrics against hand-worked values."""

from __future__ import annotations

import numpy as np
import pytest

from tradea3c.backtest.metrics import (
    annual_volatility,
    max_drawdown,
    returns_from_equity,
    sharpe_ratio,
    total_return,
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


def test_degenerate_series_score_zero() -> None:
    assert sharpe_ratio(np.zeros(10)) == 0.0
    assert sharpe_ratio(np.array([0.01])) == 0.0
    assert max_drawdown(np.array([0.01, 0.02])) == 0.0
    assert total_return(np.array([])) == 0.0
