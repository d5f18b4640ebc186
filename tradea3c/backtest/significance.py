"""Is the agent's difference from a baseline real? Tests of Sharpe and return differences.

A backtest shows the policy's Sharpe next to buy-and-hold's; on a few hundred bars a gap of 0.3 is
well inside the noise. These tests give the gap a standard error and a two-sided p-value (the
chance of a gap at least this large if the two strategies had the same true Sharpe), computed on
the two *aligned* per-bar return series of the same bars (so their correlation, usually high for
an agent and its market, shrinks the error: the reason to test the difference, not each Sharpe).

* `sharpe_difference`: Ledoit & Wolf (2008), "Robust performance hypothesis testing with the
  Sharpe ratio". The Sharpe difference is a smooth function of four moments
  (E[a], E[b], E[a^2], E[b^2]); the delta method turns their long-run (HAC) covariance into the
  difference's variance, which stays valid under fat tails, volatility clustering and serial
  correlation, unlike the iid Jobson-Korkie/Memmel formula. ``method="bootstrap"`` is their
  studentised circular block bootstrap, better in small samples.
* `active_stats`: the information ratio, tracking error and annualised active return of
  ``a - b``, and a HAC t-test of the mean active return.
* `spa_test`: Hansen's (2005) test of superior predictive ability: does *any* of several
  candidates beat the benchmark? Testing many candidates one by one at 5% finds a winner by luck;
  the SPA p-value accounts for the search.
* `pooled_test`: across tickers, a paired t-test of the per-ticker Sharpe differences and the HAC
  test of the equal-weight portfolios.

The long-run variances come from `arch.covariance.kernel` (automatic bandwidth, Andrews 1991 /
Newey & West 1994), the bootstraps and the SPA from `arch.bootstrap`; arch and scipy are imported
inside the functions (arch takes seconds to import). Sharpe ratios are annualised as
`tradea3c.metrics.sharpe_ratio` does (mean / sample std * sqrt(periods), 0 for a flat series); a
flat leg (cash, a rule that never trades) has no sampling error and enters as the constant 0. The
results are frozen dataclasses, serialisable by `tradea3c.atomic.json_safe` (NaN -> null).

Example (two years of daily bars; ``a`` is ``b`` plus a steady edge, daily Sharpe about 0.2 vs 0.03)::

    >>> rng = np.random.default_rng(0)
    >>> b = rng.normal(0.0003, 0.01, 504)
    >>> a = b + rng.normal(0.002, 0.005, 504)
    >>> sd = sharpe_difference(a, b)
    >>> sd.diff > 0 and sd.p_value < 0.05
    True
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from tradea3c.metrics import PERIODS_PER_YEAR, sharpe_ratio

Method = Literal["hac", "bootstrap"]
Kernel = Literal["parzen", "bartlett"]

MIN_BARS = 8
"""Fewer aligned bars than this: no test (standard error and p-value NaN)."""
FLAT = 1e-12
"""A series whose sample std is at most this is flat (its Sharpe is 0, as in `tradea3c.metrics`)."""


@dataclass(frozen=True)
class SharpeDiff:
    """Annualised Sharpe(a) - Sharpe(b) with its standard error and two-sided p-value."""

    diff: float
    se: float
    """Standard error of ``diff`` (annualised, like it); the bootstrap reports the HAC one."""
    p_value: float
    """Two-sided p-value of H0: equal Sharpe ratios (NaN when untestable)."""
    method: str
    """"hac" (Ledoit-Wolf delta method) or "bootstrap" (studentised circular block bootstrap)."""
    n: int
    """Aligned bars tested."""
    sharpe_a: float = 0.0
    sharpe_b: float = 0.0
    bandwidth: float = 0.0
    """The HAC kernel's bandwidth (hac) or the bootstrap's block length (bootstrap), in bars."""


@dataclass(frozen=True)
class ActiveStats:
    """The active series ``a - b``: what a manager is judged on against a benchmark."""

    active_return: float
    """Mean of ``a - b`` times bars a year (arithmetic, not compounded)."""
    tracking_error: float
    """Sample std of ``a - b`` times sqrt(bars a year)."""
    information_ratio: float
    """active_return / tracking_error (0 when the tracking error is 0)."""
    t_stat: float
    """Mean active return over its HAC standard error."""
    p_value: float
    """Two-sided p-value of H0: mean active return 0."""
    n: int


@dataclass(frozen=True)
class Comparison:
    """One strategy against one baseline: the Sharpe difference (HAC) and the active statistics."""

    sharpe: SharpeDiff
    active: ActiveStats


@dataclass(frozen=True)
class Spa:
    """Hansen's SPA test of "some candidate has a higher mean return than the benchmark"."""

    p_value: float
    """The consistent p-value (Hansen 2005): small = at least one candidate beats the benchmark."""
    p_lower: float
    p_upper: float
    """The bounds: ``p_upper`` is White's (2000) Reality Check, conservative with poor candidates."""
    better: list[str]
    """Candidates whose mean return beats the benchmark's at 5% (consistent critical value)."""
    n_candidates: int
    n: int
    block_size: int
    reps: int


@dataclass(frozen=True)
class Pooled:
    """An agent against a baseline across tickers (pairs): two complementary tests.

    The paired t-test treats each ticker's Sharpe difference as one observation (it asks "is the
    average ticker better?" and ignores the bars' noise within a ticker); the portfolio test asks
    whether holding the agent on every ticker (equal weights) beats holding the baseline on every
    ticker, on the bars themselves."""

    n_pairs: int
    mean_diff: float
    """Mean over pairs of the annualised Sharpe differences."""
    std_diff: float
    t_stat: float
    p_value: float
    """Two-sided p-value of the paired t-test (NaN with fewer than 2 pairs)."""
    portfolio: SharpeDiff
    """HAC Sharpe difference of the equal-weight portfolios (series cut to a common length)."""


def _arr(x: object) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def _aligned(a: object, b: object) -> tuple[np.ndarray, np.ndarray]:
    a, b = _arr(a).ravel(), _arr(b).ravel()
    if len(a) != len(b):
        raise ValueError(f"the return series must be aligned (same bars): {len(a)} != {len(b)}")
    return a, b


def _normal_p(z: float) -> float:
    """Two-sided normal p-value of a z statistic."""
    from scipy.stats import norm

    return float(2.0 * norm.sf(abs(z)))


def _p_of(stat: float, se: float) -> float:
    """Two-sided p-value of ``stat`` with standard error ``se``: 1 for a 0 difference with no error,
    NaN for a difference with no error (nothing to test it against)."""
    if not np.isfinite(se) or not np.isfinite(stat):
        return math.nan
    if se <= FLAT * 1e-6:
        return 1.0 if abs(stat) <= 1e-9 else math.nan
    return _normal_p(stat / se)


def long_run_variance(
    x: np.ndarray, kernel: Kernel = "parzen", bandwidth: float | None = None
) -> tuple[float, float]:
    """(long-run variance, bandwidth) of a 1-D series: arch's kernel estimator, demeaned, with the
    automatic bandwidth unless ``bandwidth`` is given (0: the plain iid variance, ddof=0); the
    variance of its mean is this / len(x). (0, 0) for a constant series."""
    from arch.covariance.kernel import Bartlett, Parzen

    x = _arr(x)
    if len(x) < 2 or np.ptp(x) <= FLAT:
        return 0.0, 0.0
    est = (Parzen if kernel == "parzen" else Bartlett)(x, bandwidth=bandwidth)
    return max(float(np.asarray(est.cov.long_run)[0, 0]), 0.0), float(est.bandwidth)


def _moment_series(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The four moment series y_t = (a_t, b_t, a_t^2, b_t^2) whose means the Sharpe ratios are of."""
    return np.column_stack([a, b, a * a, b * b])


def _sharpes(m: np.ndarray, live: tuple[bool, bool]) -> tuple[np.ndarray, np.ndarray]:
    """Per-bar (SR_a, SR_b) = mu / sqrt(m2 - mu^2) of moment vectors ``m[..., 4]`` (means of
    `_moment_series`); a flat leg (not ``live``, or variance ~0) has the constant Sharpe 0."""
    out = []
    for i in (0, 1):
        mu, var = m[..., i], m[..., i + 2] - m[..., i] ** 2
        ok = live[i] & (var > FLAT * FLAT)
        out.append(np.where(ok, mu / np.sqrt(np.where(ok, var, 1.0)), 0.0))
    return out[0], out[1]


def _gradient(m: np.ndarray, live: tuple[bool, bool]) -> np.ndarray:
    """d(SR_a - SR_b) / d(E[a], E[b], E[a^2], E[b^2]) at moment vectors ``m[..., 4]``:
    dSR/dmu = m2 / var^1.5, dSR/dm2 = -mu / (2 var^1.5), with the sign of each leg; a flat leg's
    entries are 0."""
    g = np.zeros(m.shape)
    for i, sign in ((0, 1.0), (1, -1.0)):
        mu, m2 = m[..., i], m[..., i + 2]
        var = m2 - mu * mu
        ok = live[i] & (var > FLAT * FLAT)
        v15 = np.where(ok, var, 1.0) ** 1.5
        g[..., i] = np.where(ok, sign * m2 / v15, 0.0)
        g[..., i + 2] = np.where(ok, -sign * 0.5 * mu / v15, 0.0)
    return g


def _live(a: np.ndarray, b: np.ndarray) -> tuple[bool, bool]:
    return bool(np.std(a, ddof=1) > FLAT), bool(np.std(b, ddof=1) > FLAT)


def _hac_se(
    a: np.ndarray, b: np.ndarray, kernel: Kernel, bandwidth: float | None = None
) -> tuple[float, float]:
    """(per-bar standard error of SR_a - SR_b, bandwidth): the delta method, sqrt(g' Psi g / n),
    with Psi the HAC long-run covariance of the four moment series (`_moment_series`) and g the
    gradient at their means. g' Psi g is computed as the long-run variance of the linearised
    series g' y_t: the same number for a common bandwidth, and the automatic bandwidth is then
    chosen for the one series whose variance is wanted."""
    y = _moment_series(a, b)
    g = _gradient(y.mean(0), _live(a, b))
    if not g.any():
        return 0.0, 0.0
    lrv, bw = long_run_variance(y @ g, kernel, bandwidth)
    return math.sqrt(lrv / len(a)), bw


def _block_length(x: np.ndarray, column: Literal["circular", "stationary"]) -> int:
    """Politis-White (2004, corrected 2009) optimal block length (`arch.bootstrap.
    optimal_block_length`), the largest over the non-constant columns of ``x``: the block must
    be long enough for the most persistent moment (squared returns cluster). At most n / 4."""
    from arch.bootstrap import optimal_block_length

    x = np.atleast_2d(x.T).T
    x = x[:, np.ptp(x, axis=0) > 0]
    if x.shape[1] == 0:
        return 1
    best = float(np.nanmax(optimal_block_length(x)[column].to_numpy()))
    best = best if np.isfinite(best) else 1.0
    return int(min(max(math.ceil(best), 1), max(len(x) // 4, 1)))


BOOTSTRAP_BATCH = 64
"""Resamples evaluated together (vectorised); bounds the memory to 64 x n x 4 floats."""


def _bootstrap_p(a: np.ndarray, b: np.ndarray, se: float, reps: int, seed: int) -> tuple[float, int]:
    """(p-value, block length) of Ledoit & Wolf's (2008, section 3.2) studentised circular block
    bootstrap.

    The pairs (a_t, b_t) are resampled jointly in blocks by `arch.bootstrap.CircularBlockBootstrap`
    (keeping their correlation and the serial dependence within a block). Each resample's
    statistic |d* - d| / s* uses the standard error natural to the block bootstrap,
    s*^2 = mean_j(zeta_j^2) / n with zeta_j the sum of the linearised series g*' (y*_t - mean y*)
    over block j, divided by sqrt(block); the original's |d| / s uses the HAC one;
    p = (1 + #{resample statistic >= original statistic}) / (reps + 1)."""
    from arch.bootstrap import CircularBlockBootstrap

    y = _moment_series(a, b)
    live = _live(a, b)
    block = _block_length(y[:, [i for i in range(4) if live[i % 2]]], "circular")
    n = len(a)
    n_blocks = n // block
    sa, sb = _sharpes(y.mean(0), live)
    d = float(sa - sb)
    bs = CircularBlockBootstrap(block, y, seed=seed)
    t_star = []
    for start in range(0, reps, BOOTSTRAP_BATCH):
        idx = np.stack([bs.update_indices() for _ in range(min(BOOTSTRAP_BATCH, reps - start))])
        ys = y[idx]  # (batch, n, 4): every resample of the moment series
        m = ys.mean(1)
        sa, sb = _sharpes(m, live)
        psi = np.einsum("rnk,rk->rn", ys - m[:, None, :], _gradient(m, live))
        zeta = psi[:, : n_blocks * block].reshape(len(idx), n_blocks, block).sum(2) / math.sqrt(block)
        with np.errstate(divide="ignore", invalid="ignore"):
            t_star.append(np.abs(sa - sb - d) / np.sqrt(np.mean(zeta * zeta, 1) / n))
    t0 = abs(d) / se if se > 0 else (0.0 if d == 0 else math.inf)
    exceed = int(np.sum(~(np.concatenate(t_star) < t0)))  # NaN (0/0) counts as exceeding: conservative
    return float((1 + exceed) / (reps + 1)), block


def sharpe_difference(
    a: object,
    b: object,
    periods_per_year: float = PERIODS_PER_YEAR,
    method: Method = "hac",
    *,
    kernel: Kernel = "parzen",
    bandwidth: float | None = None,
    reps: int = 1000,
    seed: int = 0,
) -> SharpeDiff:
    """Annualised Sharpe(a) - Sharpe(b) of two aligned per-bar return series, with a two-sided
    p-value of "equal Sharpe ratios".

    ``method="hac"``: Ledoit & Wolf's (2008) delta method with a HAC covariance (``kernel``:
    Parzen, as in their paper, or Bartlett/Newey-West; automatic bandwidth unless ``bandwidth``
    is given, 0 giving the iid delta method) and a normal p-value.
    ``method="bootstrap"``: their studentised circular block bootstrap (``reps`` resamples, block
    length by Politis-White, reproducible from ``seed``); more accurate when n is small or the
    tails fat, and seconds slower. Fewer than `MIN_BARS` bars: se and p-value NaN.

    The difference is that of `tradea3c.metrics.sharpe_ratio` (sample std, ddof=1); the standard
    error uses the population moments (ddof=0), a difference of order 1/n.

    >>> sd = sharpe_difference([0.01, -0.01] * 50, [0.0] * 100)  # vs cash: Sharpe 0 vs 0
    >>> sd.diff, sd.p_value
    (0.0, 1.0)
    """
    if method not in ("hac", "bootstrap"):
        raise ValueError(f"method {method!r}: use 'hac' or 'bootstrap'")
    a, b = _aligned(a, b)
    n, root = len(a), math.sqrt(periods_per_year)
    sa, sb = sharpe_ratio(a, periods_per_year), sharpe_ratio(b, periods_per_year)
    if n < MIN_BARS:
        return SharpeDiff(sa - sb, math.nan, math.nan, method, n, sa, sb)
    se, bw = _hac_se(a, b, kernel, bandwidth)
    if method == "hac":
        p = _p_of(sa - sb, se * root)
    else:
        p, block = _bootstrap_p(a, b, se, reps, seed)
        bw = float(block)
        if se <= 0.0 and abs(sa - sb) <= 1e-9:
            p = 1.0
    return SharpeDiff(sa - sb, se * root, p, method, n, sa, sb, bw)


def active_stats(
    a: object, b: object, periods_per_year: float = PERIODS_PER_YEAR, *, kernel: Kernel = "parzen"
) -> ActiveStats:
    """Information ratio, tracking error, annualised active return of ``a - b`` and the HAC t-test
    of its mean (``kernel`` as in `sharpe_difference`).

    The information ratio is the Sharpe ratio of the active series; unlike the Sharpe difference
    it rewards a strategy that beats its benchmark steadily even when both Sharpe ratios are equal
    (e.g. the benchmark at 1.5x leverage is not "better" on Sharpe but has an active return)."""
    a, b = _aligned(a, b)
    d, n = a - b, len(a)
    mean = float(np.mean(d)) if n else 0.0
    te = float(np.std(d, ddof=1) * math.sqrt(periods_per_year)) if n > 1 else 0.0
    ir = sharpe_ratio(d, periods_per_year)
    if n < MIN_BARS:
        return ActiveStats(mean * periods_per_year, te, ir, math.nan, math.nan, n)
    lrv, _ = long_run_variance(d, kernel)
    se = math.sqrt(lrv / n)
    t = mean / se if se > 0 else (0.0 if abs(mean) <= 1e-15 else math.nan)
    return ActiveStats(mean * periods_per_year, te, ir, t, _p_of(mean, se), n)


def compare(a: object, b: object, periods_per_year: float = PERIODS_PER_YEAR) -> Comparison:
    """`sharpe_difference` (HAC) and `active_stats` of ``a`` against the baseline ``b``."""
    return Comparison(sharpe_difference(a, b, periods_per_year), active_stats(a, b, periods_per_year))


def spa_test(
    candidates: Mapping[str, object],
    benchmark: object,
    *,
    reps: int = 1000,
    seed: int = 0,
    block_size: int | None = None,
) -> Spa:
    """Hansen's SPA (`arch.bootstrap.SPA`): H0 "no candidate has a higher mean per-bar return than
    the benchmark", on losses = -returns, with the stationary bootstrap (``reps`` resamples,
    ``block_size`` by Politis-White on the loss differentials unless given, seeded).

    Use it after trying many candidates (seeds, configurations, rules) against one benchmark: the
    best of them beats the benchmark by luck alone, and the SPA p-value allows for it. It tests
    mean returns, not Sharpe ratios (compare candidates of similar risk, or volatility-scaled
    returns)."""
    import pandas as pd
    from arch.bootstrap import SPA

    if not candidates:
        raise ValueError("spa_test needs at least one candidate")
    bench = _arr(benchmark).ravel()
    models = pd.DataFrame({k: _arr(v).ravel() for k, v in candidates.items()})
    if len(models) != len(bench):
        raise ValueError(f"the candidates have {len(models)} bars, the benchmark {len(bench)}")
    if block_size is None:
        block_size = _block_length((models.to_numpy() - bench[:, None]), "stationary")
    spa = SPA(-bench, -models, block_size=block_size, reps=reps, bootstrap="stationary", seed=seed)
    spa.compute()
    pv = spa.pvalues
    names = list(candidates)
    better = [c if isinstance(c, str) else names[int(c)] for c in spa.better_models(0.05, "consistent")]
    return Spa(
        float(pv["consistent"]),
        float(pv["lower"]),
        float(pv["upper"]),
        better,
        models.shape[1],
        len(bench),
        int(block_size),
        reps,
    )


def _agent_sharpe(agent: np.ndarray, periods: float) -> float:
    """An agent's Sharpe on one ticker: one series, or the mean over several (seeds, one per row)."""
    return float(np.mean([sharpe_ratio(r, periods) for r in np.atleast_2d(agent)]))


def pooled_test(
    pairs: Sequence[tuple[object, object]],
    periods_per_year: float = PERIODS_PER_YEAR,
    *,
    blocks: Sequence[int] | None = None,
) -> Pooled:
    """An agent against a baseline across several tickers: ``pairs`` = per ticker (agent returns,
    baseline returns), aligned within each pair. An agent may be 2-D (one row per seed): its
    Sharpe on that ticker is then the mean of the seeds' and its portfolio leg holds every seed
    alike.

    (a) paired t-test (`scipy.stats.ttest_1samp` of the differences, i.e. ``ttest_rel``) of the
    per-ticker Sharpe differences; (b) `sharpe_difference` (HAC) of the equal-weight portfolio of
    the agents against that of the baselines (rebalanced every bar), each cut to the pairs'
    shortest length. ``blocks``: a label per pair (walk-forward folds): the portfolios are built
    within each block and the blocks' series concatenated in sorted label order.

    >>> rng = np.random.default_rng(1)
    >>> pairs = [(rng.normal(0.001, 0.01, 300), rng.normal(0.0, 0.01, 300)) for _ in range(5)]
    >>> pooled_test(pairs).n_pairs
    5
    """
    from scipy.stats import ttest_1samp

    if not pairs:
        raise ValueError("pooled_test needs at least one (agent, baseline) pair")
    agents = [np.atleast_2d(_arr(ag)) for ag, _ in pairs]
    bases = [_arr(bs).ravel() for _, bs in pairs]
    for ag, bs in zip(agents, bases, strict=True):
        if ag.shape[1] != len(bs):
            raise ValueError(f"an agent's {ag.shape[1]} bars do not align with its baseline's {len(bs)}")
    diffs = np.array(
        [
            _agent_sharpe(ag, periods_per_year) - sharpe_ratio(bs, periods_per_year)
            for ag, bs in zip(agents, bases, strict=True)
        ]
    )
    k = len(diffs)
    mean = float(np.mean(diffs))
    sd = float(np.std(diffs, ddof=1)) if k > 1 else math.nan
    if k < 2:
        t, p = math.nan, math.nan
    elif sd <= FLAT:
        t, p = (0.0, 1.0) if abs(mean) <= FLAT else (math.nan, math.nan)
    else:
        res = ttest_1samp(diffs, 0.0)
        t, p = float(res.statistic), float(res.pvalue)
    labels = list(blocks) if blocks is not None else [0] * k
    if len(labels) != k:
        raise ValueError(f"blocks has {len(labels)} labels for {k} pairs")
    port_a, port_b = [], []
    for label in sorted(set(labels)):
        idx = [i for i in range(k) if labels[i] == label]
        n = min(len(bases[i]) for i in idx)
        port_a.append(np.mean([agents[i][:, :n].mean(0) for i in idx], axis=0))
        port_b.append(np.mean([bases[i][:n] for i in idx], axis=0))
    portfolio = sharpe_difference(np.concatenate(port_a), np.concatenate(port_b), periods_per_year)
    return Pooled(k, mean, sd, t, p, portfolio)
