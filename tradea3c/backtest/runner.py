"""`backtest_run`: checkpoint(s) -> policy vs baselines, cost sweep, seed table + DSR, JSON and HTML.

This is the one library call behind ``tradea3c backtest`` (and the demo's tear sheet).
Cost sweep semantics: each level ``c`` (bps) replaces the strategy's whole cost config by a flat
``c`` bps per side on traded notional (commission = c, spread = slippage = ATR slippage = 0), for
the policy (re-run, since its observations include its own equity) and every baseline alike.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradea3c.backtest.baselines import RuleConfig, baselines
from tradea3c.backtest.curve import Curve
from tradea3c.backtest.dsr import deflated_sharpe_of
from tradea3c.backtest.engine import (
    BacktestError,
    BarRange,
    LoadedPolicy,
    load_policy,
    policy_curve,
    resolve_range,
)
from tradea3c.data.market import Market
from tradea3c.envs.execution import CostConfig

DEFAULT_COSTS_BPS: tuple[float, ...] = (0.0, 5.0, 10.0, 25.0)
SEED_KEYS = ("total_return", "cagr", "sharpe", "sortino", "max_drawdown", "turnover")


def flat_costs(bps: float) -> CostConfig:
    """The cost config of one sweep level: ``bps`` per side of traded notional, nothing else."""
    return CostConfig(commission_bps=float(bps), half_spread_bps=0.0, slippage_bps=0.0, slippage_atr=0.0)


def _day(x: Any) -> str:
    return str(pd.Timestamp(x).date())


@dataclass(eq=False)
class BacktestReport:
    """Everything a backtest produced; `to_json` is what metrics.json holds (every number shown)."""

    label: str  # "out-of-sample" | "in-sample"
    checkpoint: str
    strategy: dict[str, Any]
    env_kind: str
    tickers: list[str]
    fingerprint: dict[str, Any]
    ranges: dict[str, list[str]]
    costs: dict[str, float]
    metrics: dict[str, dict[str, float]]
    cost_sweep: list[dict[str, Any]]
    seeds: dict[str, Any] | None
    warnings: list[str] = field(default_factory=list)
    curves: list[Curve] = field(default_factory=list, repr=False)
    market: Market | None = field(default=None, repr=False)

    @property
    def policy(self) -> Curve:
        return self.curves[0]

    @property
    def benchmark(self) -> Curve:
        return self.curves[1]

    def to_json(self) -> dict[str, Any]:
        keys = (
            "label",
            "checkpoint",
            "env_kind",
            "tickers",
            "fingerprint",
            "ranges",
            "costs",
            "metrics",
            "cost_sweep",
            "seeds",
            "warnings",
            "strategy",
        )
        out = {k: getattr(self, k) for k in keys}
        out["benchmark"] = self.benchmark.name
        return out


def _strategy_dict(pol: LoadedPolicy) -> dict[str, Any]:
    return pol.metadata["extra"]["strategy"]


def _curves(
    pol: LoadedPolicy,
    market: Market,
    rng: BarRange,
    costs: CostConfig | None,
    greedy: bool,
    seed: int,
    rules: list[RuleConfig] | None,
) -> list[Curve]:
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


def _load_market(pol: LoadedPolicy, market: Market | None, warnings: list[str]) -> Market:
    if market is None:
        from tradea3c.data import DataError
        from tradea3c.experiment import load_strategy_market

        try:
            market = load_strategy_market(pol.strategy.market)
        except (DataError, FileNotFoundError, ValueError) as exc:
            raise BacktestError(f"{pol.path}: cannot load its market ({exc}); fetch the data first") from None
    if pol.tickers and tuple(market.tickers) != pol.tickers:
        raise BacktestError(
            f"{pol.path}: trained on {list(pol.tickers)} but the market now holds "
            f"{list(market.tickers)}; restore the data the run was trained on"
        )
    if pol.fingerprint and market.fingerprint != pol.fingerprint:
        warnings.append(
            f"market data changed since training (fingerprint {pol.fingerprint} -> "
            f"{market.fingerprint}): results use the current data"
        )
    return market


def _seed_table(
    policies: list[LoadedPolicy],
    market: Market,
    rng: BarRange,
    first: Curve,
    greedy: bool,
    seed: int,
    n_trials: int | None,
) -> dict[str, Any]:
    rows, returns = [], []
    for i, pol in enumerate(policies):
        c = first if i == 0 else policy_curve(pol, market, rng, greedy=greedy, seed=seed)
        m = c.metrics()
        rows.append(
            {"run": str(pol.path), "seed": int(pol.strategy.a3c.seed), **{k: m[k] for k in SEED_KEYS}}
        )
        returns.append(c.returns)
    summary = {}
    for k in SEED_KEYS:
        vals = np.array([r[k] for r in rows])
        summary[k] = {
            "mean": float(vals.mean()),
            "std": float(vals.std(ddof=1)) if len(vals) > 1 else 0.0,
            "min": float(vals.min()),
            "max": float(vals.max()),
        }
    dsr = deflated_sharpe_of(returns, n_trials)
    dsr["best_run"] = rows[int(dsr["best_trial"])]["run"]
    return {"runs": rows, "summary": summary, "dsr": dsr}


def backtest_run(
    runs: str | Path | Sequence[str | Path],
    start: str | None = None,
    end: str | None = None,
    *,
    costs_bps: Sequence[float] = DEFAULT_COSTS_BPS,
    html: str | Path | None = None,
    json_path: str | Path | None = None,
    allow_in_sample: bool = False,
    greedy: bool = True,
    seed: int = 0,
    n_trials: int | None = None,
    market: Market | None = None,
    rules: list[RuleConfig] | None = None,
    log: Callable[[str], None] | None = None,
) -> BacktestReport:
    """Backtest a run directory or checkpoint (several = seeds of one config; the first is reported,
    all enter the seed table and the DSR) over ``start..end`` (default: the test range after the
    checkpoint's val_end), against baselines with the same costs; write ``json_path`` / ``html``."""
    paths = [runs] if isinstance(runs, str | Path) else list(runs)
    if not paths:
        raise BacktestError("no run given; pass a run directory or checkpoint")
    policies = [load_policy(p) for p in paths]
    pol = policies[0]
    warnings: list[str] = []
    market = _load_market(pol, market, warnings)
    rng = resolve_range(market, pol.split, start, end, allow_in_sample)
    for other in policies[1:]:
        if other.tickers != pol.tickers or other.kind != pol.kind:
            raise BacktestError(
                f"{other.path}: trades {list(other.tickers)} ({other.kind}), not like "
                f"{pol.path}; seeds must share one strategy"
            )
        d0, d1 = _day(market.dates[rng.lo]), _day(market.dates[rng.hi])
        rng = BarRange(
            rng.lo,
            rng.hi,
            rng.in_sample or resolve_range(market, other.split, d0, d1, allow_in_sample).in_sample,
        )
    curves = _curves(pol, market, rng, None, greedy, seed, rules)
    metrics = {c.name: c.metrics() for c in curves}
    sweep = []
    for bps in costs_bps:
        if log:
            log(f"cost sweep: {bps:g} bps")
        sweep.append(
            {
                "cost_bps": float(bps),
                "metrics": {
                    c.name: c.metrics()
                    for c in _curves(pol, market, rng, flat_costs(bps), greedy, seed, rules)
                },
            }
        )
    seeds = _seed_table(policies, market, rng, curves[0], greedy, seed, n_trials)
    sp, d = pol.split, market.dates
    te, ve = np.datetime64(pd.Timestamp(sp.train_end), "ns"), np.datetime64(pd.Timestamp(sp.val_end), "ns")
    after = d[d > ve]
    ranges = {
        "train": [_day(d[0]), sp.train_end],
        "val": [_day(d[d > te][0]) if (d > te).any() else sp.train_end, sp.val_end],
        "test": [_day(after[0]), _day(after[-1])] if len(after) else [],
        "backtest": [_day(curves[0].dates[0]), _day(curves[0].dates[-1])],
    }
    report = BacktestReport(
        label=rng.label,
        checkpoint=str(pol.path),
        strategy=_strategy_dict(pol),
        env_kind=pol.kind,
        tickers=list(market.tickers),
        fingerprint={
            "trained": pol.fingerprint,
            "current": market.fingerprint,
            "changed": bool(pol.fingerprint and pol.fingerprint != market.fingerprint),
        },
        ranges=ranges,
        costs={k: float(v) for k, v in vars(pol.env_config.costs).items()},
        metrics=metrics,
        cost_sweep=sweep,
        seeds=seeds,
        warnings=warnings,
        curves=curves,
        market=market,
    )
    write_outputs(report, html=html, json_path=json_path)
    return report


def _finite(x: Any) -> Any:
    """JSON has no NaN/inf: write them as null."""
    if isinstance(x, dict):
        return {k: _finite(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_finite(v) for v in x]
    if isinstance(x, float) and not np.isfinite(x):
        return None
    return x


def write_outputs(
    report: BacktestReport, *, html: str | Path | None = None, json_path: str | Path | None = None
) -> None:
    """metrics.json (atomic) and the HTML tear sheet (atomic), where asked for."""
    from tradea3c.atomic import atomic_write_text

    if json_path is not None:
        text = json.dumps(_finite(report.to_json()), indent=2, allow_nan=False, default=str)
        atomic_write_text(json_path, text + "\n")
    if html is not None:
        from tradea3c.backtest.report import write_html

        write_html(report, html)
