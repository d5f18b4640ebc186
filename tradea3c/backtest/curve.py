"""`Curve`: one strategy's backtest path (equity, weights, fills, costs) over a range of bars."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradea3c.data.market import Market
from tradea3c.envs.execution import Replay
from tradea3c.metrics import PERIODS_PER_YEAR, Stats, periods_of_dates, returns_from_equity, summarize


def market_periods(market: Market) -> float:
    """Bars a year of a market, for annualising: its ``interval`` when it has one, else the interval
    read off its dates (`tradea3c.metrics.infer_interval`: daily 252, weekly 52, monthly 12, ...)."""
    return periods_of_dates(market.dates, getattr(market, "interval", None))


@dataclass(frozen=True, eq=False)
class Curve:
    """``equity[i]`` is the equity at the close of ``dates[i]``; step i (return i) is bar i + 1."""

    name: str
    dates: np.ndarray  # (T + 1,) datetime64
    equity: np.ndarray  # (T + 1,)
    targets: np.ndarray  # (T, n_assets) target weights decided at the close of dates[i]
    weights: np.ndarray  # (T, n_assets) weights held at the close of dates[i + 1]
    traded: np.ndarray  # (T,) notional traded in step i
    costs: np.ndarray  # (T,) costs paid in step i
    trades: np.ndarray  # (T,) bool: step i filled an order
    periods: float = PERIODS_PER_YEAR
    """Bars a year of the market the curve was run on (annualises its `metrics`)."""
    units: np.ndarray | None = None
    """(T, n_assets) units held after step i (None where not kept: chained walk-forward curves)."""

    @property
    def returns(self) -> np.ndarray:
        return returns_from_equity(self.equity)

    @property
    def gross_equity(self) -> np.ndarray:
        """Equity before costs: ``equity`` plus every cost paid so far (the same fills, the costs
        kept as cash). A buy-and-hold's is exactly its zero-cost replay; gross minus net total
        return is ``costs_paid``."""
        paid = np.concatenate([[0.0], np.cumsum(np.asarray(self.costs, dtype=np.float64))])
        return self.equity + paid

    @property
    def gross_returns(self) -> np.ndarray:
        return returns_from_equity(self.gross_equity)

    @property
    def invested(self) -> np.ndarray:
        return np.any(np.abs(self.weights) > 1e-12, axis=1)

    def metrics(self) -> Stats:
        return summarize(self.equity, self.traded, self.costs, self.trades, self.invested, self.periods)

    def gross_metrics(self) -> Stats:
        """`metrics` of `gross_equity` (costs_paid 0; turnover and trades as traded)."""
        eq = self.gross_equity
        return summarize(eq, self.traded, np.zeros_like(self.costs), self.trades, self.invested, self.periods)


def curve_from_replay(name: str, market: Market, start: int, targets: np.ndarray, rep: Replay) -> Curve:
    """Wrap `execution.replay`'s result with dates and end-of-bar weights."""
    n = len(rep.costs)
    close = market.close[start + 1 : start + 1 + n]
    weights = rep.units * close / rep.equity[1:, None]
    return Curve(
        name,
        market.dates[start : start + n + 1],
        rep.equity,
        np.asarray(targets).reshape(n, -1),
        weights,
        rep.traded,
        rep.costs,
        rep.trades,
        market_periods(market),
        rep.units,
    )
