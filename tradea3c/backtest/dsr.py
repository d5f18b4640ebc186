"""Probabilistic and deflated Sharpe ratios (Bailey & Lopez de Prado, 2012 and 2014).

A Sharpe ratio estimated from T returns is noisy, and the best of N tried configurations (seeds,
hyper-parameters) is biased upwards even when none has skill. The PSR is the probability that the
true Sharpe exceeds a benchmark SR*, given the sample's length, skewness and kurtosis; the DSR is
the PSR with SR* set to the Sharpe the best of N skill-less trials would reach by luck.
All Sharpe ratios here are per period (not annualised); `annualised_to_period` converts.
Normal quantiles come from the standard library, so there is no scipy dependency.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

EULER_GAMMA = 0.5772156649015329
_N = NormalDist()


def annualised_to_period(sr: float, periods: int) -> float:
    return sr / math.sqrt(periods)


def moments(returns: np.ndarray) -> tuple[float, float, float]:
    """(per-period Sharpe with ddof=1, skewness, kurtosis (normal = 3, not excess)) of a return series."""
    r = np.asarray(returns, dtype=np.float64)
    if len(r) < 3:
        return 0.0, 0.0, 3.0
    sd = r.std(ddof=1)
    if sd <= 1e-12:
        return 0.0, 0.0, 3.0
    z = (r - r.mean()) / r.std(ddof=0)
    return float(r.mean() / sd), float(np.mean(z**3)), float(np.mean(z**4))


def probabilistic_sharpe(
    sr: float, n_obs: int, skew: float = 0.0, kurt: float = 3.0, sr_benchmark: float = 0.0
) -> float:
    """PSR(SR*) = Phi((SR - SR*) sqrt(T - 1) / sqrt(1 - skew SR + (kurt - 1)/4 SR^2)), SRs per period."""
    if n_obs < 2:
        return 0.5
    denom = 1.0 - skew * sr + (kurt - 1.0) / 4.0 * sr * sr
    if denom <= 0:
        return 1.0 if sr > sr_benchmark else 0.0
    return _N.cdf((sr - sr_benchmark) * math.sqrt(n_obs - 1) / math.sqrt(denom))


def expected_max_sharpe(n_trials: int, sr_variance: float, sr_mean: float = 0.0) -> float:
    """E[max SR] of N independent skill-less trials whose SR estimates have variance V:
    ``mean + sqrt(V) ((1 - gamma) Phi^-1(1 - 1/N) + gamma Phi^-1(1 - 1/(N e)))``; 0 for N = 1."""
    if n_trials < 2 or sr_variance <= 0:
        return sr_mean
    a = _N.inv_cdf(1.0 - 1.0 / n_trials)
    b = _N.inv_cdf(1.0 - 1.0 / (n_trials * math.e))
    return sr_mean + math.sqrt(sr_variance) * ((1.0 - EULER_GAMMA) * a + EULER_GAMMA * b)


def deflated_sharpe(
    sr: float, n_obs: int, n_trials: int, sr_variance: float, skew: float = 0.0, kurt: float = 3.0
) -> float:
    """DSR: the PSR of ``sr`` against the expected maximum Sharpe of ``n_trials`` trials (per period)."""
    return probabilistic_sharpe(sr, n_obs, skew, kurt, expected_max_sharpe(n_trials, sr_variance))


@dataclass(frozen=True)
class DeflatedSharpe:
    """The DSR of the best of ``n_trials`` trials; Sharpe ratios here are per bar (not annualised)."""

    best_trial: int
    """Index of the trial with the highest Sharpe ratio."""
    n_trials: int
    sr_variance: float
    """Sample variance of the trials' Sharpe ratios (0 with a single trial)."""
    expected_max_sr: float
    """Expected maximum Sharpe ratio of n_trials unskilled trials: the DSR's benchmark."""
    psr: float
    """Probabilistic Sharpe ratio of the best trial against 0."""
    dsr: float


def deflated_sharpe_of(returns_by_trial: list[np.ndarray], n_trials: int | None = None) -> DeflatedSharpe:
    """DSR of the best trial (highest Sharpe) among several return series, e.g. one per seed.

    ``n_trials`` defaults to the number of series (pass more if more configs were tried); the
    variance of the trials' Sharpe ratios is their sample variance (0 with a single trial, where
    the DSR reduces to PSR(0))."""
    stats = [moments(r) for r in returns_by_trial]
    srs = np.array([s[0] for s in stats])
    best = int(np.argmax(srs))
    n = n_trials or len(srs)
    var = float(np.var(srs, ddof=1)) if len(srs) > 1 else 0.0
    sr, skew, kurt = stats[best]
    t = len(returns_by_trial[best])
    sr0 = expected_max_sharpe(n, var)
    return DeflatedSharpe(
        best_trial=best,
        n_trials=int(n),
        sr_variance=var,
        expected_max_sr=sr0,
        psr=probabilistic_sharpe(sr, t, skew, kurt, 0.0),
        dsr=probabilistic_sharpe(sr, t, skew, kurt, sr0),
    )
