"""The trade blotter: one row per asset per fill of a curve, as the execution model filled it.

Columns (``BLOTTER_COLUMNS``; quantities are per 1.0 of initial equity, as every curve starts at 1):

- ``date``: the fill bar (YYYY-MM-DD; intraday bars keep the time), at its open (``fill="open"``)
  or close (``fill="close"``);
- ``asset``: the ticker;
- ``side``: ``buy`` or ``sell`` (a sell from long to short, or back, is one row);
- ``quantity``: units traded, > 0;
- ``price``: the fill price;
- ``notional``: quantity * price;
- ``cost``: commission + half-spread + slippage paid on this row (`execution.cost_rates`);
- ``weight_before`` / ``weight_after``: the asset's weight at the fill price before and after
  the fill, over the equity at the fill before costs (``weight_after`` is the target executed);
- ``equity_before``: that equity.

The rows are rebuilt from the curve's units with the execution model's own fill prices and cost
rates; `trade_blotter` checks that their costs add up to the curve's per-step costs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tradea3c.backtest.curve import Curve
from tradea3c.data.market import Market
from tradea3c.envs.execution import CostConfig, Fill, cost_rates, fill_prices

BLOTTER_COLUMNS = (
    "date",
    "asset",
    "side",
    "quantity",
    "price",
    "notional",
    "cost",
    "weight_before",
    "weight_after",
    "equity_before",
)


def _units(curve: Curve, close: np.ndarray) -> np.ndarray:
    if curve.units is not None:
        return np.asarray(curve.units, dtype=np.float64)
    return curve.weights * curve.equity[1:, None] / close


def trade_blotter(curve: Curve, market: Market, costs: CostConfig, fill: Fill = "open") -> pd.DataFrame:
    """The fills of ``curve`` (run on ``market`` with ``costs`` and ``fill``) as a blotter (module doc)."""
    n = len(curve.costs)
    i0 = int(np.searchsorted(market.dates, curve.dates[0]))
    if i0 + n >= market.n_bars or market.dates[i0] != curve.dates[0]:
        raise ValueError("the curve's dates are not bars of this market")
    bars = slice(i0 + 1, i0 + 1 + n)
    price, close = fill_prices(market, fill)[bars], market.close[bars]
    prev_close = market.close[i0 : i0 + n]
    rates = cost_rates(market, costs)[bars]
    units = _units(curve, close)
    before = np.vstack([np.zeros((1, units.shape[1])), units[:-1]])
    delta = units - before
    # equity at the fill, before trading: the previous close's equity re-marked at the fill price
    eq_fill = curve.equity[:-1] + np.nansum(before * (price - prev_close), axis=1)
    tol = 1e-12 * np.maximum(np.abs(before), np.abs(units)).max(initial=1.0)
    rows, steps = [], []
    tickers = list(market.tickers)
    for i in np.flatnonzero(curve.trades):
        day = pd.Timestamp(curve.dates[i + 1])
        date = str(day.date()) if day == day.normalize() else day.isoformat()
        for j in np.flatnonzero(np.abs(delta[i]) > tol):
            q = float(abs(delta[i, j]))
            px = float(price[i, j])
            steps.append(i)
            rows.append(
                (
                    date,
                    tickers[j],
                    "buy" if delta[i, j] > 0 else "sell",
                    q,
                    px,
                    q * px,
                    float(rates[i, j] * q * px),
                    float(before[i, j] * px / eq_fill[i]),
                    float(units[i, j] * px / eq_fill[i]),
                    float(eq_fill[i]),
                )
            )
    out = pd.DataFrame(rows, columns=list(BLOTTER_COLUMNS))
    if len(out):
        per_step = np.zeros(n)
        np.add.at(per_step, steps, out["cost"].to_numpy())
        gap = float(np.max(np.abs(per_step - curve.costs)))
        if gap > 1e-9 * max(1.0, float(np.max(curve.equity))):
            raise RuntimeError(f"blotter costs differ from the curve's by {gap:.2e}; please report")
    return out


def write_blotter(blotter: pd.DataFrame, path: str | Path) -> Path:
    """The blotter as CSV (atomic), full float precision."""
    from tradea3c.atomic import atomic_write_text

    atomic_write_text(path, blotter.to_csv(index=False, float_format="%.10g"))
    return Path(path)


def blotter_path(html_path: str | Path) -> Path:
    """Where the blotter of a tear sheet goes: beside it, ``<name>.trades.csv``."""
    p = Path(html_path)
    return p.with_name(f"{p.stem}.trades.csv")
