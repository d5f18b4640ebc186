"""Performance metrics: pure functions of an equity path or a return series.

Conventions: ``returns`` are simple per-bar returns; annualisation uses ``periods`` bars per year
(252 for daily bars); the risk-free rate is 0 unless given (per year). Degenerate inputs (flat
equity, fewer than two returns) give 0.0 rather than NaN/inf so that "did nothing" scores 0.
"""

from __future__ import annotations

import numpy as np

PERIODS_PER_YEAR = 252


def returns_from_equity(equity: np.ndarray) -> np.ndarray:
    """Simple returns ``E[t]/E[t-1] - 1`` of an equity path (length n -> n-1)."""
    e = np.asarray(equity, dtype=np.float64)
    return e[1:] / e[:-1] - 1.0


def total_return(returns: np.ndarray) -> float:
    """Compounded return over the whole series."""
    return float(np.prod(1.0 + np.asarray(returns, dtype=np.float64)) - 1.0)


def annual_volatility(returns: np.ndarray, periods: int = PERIODS_PER_YEAR) -> float:
    """Sample standard deviation (ddof=1) times sqrt(periods)."""
    r = np.asarray(returns, dtype=np.float64)
    return float(np.std(r, ddof=1) * np.sqrt(periods)) if len(r) > 1 else 0.0


def sharpe_ratio(returns: np.ndarray, periods: int = PERIODS_PER_YEAR, risk_free: float = 0.0) -> float:
    """Annualised Sharpe ratio: mean excess return / sample std * sqrt(periods); 0 when std is 0."""
    r = np.asarray(returns, dtype=np.float64) - risk_free / periods
    if len(r) < 2:
        return 0.0
    sd = np.std(r, ddof=1)
    return float(np.mean(r) / sd * np.sqrt(periods)) if sd > 1e-12 else 0.0


def max_drawdown(returns: np.ndarray) -> float:
    """Largest peak-to-trough fall of the compounded equity, as a negative fraction (0 = none)."""
    eq = np.concatenate([[1.0], np.cumprod(1.0 + np.asarray(returns, dtype=np.float64))])
    return float(np.min(eq / np.maximum.accumulate(eq) - 1.0))
