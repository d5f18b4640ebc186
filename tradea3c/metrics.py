"""Performance metrics: pure functions of an equity path or a return series.

Used by training (validation scores) and backtesting alike, so it sits below both.

Conventions: ``returns`` are simple per-bar returns; annualisation uses ``periods`` bars per year
(252 for daily bars; `periods_per_year` maps a bar interval to it, `infer_interval` reads the
interval off a series of bar dates); standard deviations are sample ones (ddof=1); the risk-free
rate is 0 unless given (per year). Degenerate inputs (flat equity, fewer than two returns) give
0.0 rather than NaN/inf so that "did nothing" scores 0. Definitions match quantstats where
quantstats has the metric (CAGR from bar counts, Sortino with the downside deviation over all
bars, win rate over non-zero bars); the tests cross-check them.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

PERIODS_PER_YEAR = 252
TRADING_DAYS = 252
SESSION_MINUTES = 390  # a 6.5 hour regular session (NYSE/Nasdaq 09:30-16:00)

INTERVAL_PERIODS: dict[str, float] = {
    "1m": TRADING_DAYS * 390,
    "2m": TRADING_DAYS * 195,
    "5m": TRADING_DAYS * 78,
    "15m": TRADING_DAYS * 26,
    "30m": TRADING_DAYS * 13,
    "60m": TRADING_DAYS * 7,
    "1h": TRADING_DAYS * 7,
    "90m": TRADING_DAYS * 5,
    "1d": TRADING_DAYS,
    "5d": 52,
    "1wk": 52,
    "1mo": 12,
    "3mo": 4,
}
"""Bars a year for each bar interval (yfinance's spellings): 252 trading days times the bars of one
regular 6.5-hour session (09:30-16:00 ET), counted as bars, not hours: a session of 1h bars has 7
(09:30, 10:30, ..., 15:30, the last one half an hour: 6.5 rounded up), of 90m bars 5, of 30m 13, of
15m 26, of 5m 78, of 1m 390; weekly 52, monthly 12, quarterly 4. Regular hours only."""


def periods_per_year(interval: str) -> float:
    """Bars a year of ``interval`` (`INTERVAL_PERIODS`); a `ValueError` names the known ones."""
    try:
        return float(INTERVAL_PERIODS[interval])
    except KeyError:
        known = ", ".join(INTERVAL_PERIODS)
        raise ValueError(f"bar interval {interval!r} is unknown; use one of {known}") from None


def infer_interval(dates: np.ndarray) -> str | None:
    """The bar interval of a sorted series of bar timestamps, from the median gap between bars:
    under a day -> the nearest intraday interval (minutes), 0.9-4.5 days -> "1d" (weekends and
    holidays included), 4.5-10.5 -> "1wk", 19.5-45.5 -> "1mo", 79.5-100.5 -> "3mo"; "1d" with
    fewer than 2 dates; None for any other spacing."""
    d = np.asarray(dates, dtype="datetime64[ns]")
    if len(d) < 2:
        return "1d"
    gap_days = float(np.median(np.diff(d).astype(np.int64))) / 86_400e9
    if 0 < gap_days < 0.9:
        minutes = gap_days * 24 * 60
        intraday = {"1m": 1, "2m": 2, "5m": 5, "15m": 15, "30m": 30, "1h": 60, "90m": 90}
        return min(intraday, key=lambda k: abs(np.log(intraday[k] / minutes)))
    for name, lo, hi in (("1d", 0.9, 4.5), ("1wk", 4.5, 10.5), ("1mo", 19.5, 45.5), ("3mo", 79.5, 100.5)):
        if lo <= gap_days < hi:
            return name
    return None


def periods_of_dates(dates: np.ndarray, interval: str | None = None) -> float:
    """Bars a year of a bar series: of ``interval`` when given, else of `infer_interval`; a spacing
    that matches no interval counts its bars per calendar year (365.25 days)."""
    name = interval or infer_interval(dates)
    if name is not None:
        return periods_per_year(name)
    d = np.asarray(dates, dtype="datetime64[ns]")
    years = float((d[-1] - d[0]).astype(np.int64)) / (365.25 * 86_400e9)
    return (len(d) - 1) / years


def _arr(x: np.ndarray) -> np.ndarray:
    return np.asarray(x, dtype=np.float64)


def returns_from_equity(equity: np.ndarray) -> np.ndarray:
    """Simple returns ``E[t]/E[t-1] - 1`` of an equity path (length n -> n-1)."""
    e = _arr(equity)
    return e[1:] / e[:-1] - 1.0


def total_return(returns: np.ndarray) -> float:
    """Compounded return over the whole series."""
    return float(np.prod(1.0 + _arr(returns)) - 1.0)


def cagr(returns: np.ndarray, periods: float = PERIODS_PER_YEAR) -> float:
    """Compound annual growth rate, years = bars / periods (as quantstats); -1 after a wipe-out."""
    r = _arr(returns)
    if len(r) == 0:
        return 0.0
    wealth = float(np.prod(1.0 + r))
    return wealth ** (periods / len(r)) - 1.0 if wealth > 0 else -1.0


def annual_volatility(returns: np.ndarray, periods: float = PERIODS_PER_YEAR) -> float:
    """Sample standard deviation (ddof=1) times sqrt(periods)."""
    r = _arr(returns)
    return float(np.std(r, ddof=1) * np.sqrt(periods)) if len(r) > 1 else 0.0


def sharpe_ratio(returns: np.ndarray, periods: float = PERIODS_PER_YEAR, risk_free: float = 0.0) -> float:
    """Annualised Sharpe ratio: mean excess return / sample std * sqrt(periods); 0 when std is 0."""
    r = _arr(returns) - risk_free / periods
    if len(r) < 2:
        return 0.0
    sd = np.std(r, ddof=1)
    return float(np.mean(r) / sd * np.sqrt(periods)) if sd > 1e-12 else 0.0


def sortino_ratio(returns: np.ndarray, periods: float = PERIODS_PER_YEAR, risk_free: float = 0.0) -> float:
    """Annualised Sortino ratio: mean excess return / downside deviation * sqrt(periods), where the
    downside deviation is ``sqrt(sum(min(r, 0)^2) / n)`` over all n bars (Red Rock / quantstats)."""
    r = _arr(returns) - risk_free / periods
    if len(r) < 2:
        return 0.0
    down = np.sqrt(np.sum(np.minimum(r, 0.0) ** 2) / len(r))
    return float(np.mean(r) / down * np.sqrt(periods)) if down > 1e-12 else 0.0


def drawdown_series(returns: np.ndarray) -> np.ndarray:
    """Drawdown (<= 0) of the compounded equity at each bar, starting from an equity of 1 before bar 0."""
    eq = np.concatenate([[1.0], np.cumprod(1.0 + _arr(returns))])
    return (eq / np.maximum.accumulate(eq) - 1.0)[1:]


def max_drawdown(returns: np.ndarray) -> float:
    """Largest peak-to-trough fall of the compounded equity, as a negative fraction (0 = none)."""
    eq = np.concatenate([[1.0], np.cumprod(1.0 + _arr(returns))])
    return float(np.min(eq / np.maximum.accumulate(eq) - 1.0))


def max_drawdown_duration(returns: np.ndarray) -> int:
    """Longest run of bars spent below a previous equity peak (recovered or not), in bars."""
    under = drawdown_series(returns) < -1e-12
    best = run = 0
    for u in under:
        run = run + 1 if u else 0
        best = max(best, run)
    return best


def calmar_ratio(returns: np.ndarray, periods: float = PERIODS_PER_YEAR) -> float:
    """CAGR / |max drawdown|; 0 without a drawdown."""
    mdd = max_drawdown(returns)
    return cagr(returns, periods) / abs(mdd) if mdd < -1e-12 else 0.0


def hit_rate(returns: np.ndarray) -> float:
    """Share of non-zero bars with a positive return (quantstats' win rate); 0 if never invested."""
    r = _arr(returns)
    nz = r[r != 0.0]
    return float(np.mean(nz > 0)) if len(nz) else 0.0


def turnover(traded: np.ndarray, equity: np.ndarray, periods: float = PERIODS_PER_YEAR) -> float:
    """Annualised one-sided turnover: mean of traded notional / equity before the step, times periods.

    ``traded[i]`` is the notional traded in step i, ``equity`` the path (len(traded) + 1); 1.0 means
    the account's whole value changed hands once per year (a round trip counts 2)."""
    t, e = _arr(traded), _arr(equity)
    return float(np.mean(t / e[:-1]) * periods) if len(t) else 0.0


def exposure(invested: np.ndarray) -> float:
    """Share of bars that ended holding a position."""
    inv = np.asarray(invested, dtype=bool)
    return float(np.mean(inv)) if len(inv) else 0.0


def trade_returns(returns: np.ndarray, trades: np.ndarray, invested: np.ndarray) -> np.ndarray:
    """Compounded return of each trade: the steps from one fill up to the next fill.

    Step i's return includes the fill at its open, so an entry's cost and the move after it belong
    to the new trade; a fill that goes flat (an exit) is counted with the trade it closes, so the
    exit's overnight gap and cost are charged to it. Spans that hold nothing are not trades."""
    r, fill = _arr(returns), np.asarray(trades, dtype=bool)
    inv = np.asarray(invested, dtype=bool)
    if len(r) == 0:
        return np.zeros(0)
    group = np.cumsum(fill)
    exits = fill & ~inv
    group = np.where(exits, group - 1, group)
    out = []
    for g in np.unique(group):
        members = group == g
        if inv[members].any():
            out.append(np.prod(1.0 + r[members]) - 1.0)
    return np.asarray(out)


def average_trade(returns: np.ndarray, trades: np.ndarray, invested: np.ndarray) -> float:
    """Mean compounded return per trade (see `trade_returns`); 0 without trades."""
    tr = trade_returns(returns, trades, invested)
    return float(np.mean(tr)) if len(tr) else 0.0


@dataclass(frozen=True)
class Stats:
    """Every headline metric of one equity path: the numbers the tables, JSON and HTML show.

    Fractions (returns, drawdown, exposure, costs) are plain fractions (0.05 = 5%); Sharpe, Sortino
    and Calmar are annualised with ``periods`` bars a year; ``costs_paid`` is relative to the
    initial equity; counts are floats so that every field serialises alike."""

    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    max_drawdown: float
    max_dd_bars: float
    calmar: float
    turnover: float
    exposure: float
    hit_rate: float
    n_trades: float
    avg_trade: float
    costs_paid: float
    final_equity: float
    bars: float

    def to_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def summarize(
    equity: np.ndarray,
    traded: np.ndarray,
    costs: np.ndarray,
    trades: np.ndarray,
    invested: np.ndarray,
    periods: float = PERIODS_PER_YEAR,
) -> Stats:
    """`Stats` of one equity path with its traded notional, costs, fills and invested flags."""
    equity = _arr(equity)
    r = returns_from_equity(equity)
    trs = trade_returns(r, trades, invested)
    return Stats(
        total_return=total_return(r),
        cagr=cagr(r, periods),
        volatility=annual_volatility(r, periods),
        sharpe=sharpe_ratio(r, periods),
        sortino=sortino_ratio(r, periods),
        max_drawdown=max_drawdown(r),
        max_dd_bars=float(max_drawdown_duration(r)),
        calmar=calmar_ratio(r, periods),
        turnover=turnover(traded, equity, periods),
        exposure=exposure(invested),
        hit_rate=hit_rate(r),
        n_trades=float(len(trs)),
        avg_trade=float(np.mean(trs)) if len(trs) else 0.0,
        costs_paid=float(np.sum(_arr(costs)) / equity[0]),
        final_equity=float(equity[-1] / equity[0]),
        bars=float(len(r)),
    )


def score_equity(equity: np.ndarray, periods: float = PERIODS_PER_YEAR) -> dict[str, float]:
    """Sharpe, total return and max drawdown of an equity path (what validation reports)."""
    r = returns_from_equity(equity)
    return {
        "sharpe": sharpe_ratio(r, periods),
        "total_return": total_return(r),
        "max_drawdown": max_drawdown(r),
    }
