"""Probabilistic / deflated Sharpe ratio against Bailey & Lopez de Prado (2014), "The Deflated
Sharpe Ratio", numerical example."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tradea3c.backtest.dsr import (
    deflated_sharpe,
    deflated_sharpe_of,
    expected_max_sharpe,
    moments,
    probabilistic_sharpe,
)


def test_paper_worked_example() -> None:
    """The paper's example: N = 100 trials whose annualised Sharpe ratios have variance 0.5, best
    annualised SR 2.5 over T = 1250 daily returns (5 years of 250 days), skewness -3, kurtosis 10.
    Per day: SR = 2.5 / sqrt(250) = 0.1581, V = 0.5 / 250. The paper finds E[max SR] ~ 0.1132 per
    day (about 1.79 annualised) and DSR ~ 0.9004."""
    v = 0.5 / 250
    sr0 = expected_max_sharpe(100, v)
    assert sr0 == pytest.approx(0.1132, abs=5e-5)
    assert sr0 * math.sqrt(250) == pytest.approx(1.789, abs=1e-3)
    dsr = deflated_sharpe(2.5 / math.sqrt(250), 1250, 100, v, skew=-3.0, kurt=10.0)
    assert dsr == pytest.approx(0.9004, abs=1e-4)


def test_psr_properties() -> None:
    assert probabilistic_sharpe(0.0, 500) == pytest.approx(0.5)
    assert probabilistic_sharpe(0.1, 1000) > probabilistic_sharpe(0.1, 100) > 0.5
    # negative skew and fat tails widen the Sharpe's error: lower confidence
    assert probabilistic_sharpe(0.1, 500, skew=-2, kurt=9) < probabilistic_sharpe(0.1, 500)
    # more trials -> higher luck benchmark -> lower DSR
    assert deflated_sharpe(0.1, 500, 1000, 1e-3) < deflated_sharpe(0.1, 500, 10, 1e-3)
    assert expected_max_sharpe(1, 1.0) == 0.0


def test_dsr_of_trials_and_moments() -> None:
    rng = np.random.default_rng(0)
    trials = [rng.normal(0.001 * k, 0.01, 750) for k in range(5)]
    out = deflated_sharpe_of(trials)
    srs = [moments(t)[0] for t in trials]
    assert out.best_trial == int(np.argmax(srs))
    assert out.sr_variance == pytest.approx(np.var(srs, ddof=1))
    assert out.dsr < out.psr
    one = deflated_sharpe_of(trials[:1])
    assert one.dsr == pytest.approx(one.psr)  # a single trial is not deflated
    sr, skew, kurt = moments(rng.normal(0, 1, 200_000))
    assert abs(skew) < 0.05 and kurt == pytest.approx(3.0, abs=0.05)
