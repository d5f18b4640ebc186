"""Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV).

Bailey, Borwein, Lopez de Prado and Zhu (2015), "The probability of backtest overfitting",
Journal of Computational Finance 20(4). Given a T x N matrix of returns of N candidate strategies
(configurations tried) over the same T bars:

1. drop the first ``T mod S`` rows and cut the rest into S (even) contiguous blocks of equal size;
2. for each of the C(S, S/2) ways to pick S/2 blocks as the in-sample set J (the other half, J',
   is out of sample): take the candidate with the best in-sample Sharpe ratio, n*; its relative
   rank out of sample is w = rank_J'(n*) / (N + 1) (rank 1 = worst, ties share the mean rank),
   and its logit is lambda = ln(w / (1 - w));
3. PBO = the share of splits with lambda <= 0: how often the in-sample winner lands at or below
   the out-of-sample median.

A PBO near 0 says picking the in-sample best generalises; about 0.5 or more, that the choice is
no better than chance (a set of skill-less candidates gives about 0.5). Sharpe ratios are per bar
(mean / sample std; 0 for a flat series). No maintained package on PyPI implements CSCV (pypbo
is not published there), hence this one; `tests/backtest/test_pbo.py` checks it by hand.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Pbo:
    """The CSCV result over a T x N return matrix (see module doc)."""

    pbo: float
    """Share of the splits whose in-sample best ranks at or below the out-of-sample median."""
    n_splits: int
    """S: contiguous blocks the bars were cut into."""
    n_combinations: int
    """C(S, S/2): in-sample / out-of-sample splits evaluated."""
    n_bars: int
    """T actually used (a multiple of S)."""
    candidates: list[str]
    """The N columns, in order."""
    picked: dict[str, int]
    """How many splits picked each candidate as the in-sample best."""
    median_logit: float
    """Median lambda over the splits (> 0: the in-sample best tends to stay above the median)."""
    logits: list[float]
    """lambda of each split, in `itertools.combinations` order (left out of metrics.json)."""


def _block_sharpe(sums: np.ndarray, squares: np.ndarray, n: int, shift: np.ndarray) -> np.ndarray:
    """Per-column Sharpe (mean / sample std) over n rows from the sums of values and of squares of
    the rows less ``shift`` (the column means: a constant column has exactly zero variance)."""
    mean = sums / n
    var = np.maximum(squares - n * mean * mean, 0.0) / (n - 1)
    sd = np.sqrt(var)
    return np.where(sd > 1e-12, (mean + shift) / np.where(sd > 0, sd, 1.0), 0.0)


def probability_of_backtest_overfitting(
    returns: np.ndarray, names: list[str] | None = None, n_splits: int = 16
) -> Pbo:
    """CSCV PBO of a T x N return matrix (columns = candidates). ``n_splits`` S is lowered (to an
    even number >= 2) until every block holds at least 2 bars; needs N >= 2 and T >= 4."""
    m = np.asarray(returns, dtype=np.float64)
    if m.ndim != 2 or m.shape[1] < 2:
        raise ValueError("PBO needs a T x N return matrix with N >= 2 candidates")
    t, n = m.shape
    s = min(int(n_splits), t // 2)
    s -= s % 2
    if s < 2:
        raise ValueError(f"PBO needs at least 4 bars, got {t}")
    size = t // s
    used = m[t - size * s :]
    shift = used.mean(axis=0)
    blocks = (used - shift).reshape(s, size, n)
    sums, squares = blocks.sum(axis=1), (blocks * blocks).sum(axis=1)
    total_sum, total_sq = sums.sum(axis=0), squares.sum(axis=0)
    half_n = size * s // 2
    names = list(names) if names is not None else [f"c{j}" for j in range(n)]
    if len(names) != n:
        raise ValueError(f"{len(names)} names for {n} candidates")
    combos = list(itertools.combinations(range(s), s // 2))
    pick = np.zeros((len(combos), s))
    for k, combo in enumerate(combos):
        pick[k, list(combo)] = 1.0
    is_sum, is_sq = pick @ sums, pick @ squares  # (combinations, N)
    sr_in = _block_sharpe(is_sum, is_sq, half_n, shift)
    sr_out = _block_sharpe(total_sum - is_sum, total_sq - is_sq, half_n, shift)
    best = np.argmax(sr_in, axis=1)
    v = sr_out[np.arange(len(combos)), best][:, None]
    # rank of the picked candidate out of sample: 1 = lowest, ties share the mean rank
    rank = 1.0 + np.sum(sr_out < v, axis=1) + 0.5 * (np.sum(sr_out == v, axis=1) - 1)
    w = rank / (n + 1)
    logits = np.log(w / (1.0 - w))
    return Pbo(
        pbo=float(np.mean(logits <= 0.0)),
        n_splits=s,
        n_combinations=len(combos),
        n_bars=size * s,
        candidates=names,
        picked={c: int(np.sum(best == j)) for j, c in enumerate(names)},
        median_logit=float(np.median(logits)),
        logits=[float(x) for x in logits],
    )
