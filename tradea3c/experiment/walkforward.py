"""Walk-forward evaluation: train on each fold's past, test on its future, chain the test returns.

The bars are cut into ``folds + 1`` equal blocks. Fold k (1..folds) tests on block k (its base bar
is the last bar of block k - 1, so the chained out-of-sample returns are contiguous); it trains on
blocks 0..k-1 (anchored) or block k-1 only (rolling), the last ``val_frac`` of that window being
its validation range (which picks its best.pt). Each fold is a normal run directory under ``out``,
backtested with `backtest_run`, so folds pay the same costs as everything else. A training driver
(it trains, then scores with the backtester), hence in `experiment`, above `backtest`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradea3c.atomic import atomic_write_json
from tradea3c.backtest.baselines import baselines
from tradea3c.backtest.curve import Curve
from tradea3c.backtest.engine import BacktestError
from tradea3c.backtest.runner import backtest_run
from tradea3c.data.market import Market
from tradea3c.data.spec import load_market_spec
from tradea3c.envs.config import EnvConfig
from tradea3c.experiment.strategy import SplitSpec, StrategyConfig
from tradea3c.experiment.train import train_strategy
from tradea3c.features.indicators import INDICATORS
from tradea3c.metrics import Stats


@dataclass(frozen=True)
class FoldBounds:
    train_lo: int  # first bar of the training window
    train_end: int  # last training bar
    val_end: int  # last validation bar = base bar of the test
    test_end: int  # last test bar


MIN_TRAIN_BARS = 64
"""Training bars a fold needs at least when the strategy is not known (`fold_bounds`' default):
enough for every default feature to warm up; `min_train_bars` is a strategy's own need."""


def min_train_bars(env: EnvConfig) -> int:
    """Bars a training window needs: the slowest feature's warm-up (with its normalisation), one
    observation window and one episode (a walk-forward fold shorter than this cannot train)."""
    f = env.features
    lag = f.norm_min_periods - 1 if f.norm != "none" else 0
    warm = max(INDICATORS[n].warmup + (lag if INDICATORS[n].normalise else 0) for n in f.names)
    return warm + env.window + max(env.episode_length, 1)


def _cut(n_bars: int, folds: int, anchored: bool, val_frac: float, min_train: int) -> list[FoldBounds] | None:
    """The folds, or None when a block is too short (see `fold_bounds`)."""
    edges = np.linspace(0, n_bars - 1, folds + 2).astype(int)
    out = []
    for k in range(1, folds + 1):
        lo = 0 if anchored else int(edges[k - 1])
        ve = int(edges[k])
        te = lo + int((1 - val_frac) * (ve - lo))
        if te - lo + 1 < min_train or ve - te < 2 or edges[k + 1] - ve < 2:
            return None
        out.append(FoldBounds(lo, te, ve, int(edges[k + 1])))
    return out


def fold_bounds(
    n_bars: int, folds: int, *, anchored: bool = True, val_frac: float = 0.2, min_train: int = MIN_TRAIN_BARS
) -> list[FoldBounds]:
    """Bar indices of each fold (see module doc). Every fold needs ``min_train`` training bars (at
    least 2), 2 validation bars and 3 test bars (its base bar and 2 returns); too many folds for
    ``n_bars`` is a one-line `BacktestError` saying how many the data allows."""
    if folds < 1 or not 0 < val_frac < 1:
        raise BacktestError(f"--folds {folds}: need folds >= 1 (and 0 < val_frac < 1)")
    min_train = max(int(min_train), 2)
    out = _cut(n_bars, folds, anchored, val_frac, min_train)
    if out is not None:
        return out
    lo, hi = 0, max(min(folds - 1, n_bars // 3), 0)  # the most folds that still cut (0 = none)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if _cut(n_bars, mid, anchored, val_frac, min_train) is not None:
            lo = mid
        else:
            hi = mid - 1
    need = f"each fold needs {min_train} training bars, 2 validation and 3 test bars"
    if lo == 0:
        raise BacktestError(
            f"--folds {folds}: {n_bars} bars allow no fold ({need}); use a longer market, or a "
            "shorter window / episode_length"
        )
    raise BacktestError(
        f"--folds {folds}: {n_bars} bars allow at most {lo} folds ({need}); use --folds {lo} or fewer"
    )


@dataclass(frozen=True)
class FoldResult:
    fold: int
    train: list[str]
    """[first, last] training dates."""
    val_end: str
    test: list[str]
    """[base date, last date] of the test range."""
    run: str
    label: str
    policy: Stats
    benchmark: Stats


@dataclass(eq=False)
class WalkForwardReport:
    anchored: bool
    folds: list[FoldResult]
    overall: dict[str, Stats]
    """The chained test curves: policy and benchmark."""
    policy: Curve
    benchmark: Curve
    fingerprint: str = ""
    """The market data's fingerprint (for the reproducibility block)."""

    def to_json(self) -> dict[str, Any]:
        keys = ("anchored", "folds", "overall")
        return {**{k: getattr(self, k) for k in keys}, "benchmark": self.benchmark.name}


def _chain(curves: list[Curve]) -> Curve:
    """One curve from consecutive test curves (each starting at equity 1): scale each by the
    equity reached at its start, so returns, costs and turnover stay exact."""
    eq, traded, costs = [np.array([1.0])], [], []
    for c in curves:
        scale = eq[-1][-1] / c.equity[0]
        eq.append(c.equity[1:] * scale)
        traded.append(c.traded * scale)
        costs.append(c.costs * scale)
    cat = np.concatenate
    return Curve(
        "policy",
        cat([curves[0].dates[:1], *(c.dates[1:] for c in curves)]),
        cat(eq),
        cat([c.targets for c in curves]),
        cat([c.weights for c in curves]),
        cat(traded),
        cat(costs),
        cat([c.trades for c in curves]),
        curves[0].periods,
    )


def walkforward(
    strategy: StrategyConfig,
    out: str | Path,
    *,
    folds: int = 3,
    anchored: bool = True,
    steps: int | None = None,
    market: Market | None = None,
    progress: bool = True,
    json_path: str | Path | None = None,
) -> WalkForwardReport:
    """Train and test ``strategy`` (a `StrategyConfig`) on each fold; ``steps`` overrides its budget."""
    market = market if market is not None else load_market_spec(strategy.market)
    bounds = fold_bounds(
        market.n_bars, folds, anchored=anchored, min_train=min_train_bars(strategy.env_config(market))
    )
    a3c = replace(strategy.a3c, total_steps=steps) if steps else strategy.a3c
    day = lambda i: str(pd.Timestamp(market.dates[i]).date())  # noqa: E731
    rows, curves = [], []
    from rich.console import Console
    from rich.progress import Progress

    with Progress(disable=not progress, transient=True, console=Console(stderr=True)) as bar:
        task = bar.add_task("walk-forward folds", total=len(bounds))
        for k, b in enumerate(bounds, 1):
            fold_market = market.take(slice(b.train_lo, b.test_end + 1))
            cfg = replace(strategy, split=SplitSpec(day(b.train_end), day(b.val_end)), a3c=a3c)
            run_dir = Path(out) / f"fold{k}"
            try:
                train_strategy(cfg, run_dir, overwrite=True, progress=False, market=fold_market)
            except ValueError as exc:
                raise BacktestError(f"fold {k} ({day(b.train_lo)}..{day(b.val_end)}): {exc}") from None
            rep = backtest_run(
                run_dir, day(b.val_end), day(b.test_end), costs_bps=(), market=fold_market, rules=[]
            )
            curves.append(rep.policy)
            rows.append(
                FoldResult(
                    fold=k,
                    train=[day(b.train_lo), day(b.train_end)],
                    val_end=day(b.val_end),
                    test=[day(b.val_end), day(b.test_end)],
                    run=str(run_dir),
                    label=rep.label,
                    policy=rep.metrics["policy"],
                    benchmark=rep.metrics[rep.benchmark.name],
                )
            )
            bar.advance(task)
    policy = _chain(curves)
    cfg_env = strategy.env_config(market)
    start = bounds[0].val_end
    bench = baselines(
        market,
        start,
        bounds[-1].test_end - start,
        cfg_env.costs,
        fill=cfg_env.fill,
        latency=cfg_env.latency,
        rules=[],
    )[0]
    if len(bench.equity) != len(policy.equity):
        raise RuntimeError("walk-forward test ranges are not contiguous; please report")
    report = WalkForwardReport(
        anchored,
        rows,
        {"policy": policy.metrics(), bench.name: bench.metrics()},
        policy,
        bench,
        market.fingerprint,
    )
    if json_path is not None:
        atomic_write_json(json_path, report.to_json())
    return report
