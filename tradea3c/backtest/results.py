"""Typed backtest results: the report, its cost-sweep levels and the seed table.

Plain frozen dataclasses of numbers and `Stats`; ``metrics.json`` is `json_safe` of the report
(dataclasses as objects, NaN as null), so the file and the attributes use the same names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from tradea3c.atomic import atomic_write_json, json_safe
from tradea3c.backtest.curve import Curve
from tradea3c.backtest.dsr import DeflatedSharpe
from tradea3c.backtest.pbo import Pbo
from tradea3c.backtest.significance import Comparison
from tradea3c.data.market import Market
from tradea3c.metrics import Stats


@dataclass(frozen=True)
class CostLevel:
    """One level of the cost sweep: ``cost_bps`` per side replacing the strategy's whole cost model."""

    cost_bps: float
    metrics: dict[str, Stats]
    """Policy first, then each baseline, by name."""


@dataclass(frozen=True)
class Spread:
    """Mean, sample standard deviation (0 for one value), min and max of a metric over seeds."""

    mean: float
    std: float
    min: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        v = np.asarray(values, dtype=np.float64)
        std = float(v.std(ddof=1)) if len(v) > 1 else 0.0
        return cls(float(v.mean()), std, float(v.min()), float(v.max()))


@dataclass(frozen=True)
class SeedRun:
    run: str
    seed: int
    stats: Stats


@dataclass(frozen=True)
class SeedTable:
    """Every seed's out-of-sample stats, their spread, and the deflated Sharpe of the best."""

    runs: list[SeedRun]
    summary: dict[str, Spread]
    dsr: DeflatedSharpe
    best_run: str


@dataclass(frozen=True)
class Fingerprint:
    trained: str
    current: str

    @property
    def changed(self) -> bool:
        return bool(self.trained and self.trained != self.current)


@dataclass(eq=False)
class BacktestReport:
    """Everything a backtest produced; `to_json` is what ``metrics.json`` holds."""

    label: str
    """"out-of-sample" or "in-sample"."""
    checkpoint: str
    strategy: dict[str, Any]
    env_kind: str
    tickers: list[str]
    fingerprint: Fingerprint
    ranges: dict[str, list[str]]
    """train / val / test / backtest: [first, last] ISO dates."""
    costs: dict[str, float]
    """The strategy's own cost model (bps)."""
    metrics: dict[str, Stats]
    """At the strategy's costs: policy first, then the baselines."""
    cost_sweep: list[CostLevel]
    seeds: SeedTable
    warnings: list[str] = field(default_factory=list)
    members: list[str] = field(default_factory=list)
    """The member checkpoints of an ensemble backtest (``checkpoint`` then reads "ensemble of N:
    ..."); empty for a single policy."""
    curves: list[Curve] = field(default_factory=list, repr=False)
    market: Market | None = field(default=None, repr=False)
    interval: str = "1d"
    """The bar interval ("1d", "1wk", ...; inferred from the dates when the market has none)."""
    periods_per_year: float = 252.0
    """Bars a year: what Sharpe, volatility, CAGR and turnover are annualised with."""
    fill: str = "open"
    """Where orders fill ("open" or "close" of the next bar): the blotter's prices."""
    pbo: Pbo | None = None
    """Probability of backtest overfitting (CSCV) over the T x N matrix of per-bar returns whose
    columns (``pbo.candidates``) are: the ensemble (an ensemble backtest only), each seed-table
    curve (the policy for one run, every seed, or every ensemble member), then every baseline; all
    over the backtest's bars at the strategy's costs. None with < 2 candidates or < 4 bars."""
    provenance: dict[str, Any] = field(default_factory=dict)
    """Reproducibility: git commit, package versions, data fingerprint, command line."""
    significance: dict[str, Comparison] = field(default_factory=dict)
    """The policy against each baseline (by name, the order of ``curves[1:]``): the Ledoit-Wolf
    HAC test of the Sharpe difference and the active statistics (information ratio, tracking
    error, active return and its HAC t-test), on the per-bar returns at the strategy's costs
    (`tradea3c.backtest.significance`)."""

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
            "members",
            "env_kind",
            "tickers",
            "ranges",
            "costs",
            "metrics",
            "cost_sweep",
        )
        out: dict[str, Any] = {k: getattr(self, k) for k in keys}
        out["fingerprint"] = {**vars(self.fingerprint), "changed": self.fingerprint.changed}
        out.update(seeds=self.seeds, warnings=self.warnings, strategy=self.strategy)
        out["benchmark"] = self.benchmark.name
        out["annualisation"] = {"interval": self.interval, "periods_per_year": self.periods_per_year}
        out["gross"] = {c.name: c.gross_metrics() for c in self.curves[:2]}
        out["pbo"] = (
            None if self.pbo is None else {k: v for k, v in json_safe(self.pbo).items() if k != "logits"}
        )
        out["significance"] = self.significance
        out["provenance"] = self.provenance
        return out


def write_json(report: BacktestReport, path: Any) -> None:
    """``metrics.json``: every number the tables and the tear sheet show (atomic write)."""
    atomic_write_json(path, report.to_json())
