"""`Curve`: one strategy's backtest path (equity, weights, fills, costs) over a range of bars."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradea3c import metrics as mx
from tradea3c.data.market import Market
from tradea3c.envs.execution import Replay
from tradea3c.metrics import PERIODS_PER_YEAR, Stats, returns_from_equity, summarize


def market_periods(market: Market) -> float:
    """Bars a year of a market, for annualising: its ``interval`` when intraday (1h: 7 x 252, ...),
    else the interval read off its dates (`tradea3c.metrics.infer_interval`: daily 252, weekly 52,
    monthly 12, ...): `Market.periods_per_year`."""
    return market.periods_per_year


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
    def ruined_at(self) -> int | None:
        """Index of the first bar whose equity is <= 0 (the account is wiped out: every later
        equity is 0, every later return 0); None for a curve that never was."""
        hit = np.flatnonzero(np.asarray(self.equity) <= 0.0)
        return int(hit[0]) if len(hit) else None

    @property
    def returns(self) -> np.ndarray:
        return _returns(self.equity)

    @property
    def gross_equity(self) -> np.ndarray:
        """Equity before costs: ``equity`` plus every cost paid so far (the same fills, the costs
        kept as cash). A buy-and-hold's is exactly its zero-cost replay; gross minus net total
        return is ``costs_paid``."""
        paid = np.concatenate([[0.0], np.cumsum(np.asarray(self.costs, dtype=np.float64))])
        return self.equity + paid

    @property
    def gross_returns(self) -> np.ndarray:
        return _returns(self.gross_equity)

    @property
    def invested(self) -> np.ndarray:
        return np.any(np.abs(self.weights) > 1e-12, axis=1)

    def metrics(self) -> Stats:
        return _stats(self.equity, self.traded, self.costs, self.trades, self.invested, self.periods)

    def gross_metrics(self) -> Stats:
        """`metrics` of `gross_equity` (costs_paid 0; turnover and trades as traded)."""
        eq, zero = self.gross_equity, np.zeros_like(self.costs)
        return _stats(eq, self.traded, zero, self.trades, self.invested, self.periods)


def _returns(equity: np.ndarray) -> np.ndarray:
    """Simple returns; for a path that reaches 0 (ruin): -100% into that bar, 0 after it (no 0/0)."""
    e = np.asarray(equity, dtype=np.float64)
    prev = e[:-1]
    if (prev > 0.0).all():
        return returns_from_equity(e)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(prev > 0.0, e[1:] / np.where(prev > 0.0, prev, 1.0) - 1.0, 0.0)


def _stats(equity, traded, costs, trades, invested, periods: float) -> Stats:  # noqa: ANN001
    """`summarize`; for a ruined path (equity reaching 0) the same fields from `_returns` (0 after
    the ruin) rather than from equity ratios (0/0 after it), over all its bars."""
    e = np.asarray(equity, dtype=np.float64)
    if (e[:-1] > 0.0).all():
        return summarize(e, traded, costs, trades, invested, periods)
    r, p, before = _returns(e), periods, e[:-1]
    per_bar = np.divide(traded, before, out=np.zeros(len(r)), where=before > 0.0)
    trs = mx.trade_returns(r, trades, invested)
    return Stats(
        total_return=mx.total_return(r),
        cagr=mx.cagr(r, p),
        volatility=mx.annual_volatility(r, p),
        sharpe=mx.sharpe_ratio(r, p),
        sortino=mx.sortino_ratio(r, p),
        max_drawdown=mx.max_drawdown(r),
        max_dd_bars=float(mx.max_drawdown_duration(r)),
        calmar=mx.calmar_ratio(r, p),
        turnover=float(np.mean(per_bar) * p) if len(r) else 0.0,
        exposure=mx.exposure(invested),
        hit_rate=mx.hit_rate(r),
        n_trades=float(len(trs)),
        avg_trade=float(np.mean(trs)) if len(trs) else 0.0,
        costs_paid=float(np.sum(costs) / e[0]),
        final_equity=float(e[-1] / e[0]),
        bars=float(len(r)),
    )


def ruined_tail(c: Curve, dates: np.ndarray) -> Curve:
    """``c`` (stopped by a ruin: its last equity is <= 0) carried on over ``dates`` (the whole range,
    ``dates[0] == c.dates[0]``) at zero equity: from the ruin bar on, equity 0, no holdings, no fills."""
    n, k = len(dates) - 1, len(c.costs)
    if n < k:
        raise ValueError(f"ruined_tail: {n} bars is shorter than the curve's {k}")
    pad = n - k
    equity = np.concatenate([np.asarray(c.equity, dtype=np.float64), np.zeros(pad)])
    equity[np.argmax(equity <= 0.0) if (equity <= 0.0).any() else len(equity) :] = 0.0

    def ext(a: np.ndarray) -> np.ndarray:
        a = np.asarray(a)
        return np.concatenate([a, np.zeros((pad, *a.shape[1:]), dtype=a.dtype)])

    ruin = int(np.argmax(equity <= 0.0))
    weights = ext(c.weights)
    weights[max(ruin - 1, 0) :] = 0.0  # nothing is held once the account is wiped out
    return Curve(
        c.name,
        np.asarray(dates),
        equity,
        ext(c.targets),
        weights,
        ext(c.traded),
        ext(c.costs),
        ext(c.trades),
        c.periods,
        None if c.units is None else ext(c.units),
    )


def ruin_warning(c: Curve, who: str = "the policy") -> str | None:
    """The report's line for a ruined curve (None if it never was)."""
    k = c.ruined_at
    if k is None:
        return None
    day = str(np.datetime_as_string(np.asarray(c.dates)[k], unit="D"))
    return (
        f"{who} was ruined on {day} (equity <= 0) after {k} of {len(c.equity) - 1} bars; scores "
        "after that date are zero-equity (leveraged positions? see env.max_leverage)"
    )


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
