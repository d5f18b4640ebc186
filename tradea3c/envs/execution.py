"""The execution and cost model shared by the envs and (later) the backtester.

Timing: a decision taken at bar ``t`` sees data up to the close of ``t``; it is filled at the
open of ``t + 1 + latency`` (``fill="open"``, default) or at the close of that bar
(``fill="close"``); the account is then marked to market at the close of ``t + 1``.

Accounts hold ``units`` (shares, negative = short) and ``cash``; equity = cash + units * price.
A target *weight* ``w`` (fraction of equity, negative = short) is filled as
``new_units = w * equity_at_fill / fill_price``; the cost of a fill is

    cost = rate * |new_units - units| * fill_price          (traded notional times rate)
    rate = (commission_bps + half_spread_bps + slippage_bps) / 1e4 + slippage_atr * ATR14[t] / close[t]

and is paid from cash, so it lowers equity (and the reward) of the step that trades.
Worked example: equity 1.0, flat, buy ``w=1`` at open 100 with 5+2+1 bps: units 0.01, cost 0.0008,
cash -0.0008; at a later close of 110, equity = 1.1 - 0.0008 = 1.0992.

Listings (`Market.tradable`): an order for an asset that is not listed at the fill bar gets
weight 0 (it cannot be bought before its listing), and a holding of an asset that is no longer
listed is sold first, at that bar's fill price -- the last close, which the delisted placeholder
prices repeat -- paying the usual cost (`delist`). The rest of the portfolio is not touched.
Halts (`Market.halted`): a halted asset's units do not change at that fill (`rebalance_halted`).
With an index membership (`Market.with_membership`) "not tradable" also means "out of the index":
a member that leaves is sold the same way, at the real fill price of that bar with costs
(``on_exit="sell"``); with ``on_exit="hold"`` (`Market.keep`) the holding stays while the asset
is still listed and is sold at the next rebalance (its target weight is 0 there). A daily
rebalance (the portfolio envs, ``replay(mode="always")``) sells it at the next fill either way.

Functions work on Python floats, on numpy arrays of independent one-asset accounts
(`rebalance_each`), or on portfolios whose last axis is the asset (`rebalance`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from tradea3c.data.market import Market

Fill = Literal["open", "close"]


@dataclass(frozen=True)
class CostConfig:
    """Trading costs, all per side and proportional to traded notional."""

    commission_bps: float = 5.0
    """Broker commission, basis points (1 bp = 0.01 %) of traded notional."""
    half_spread_bps: float = 2.0
    """Half the bid/ask spread paid crossing it, bps."""
    slippage_bps: float = 1.0
    """Fixed market-impact slippage, bps."""
    slippage_atr: float = 0.0
    """Extra slippage as a multiple k of ATR(14)/close known at decision time (fraction, e.g. 0.05)."""

    def __post_init__(self) -> None:
        if min(self.commission_bps, self.half_spread_bps, self.slippage_bps, self.slippage_atr) < 0:
            raise ValueError("cost parameters must be >= 0")

    @property
    def base_rate(self) -> float:
        """The fixed part of the cost rate, as a fraction of traded notional."""
        return (self.commission_bps + self.half_spread_bps + self.slippage_bps) * 1e-4

    @staticmethod
    def zero() -> CostConfig:
        return CostConfig(0.0, 0.0, 0.0, 0.0)


def fill_prices(market: Market, fill: Fill = "open") -> np.ndarray:
    """Prices at which orders fill, ``(n_bars, n_assets)``: ``market.open`` or ``market.close``."""
    if fill not in ("open", "close"):
        raise ValueError(f"fill must be 'open' or 'close', got {fill!r}")
    return market.open if fill == "open" else market.close


def cost_rates(market: Market, costs: CostConfig) -> np.ndarray:
    """Cost rate (fraction of notional) of a fill at each bar, ``(n_bars, n_assets)`` float64.

    The ATR part of a fill at bar ``t`` uses ATR(14)/close at ``t - 1`` (known when the order was
    decided); bars without an ATR yet use the base rate only.
    """
    rates = np.full(market.close.shape, costs.base_rate, dtype=np.float64)
    if costs.slippage_atr > 0:
        from ta.volatility import AverageTrueRange

        for j, ticker in enumerate(market.tickers):
            df = market.frame(ticker)
            atr = AverageTrueRange(df["high"], df["low"], df["close"], 14).average_true_range().to_numpy()
            frac = atr / df["close"].to_numpy()
            frac[:13] = 0.0  # ta writes 0 during warm-up; be explicit
            rates[1:, j] += costs.slippage_atr * np.nan_to_num(frac[:-1])
    return rates


def rebalance_each(units, cash, target, price, rate):
    """Fill target weights for independent one-asset accounts (floats or same-shape arrays).

    Returns ``(new_units, new_cash, traded_notional, cost)``.
    """
    equity = cash + units * price
    new_units = target * equity / price
    delta = new_units - units
    traded = abs(delta) * price
    cost = rate * traded
    return new_units, cash - delta * price - cost, traded, cost


def rebalance(units: np.ndarray, cash, target: np.ndarray, price: np.ndarray, rate):
    """Fill target weights of a portfolio; the last axis is the asset (weights need not sum to 1,
    the rest is cash). Returns ``(new_units, new_cash, traded_notional, cost)`` (last two summed)."""
    # np.add.reduce and [..., None]: the same operations as .sum(axis=-1) and np.expand_dims
    # (the same bits) without their Python wrappers, a third of a 30-asset env step
    equity = cash + np.add.reduce(units * price, axis=-1)
    new_units = target * np.asarray(equity)[..., None] / price
    delta = new_units - units
    traded = np.abs(delta) * price
    cost = np.add.reduce(rate * traded, axis=-1)
    return (
        new_units,
        cash - np.add.reduce(delta * price, axis=-1) - cost,
        np.add.reduce(traded, axis=-1),
        cost,
    )


def rebalance_halted(
    units: np.ndarray, cash, target: np.ndarray, price: np.ndarray, rate, halted: np.ndarray
):
    """`rebalance` of a portfolio (last axis the asset) in which the ``halted`` assets keep
    their units exactly: the others get ``target``'s weights rescaled to the part of the order not
    aimed at halted assets, over the equity not held in them (e.g. 50 % halted, 50 % B asked: B gets
    all the tradable equity); an order aimed only at halted assets leaves the tradable part in cash.
    Returns ``(new_units, new_cash, traded_notional, cost)``, nothing traded in a halted asset."""
    aimed = np.add.reduce(np.where(halted, target, 0.0), axis=-1)
    free_units = np.where(halted, 0.0, units)
    free_equity = cash + np.add.reduce(free_units * price, axis=-1)
    stuck = np.logical_or.reduce(halted, axis=-1) & ((aimed >= 1.0) | (free_equity <= 0.0))
    scale = np.where(stuck, 0.0, 1.0 / np.where(stuck, 1.0, 1.0 - aimed))  # rows without a halt: 1.0
    order = np.where(halted, 0.0, target * np.asarray(scale)[..., None])
    new_units, new_cash, traded, cost = rebalance(free_units, cash, order, price, rate)
    return np.where(halted, units, new_units), new_cash, traded, cost


def delist(units: np.ndarray, cash, tradable: np.ndarray, price: np.ndarray, rate, keep=None):
    """Sell every holding of an asset not ``tradable`` at ``price`` (cost paid as a fill), except
    where ``keep`` (None = nowhere: out of the index but still listed, ``on_exit="hold"``); the
    last axis is the asset. Returns ``(new_units, new_cash, traded_notional, cost)``."""
    gone = ~tradable & (units != 0.0)
    if keep is not None:
        gone &= ~keep
    if not gone.any():
        return units, cash, 0.0, 0.0
    sold = np.where(gone, units, 0.0)
    traded = np.abs(sold) * price
    cost = (rate * traded).sum(axis=-1)
    return units - sold, cash + (sold * price).sum(axis=-1) - cost, traded.sum(axis=-1), cost


def listed_target(target: np.ndarray, tradable: np.ndarray | None) -> np.ndarray:
    """``target`` with weight 0 for assets not listed at the fill bar (``tradable`` None = all)."""
    return target if tradable is None else np.where(tradable, target, 0.0)


def mark(units, cash, price):
    """Equity marked at ``price`` (portfolio: last axis is the asset)."""
    if isinstance(units, np.ndarray) and units.ndim >= 1 and np.ndim(price) == units.ndim:
        return cash + (units * price).sum(axis=-1)
    return cash + units * price


def fill_bar(
    market: Market,
    t1: int,
    units: np.ndarray,
    cash: float,
    held: np.ndarray,
    execute: np.ndarray,
    price: np.ndarray,
    rate: np.ndarray,
    mode: Literal["on_change", "always"] = "on_change",
) -> tuple[np.ndarray, float, np.ndarray, float, float, bool]:
    """One step of `replay`: the account ``(units, cash)`` holding target ``held`` executes the
    target ``execute`` at bar ``t1`` (fill ``price`` and cost ``rate`` rows of that bar): delisted
    holdings are sold, halted assets keep their units, ``mode`` as in `replay`. Returns
    ``(units, cash, held, traded_notional, cost, filled)``; mark the result at ``close[t1]``. The
    paper ledger (`tradea3c.experiment.paper`) fills its accounts bar by bar with it."""
    listed, keep, halted = market.tradable, market.keep, market.halted
    traded, cost, filled = 0.0, 0.0, False
    halt = None if halted is None or not halted[t1].any() else halted[t1]  # held, not traded
    if listed is not None:
        kept = None if keep is None else keep[t1]
        kept = kept if halt is None else halt if kept is None else kept | halt
        units, cash, traded, cost = delist(units, cash, listed[t1], price, rate, kept)
        filled = traded > 0
    if mode == "always" or np.any(execute != held):
        order = listed_target(
            execute, None if listed is None else listed[t1] if halt is None else listed[t1] | halt
        )
        if halt is None:
            units, cash, step_traded, step_cost = rebalance(units, cash, order, price, rate)
        else:
            units, cash, step_traded, step_cost = rebalance_halted(units, cash, order, price, rate, halt)
        traded += step_traded
        cost += step_cost
        held = execute
        filled = True
    return units, cash, held, traded, cost, bool(filled)


@dataclass(frozen=True, eq=False)
class Replay:
    """Result of `replay`: ``equity[i]`` is the equity at the close of bar ``start + i``."""

    equity: np.ndarray  # (T + 1,)
    costs: np.ndarray  # (T,) cost paid in step i
    traded: np.ndarray  # (T,) traded notional in step i
    units: np.ndarray  # (T, n_assets) units held after step i
    trades: np.ndarray  # (T,) bool, whether step i filled an order


def replay(
    market: Market,
    targets: np.ndarray,
    *,
    start: int,
    costs: CostConfig | None = None,
    fill: Fill = "open",
    latency: int = 0,
    initial_equity: float = 1.0,
    mode: Literal["on_change", "always"] = "on_change",
    rates: np.ndarray | None = None,
) -> Replay:
    """Replay target weights ``targets[i]`` decided at the close of bar ``start + i``.

    ``targets`` is ``(T,)`` for a one-asset market or ``(T, n_assets)``. Step ``i`` executes the
    decision of step ``i - latency`` (flat before) at the fill price of bar ``start + i + 1`` and
    marks at its close. ``mode="on_change"`` trades only when the executed target differs from the
    held one (discrete positions: hold keeps the units); ``"always"`` rebalances every step.
    ``rates`` overrides `cost_rates` (e.g. jittered costs).
    """
    targets = np.asarray(targets, dtype=np.float64).reshape(len(targets), -1)
    n_steps, n_assets = targets.shape
    if n_assets != market.n_assets:
        raise ValueError(f"targets have {n_assets} assets, market has {market.n_assets}")
    if start < 0 or start + n_steps > market.n_bars - 1:
        raise ValueError("replay runs past the end of the market")
    price = fill_prices(market, fill)
    rates = cost_rates(market, costs or CostConfig()) if rates is None else np.asarray(rates)
    rates = rates.reshape(market.n_bars, -1)
    units = np.zeros(n_assets)
    cash = float(initial_equity)
    held = np.zeros(n_assets)
    out_eq = np.empty(n_steps + 1)
    out_eq[0] = initial_equity
    out_cost = np.zeros(n_steps)
    out_traded = np.zeros(n_steps)
    out_units = np.empty((n_steps, n_assets))
    out_trade = np.zeros(n_steps, dtype=bool)
    for i in range(n_steps):
        t1 = start + i + 1
        execute = targets[i - latency] if i >= latency else np.zeros(n_assets)
        units, cash, held, out_traded[i], out_cost[i], out_trade[i] = fill_bar(
            market, t1, units, cash, held, execute, price[t1], rates[t1], mode
        )
        out_units[i] = units
        out_eq[i + 1] = mark(units, cash, market.close[t1])
    return Replay(out_eq, out_cost, out_traded, out_units, out_trade)
