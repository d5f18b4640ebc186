"""The probability of backtest overfitting (``tradea3c.backtest.pbo``, CSCV): hand-checked on a case
worked out by hand, and equal to a direct implementation of Bailey et al.'s procedure."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from tradea3c.backtest.pbo import probability_of_backtest_overfitting


def test_pbo_hand_checked() -> None:
    """A and B = -A over 4 blocks of 2 bars with means 3, 2, -1, -1 (values mean +- 1): B is the
    in-sample best only when A's in-sample mean is negative. Of the 6 splits, {1,2} (A best in,
    A worse out: 5 vs -2) and {3,4} (B best in, B worse out) pick a loser: PBO = 2/6."""
    a = np.array([[mk + 1.0, mk - 1.0] for mk in (3, 2, -1, -1)]).ravel()
    res = probability_of_backtest_overfitting(np.c_[a, -a], ["A", "B"], n_splits=4)
    assert res.n_combinations == 6 and res.n_bars == 8
    assert res.pbo == pytest.approx(1 / 3)
    assert res.picked == {"A": 5, "B": 1}
    # logit of rank 1 of 2 (w = 1/3) and rank 2 (w = 2/3)
    assert sorted(set(np.round(res.logits, 12))) == [round(math.log(0.5), 12), round(math.log(2), 12)]
    # a candidate that wins every block never overfits; alternating winners always do
    up = np.array([1.0, 3.0] * 4)
    assert probability_of_backtest_overfitting(np.c_[up, up - 1.5], n_splits=4).pbo == 0.0
    alt = np.array([2.0, 1.0, 2.0, 1.0, -1.0, -2.0, -1.0, -2.0])
    assert probability_of_backtest_overfitting(np.c_[alt, -alt], n_splits=2).pbo == 1.0
    with pytest.raises(ValueError):
        probability_of_backtest_overfitting(np.c_[a], n_splits=4)


def test_pbo_matches_a_direct_implementation() -> None:
    rng = np.random.default_rng(7)
    m = rng.standard_normal((63, 5)) * 0.01 + np.array([0, 1e-3, 2e-3, 0, -1e-3])
    m[:, 3] = 0.0  # a flat candidate (cash) has Sharpe 0
    res = probability_of_backtest_overfitting(m, n_splits=6)
    used = m[3:]  # 63 bars -> 6 blocks of 10, the first 3 dropped
    blocks = np.split(used, 6)

    def sharpe(x: np.ndarray) -> np.ndarray:
        sd = x.std(axis=0, ddof=1)
        return np.where(sd > 0, x.mean(axis=0) / np.where(sd > 0, sd, 1), 0.0)

    overfit = []
    for combo in itertools.combinations(range(6), 3):
        ins = np.vstack([blocks[i] for i in combo])
        outs = np.vstack([blocks[i] for i in range(6) if i not in combo])
        best = int(np.argmax(sharpe(ins)))
        so = sharpe(outs)
        rank = 1 + np.sum(so < so[best]) + 0.5 * (np.sum(so == so[best]) - 1)
        overfit.append(rank / 6 <= 0.5)
    assert res.n_combinations == 20 and res.pbo == pytest.approx(np.mean(overfit))
