"""`Curve`: one strategy's backtest path (equity, weights, fills, costs) over a range of bars."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradea3c.data.market import Market
from tradea3c.envs.execution import Replay
from tradea3c.metrics import Stats, returns_from_equity, summarize


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

    @property
    def returns(self) -> np.ndarray:
        return returns_from_equity(self.equity)

    @property
    def invested(self) -> np.ndarray:
        return np.any(np.abs(self.weights) > 1e-12, axis=1)

    def metrics(self) -> Stats:
        return summarize(self.equity, self.traded, self.costs, self.trades, self.invested)


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
    )
