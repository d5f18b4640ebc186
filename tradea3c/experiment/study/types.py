"""The study's data: what it runs (`StudySpec`) and what it finds (`TickerResult` rows,
`StudyResult`), as plain dataclasses stored as JSON."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

from tradea3c.atomic import json_safe
from tradea3c.backtest.dsr import DeflatedSharpe
from tradea3c.config import to_dict
from tradea3c.experiment.strategy import StrategyConfig
from tradea3c.metrics import PERIODS_PER_YEAR, Stats

Mode = Literal["per-ticker", "cross-sectional", "portfolio"]
POLICY, ENSEMBLE, CASH = "policy", "ensemble", "cash"
SPEC_FILE, RESULT_FILE, SCORE_FILE = "study_spec.json", "study.json", "score.json"


@dataclass(frozen=True)
class StudySpec:
    """What a study runs; stored in the study directory so a resume cannot silently change it."""

    strategy: StrategyConfig
    mode: Mode = "cross-sectional"
    seeds: tuple[int, ...] = (0, 1, 2)
    costs_bps: tuple[float, ...] = (0.0, 5.0, 10.0, 25.0)
    """Cost sweep (flat bps per side); the main table uses the strategy's own costs."""
    holdout: float = 0.2
    """cross-sectional: share of tickers (every 1/holdout-th, by name) never seen in training."""
    trials: int = 0
    """Configurations tried so far for this question, for the deflated Sharpe (0 = just the seeds)."""
    folds: int = 0
    """Anchored walk-forward folds instead of the strategy's date split (0 = the date split): the
    universe's calendar is cut into ``folds + 1`` blocks, fold k trains on blocks 0..k-1 (its last
    20% validates) and tests on block k; each (ticker, fold) is a row of the table."""

    def __post_init__(self) -> None:
        if not self.seeds or min(self.seeds) < 0:
            raise ValueError(f"seeds {list(self.seeds)}: give at least one seed, all >= 0 (e.g. 0,1,2)")
        if not all(math.isfinite(c) and c >= 0 for c in self.costs_bps):
            raise ValueError(f"costs {list(self.costs_bps)}: costs are finite bps >= 0 (e.g. 0,5,10,25)")
        if self.trials < 0 or self.folds < 0:
            raise ValueError(f"trials {self.trials}, folds {self.folds}: both must be >= 0")
        if not 0.0 <= self.holdout < 1.0 or not math.isfinite(self.holdout):
            raise ValueError(f"holdout {self.holdout}: the share of held-out tickers is in [0, 1)")

    @property
    def n_trials(self) -> int:
        """``trials``, or when 0 the trials of the search that tuned the strategy (``tuning.trials``,
        written by `tradea3c tune`): every configuration tried counts in the deflated Sharpe."""
        tuning = self.strategy.tuning
        return self.trials or (tuning.trials if tuning is not None else 0)

    def key(self) -> dict[str, Any]:
        """What identifies the study's runs (``trials`` and ``tuning`` only change the deflated Sharpe)."""
        out = json_safe({**to_dict(self), "strategy": to_dict(self.strategy)})
        out.pop("trials", None)
        out["strategy"].pop("tuning", None)
        return out


@dataclass(frozen=True)
class TickerResult:
    ticker: str
    seen: bool
    """False for tickers held out of cross-sectional training."""
    seeds: list[Stats]
    """The policy of each seed (same order as the spec's seeds)."""
    curves: dict[str, Stats]
    """ensemble, buy_and_hold, each rule, cash: at the strategy's costs."""
    sweep: dict[str, dict[str, Stats]]
    """cost bps -> {ensemble, buy_and_hold}."""
    equity: dict[str, list[float]] = field(repr=False)
    """ensemble and buy_and_hold equity paths (for the plots)."""
    returns: list[list[float]] = field(repr=False)
    """each seed's per-bar returns (for the study's deflated Sharpe)."""
    fold: int = 0
    """Walk-forward fold of this row (0: the study's date split)."""
    curve_returns: dict[str, list[float]] = field(default_factory=dict, repr=False)
    """ensemble and each baseline's per-bar returns (for the significance block; cash is 0 and not
    stored); empty for a score cached before they were kept (the block then leaves the row out)."""
    periods: float = PERIODS_PER_YEAR
    """Bars a year of the scored market (annualises the significance block's Sharpe ratios)."""


@dataclass(frozen=True)
class StudyResult:
    spec: dict[str, Any]
    tickers: list[TickerResult]
    skipped: dict[str, str]
    """ticker -> why it could not be trained or scored."""
    aggregate: dict[str, Any]
    dsr: DeflatedSharpe | None
    dates: list[str] = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return json_safe(self)


def ticker_label(ticker: str, fold: int) -> str:
    """The ticker, with its walk-forward fold when there are folds ("AAPL f2")."""
    return f"{ticker} f{fold}" if fold else ticker


def row_label(row: TickerResult) -> str:
    """The ticker, with its walk-forward fold when there are folds ("AAPL f2")."""
    return ticker_label(row.ticker, row.fold)
