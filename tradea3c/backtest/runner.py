"""`backtest_run`: checkpoint(s) -> policy vs baselines, cost sweep, seeds + DSR, significance: one report.

The one library call behind ``tradea3c backtest`` (and the demo's tear sheet), assembled from
small steps; the caller writes the files (`results.write_json`, `report.write_html`).
Cost sweep semantics: each level ``c`` (bps) replaces the strategy's whole cost config by a flat
``c`` bps per side on traded notional (commission = c, spread = slippage = ATR slippage = 0), for
the policy (re-run, since its observations include its own equity) and every baseline alike.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradea3c.backtest.baselines import RuleConfig, baselines, load_rules
from tradea3c.backtest.curve import Curve, market_periods, ruin_warning
from tradea3c.backtest.dsr import deflated_sharpe_of
from tradea3c.backtest.engine import (
    BacktestError,
    BarRange,
    LoadedPolicy,
    ensemble_policy,
    load_policy,
    policy_curve,
    resolve_range,
)
from tradea3c.backtest.pbo import Pbo, probability_of_backtest_overfitting
from tradea3c.backtest.provenance import provenance
from tradea3c.backtest.results import BacktestReport, CostLevel, Fingerprint, SeedRun, SeedTable, Spread
from tradea3c.backtest.significance import Comparison, compare
from tradea3c.data.market import Market
from tradea3c.envs.execution import CostConfig
from tradea3c.metrics import Stats

log = logging.getLogger(__name__)

DEFAULT_COSTS_BPS: tuple[float, ...] = (0.0, 5.0, 10.0, 25.0)
SEED_KEYS = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "turnover")


def flat_costs(bps: float) -> CostConfig:
    """The cost config of one sweep level: ``bps`` per side of traded notional, nothing else."""
    return CostConfig(commission_bps=float(bps), half_spread_bps=0.0, slippage_bps=0.0, slippage_atr=0.0)


def _day(x: Any) -> str:
    return str(pd.Timestamp(x).date())


def policy_and_baselines(
    pol: LoadedPolicy,
    market: Market,
    rng: BarRange,
    costs: CostConfig | None = None,
    *,
    greedy: bool = True,
    seed: int = 0,
    rules: list[RuleConfig] | None = None,
) -> list[Curve]:
    """The policy's curve, then every baseline's over the same bars with the same costs."""
    pc = policy_curve(pol, market, rng, costs, greedy=greedy, seed=seed)
    cfg = pol.env_config
    start = int(np.searchsorted(market.dates, pc.dates[0]))
    base = baselines(
        market,
        start,
        len(pc.costs),
        costs or cfg.costs,
        fill=cfg.fill,
        latency=cfg.latency,
        initial_equity=cfg.initial_equity,
        rules=rules,
    )
    return [pc, *base]


def policy_market(
    pol: LoadedPolicy, market: Market | None, warnings: list[str], ticker: str | None = None
) -> Market:
    """The market a policy was trained on (loaded from its stored spec unless given); refuses other
    tickers, warns when the data changed since training.

    ``ticker``: score a one-asset policy on that ticker alone (of ``market`` or of the policy's
    own market): how a policy trained across a universe is scored per ticker, including tickers it
    never saw (a warning says so); the identity and fingerprint checks then do not apply."""
    if market is None:
        from tradea3c.data import DataError
        from tradea3c.data.spec import load_market_spec

        spec = pol.market_spec
        if ticker is not None and pol.tickers and ticker not in pol.tickers:  # unseen: from the same cache
            spec = replace(spec, source=ticker, max_tickers=None)
        try:
            market = load_market_spec(spec)
        except (DataError, FileNotFoundError, ValueError) as exc:
            raise BacktestError(f"{pol.path}: cannot load its market ({exc}); fetch the data first") from None
    if ticker is not None:
        if pol.kind != "market":
            raise BacktestError(f"{pol.path}: --ticker scores one-asset policies; this one is {pol.kind!r}")
        if ticker not in market.tickers:
            raise BacktestError(f"--ticker {ticker}: not in the market ({', '.join(market.tickers[:10])}...)")
        if ticker not in pol.tickers:
            warnings.append(f"{ticker} was not in the policy's training universe (unseen ticker)")
        return market.select(ticker) if market.n_assets > 1 else market
    if pol.tickers and tuple(market.tickers) != pol.tickers:
        raise BacktestError(
            f"{pol.path}: trained on {list(pol.tickers)} but the market now holds "
            f"{list(market.tickers)}; restore the data the run was trained on (or pass --ticker)"
        )
    if pol.fingerprint and market.fingerprint != pol.fingerprint:
        warnings.append(
            f"market data changed since training (fingerprint {pol.fingerprint} -> "
            f"{market.fingerprint}): results use the current data"
        )
    return market


def common_range(
    policies: list[LoadedPolicy], market: Market, start: str | None, end: str | None, allow_in_sample: bool
) -> BarRange:
    """The bars every seed is scored on: the first policy's range, in-sample if it is for any seed."""
    first = policies[0]
    rng = resolve_range(market, first.split, start, end, allow_in_sample)
    for other in policies[1:]:
        if other.tickers != first.tickers or other.kind != first.kind:
            raise BacktestError(
                f"{other.path}: trades {list(other.tickers)} ({other.kind}), not like "
                f"{first.path}; seeds must share one strategy"
            )
        d0, d1 = _day(market.dates[rng.lo]), _day(market.dates[rng.hi])
        other_in = resolve_range(market, other.split, d0, d1, allow_in_sample).in_sample
        rng = BarRange(rng.lo, rng.hi, rng.in_sample or other_in)
    return rng


def cost_sweep(
    pol: LoadedPolicy,
    market: Market,
    rng: BarRange,
    levels: Sequence[float],
    *,
    greedy: bool = True,
    seed: int = 0,
    rules: list[RuleConfig] | None = None,
) -> list[CostLevel]:
    out = []
    for bps in levels:
        log.debug(f"cost sweep: {bps:g} bps")
        curves = policy_and_baselines(
            pol, market, rng, flat_costs(bps), greedy=greedy, seed=seed, rules=rules
        )
        out.append(CostLevel(float(bps), {c.name: c.metrics() for c in curves}))
    return out


def seed_curves(
    policies: list[LoadedPolicy],
    market: Market,
    rng: BarRange,
    first: Curve | None,
    *,
    greedy: bool = True,
    seed: int = 0,
) -> list[Curve]:
    """Each policy's curve over ``rng`` (``first``: the first policy's, if already run)."""
    todo = policies if first is None else policies[1:]
    return [
        *([] if first is None else [first]),
        *(policy_curve(p, market, rng, greedy=greedy, seed=seed) for p in todo),
    ]


def seed_table_of(
    policies: list[LoadedPolicy], curves: list[Curve], n_trials: int | None = None
) -> SeedTable:
    """The seed table of the policies' curves (`seed_curves`)."""
    runs = [SeedRun(str(p.path), p.seed, c.metrics()) for p, c in zip(policies, curves, strict=True)]
    summary = {k: Spread.of([getattr(r.stats, k) for r in runs]) for k in SEED_KEYS}
    dsr = deflated_sharpe_of([c.returns for c in curves], n_trials)
    return SeedTable(runs, summary, dsr, runs[dsr.best_trial].run)


def tuned_trials(policies: Sequence[LoadedPolicy]) -> int:
    """The trial count a tuning search (`tradea3c tune`) recorded in the policies' training
    strategies (``tuning.trials``; the largest of them), 0 when none was tuned."""
    return max((int((p.strategy.get("tuning") or {}).get("trials") or 0) for p in policies), default=0)


def pbo_of(
    policies: list[LoadedPolicy], seed_curves_: list[Curve], curves: list[Curve], ensemble: bool
) -> Pbo | None:
    """CSCV PBO over the candidates' per-bar returns: [the ensemble,] each seed-table curve, then
    each baseline (`BacktestReport.pbo`); None with fewer than 2 candidates or 4 bars."""
    names = [f"seed {p.seed} ({Path(p.path).parent.name or p.path})" for p in policies]
    cols = [c.returns for c in seed_curves_]
    if ensemble:
        names, cols = ["ensemble", *names], [curves[0].returns, *cols]
    elif len(policies) == 1:
        names = ["policy"]
    names += [c.name for c in curves[1:]]
    cols += [c.returns for c in curves[1:]]
    names = [n if names.count(n) == 1 else f"{n} #{i}" for i, n in enumerate(names)]
    if len(cols) < 2 or len(cols[0]) < 4:
        return None
    return probability_of_backtest_overfitting(np.column_stack(cols), names)


def significance_of(curves: list[Curve], periods: float) -> dict[str, Comparison]:
    """The policy (``curves[0]``) against each baseline, by name: HAC Sharpe difference and active
    statistics of the per-bar returns (`BacktestReport.significance`)."""
    policy = curves[0].returns
    return {c.name: compare(policy, c.returns, periods) for c in curves[1:]}


def date_ranges(pol: LoadedPolicy, market: Market, backtest: Curve) -> dict[str, list[str]]:
    sp, d = pol.split, market.dates
    te, ve = np.datetime64(pd.Timestamp(sp.train_end), "ns"), np.datetime64(pd.Timestamp(sp.val_end), "ns")
    after = d[d > ve]
    return {
        "train": [_day(d[0]), sp.train_end],
        "val": [_day(d[d > te][0]) if (d > te).any() else sp.train_end, sp.val_end],
        "test": [_day(after[0]), _day(after[-1])] if len(after) else [],
        "backtest": [_day(backtest.dates[0]), _day(backtest.dates[-1])],
    }


def backtest_run(
    runs: str | Path | Sequence[str | Path],
    start: str | None = None,
    end: str | None = None,
    *,
    costs_bps: Sequence[float] = DEFAULT_COSTS_BPS,
    allow_in_sample: bool = False,
    greedy: bool = True,
    seed: int = 0,
    n_trials: int | None = None,
    market: Market | None = None,
    rules: list[RuleConfig] | None = None,
    ensemble: bool = False,
    ticker: str | None = None,
    command: str | None = None,
    vote: bool = False,
) -> BacktestReport:
    """Backtest a run directory or checkpoint (several = seeds of one config; the first is reported,
    all enter the seed table and the DSR) over ``start..end`` (default: the test range after the
    checkpoint's val_end), against baselines with the same costs.

    ``ensemble=True``: the runs (2 or more) are averaged into one policy (`ensemble_policy`) that
    is reported as "policy"; its default range starts after the latest member's val_end, and the
    seed table and DSR list each member's own curve (value-based members: their Q-values are
    averaged; ``vote``: each member's greedy action is one vote). ``ticker``: score a one-asset policy on one
    ticker (see `policy_market`). ``n_trials``: configurations tried, for the DSR (default: the
    ``tuning.trials`` a `tradea3c tune` search recorded in the runs' strategy, else the number of
    runs). ``command``: the command line for the reproducibility block
    (default: this process's, `provenance.command_line`)."""
    paths = [runs] if isinstance(runs, str | Path) else list(runs)
    if not paths:
        raise BacktestError("no run given; pass a run directory or checkpoint")
    if n_trials is not None and n_trials < 0:
        raise BacktestError(f"n_trials {n_trials}: the number of configurations tried is >= 1 (0 = the runs)")
    rules = load_rules() if rules is None else rules  # a bad rule file fails here, before any work
    policies = [load_policy(p) for p in paths]
    if n_trials is None and tuned_trials(policies):  # a tuned strategy: every trial of its search counts
        n_trials = max(tuned_trials(policies), len(policies))
    if vote and not ensemble:
        raise BacktestError("vote combines an ensemble's members: pass it with ensemble (--ensemble)")
    pol, warnings = (ensemble_policy(policies, vote) if ensemble else policies[0]), []
    market = policy_market(pol, market, warnings, ticker)
    if ensemble:
        for member in policies[1:]:
            policy_market(member, market, warnings, ticker)
        warnings = list(dict.fromkeys(warnings))
    rng = common_range([pol, *policies] if ensemble else policies, market, start, end, allow_in_sample)
    curves = policy_and_baselines(pol, market, rng, greedy=greedy, seed=seed, rules=rules)
    metrics: dict[str, Stats] = {c.name: c.metrics() for c in curves}
    sweep = cost_sweep(pol, market, rng, costs_bps, greedy=greedy, seed=seed, rules=rules)
    s_curves = seed_curves(policies, market, rng, None if ensemble else curves[0], greedy=greedy, seed=seed)
    ruins = [ruin_warning(curves[0])]
    if len(policies) > 1:
        ruins += [
            ruin_warning(c, f"seed {p.seed} ({p.path})") for p, c in zip(policies, s_curves, strict=True)
        ]
    warnings += [w for w in dict.fromkeys(ruins) if w is not None and w not in warnings]
    run_dir = pol.path.parent if pol.path.is_file() else pol.path
    periods = market_periods(market)
    return BacktestReport(
        label=rng.label,
        checkpoint=pol.label,
        members=[str(p) for p in pol.members],
        strategy=pol.strategy,
        env_kind=pol.kind,
        tickers=list(market.tickers),
        fingerprint=Fingerprint(pol.fingerprint, market.fingerprint),
        ranges=date_ranges(pol, market, curves[0]),
        costs={k: float(v) for k, v in vars(pol.env_config.costs).items()},
        metrics=metrics,
        cost_sweep=sweep,
        seeds=seed_table_of(policies, s_curves, n_trials),
        warnings=warnings,
        curves=curves,
        market=market,
        interval=market.bar_interval,
        periods_per_year=periods,
        fill=pol.env_config.fill,
        pbo=pbo_of(policies, s_curves, curves, ensemble),
        provenance=provenance(run_dir, market.fingerprint, command),
        significance=significance_of(curves, periods),
    )
