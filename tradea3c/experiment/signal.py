"""`compute_signal`: what a trained policy holds next session, and the orders to get there.

The decision is the backtester's, by construction: the policy plays the evaluation env
(`tradea3c.backtest.engine.policy_curve`, the same features, masks, execution model and checkpoint
loading as ``tradea3c backtest``) over its own account from a base bar (default: the checkpoint's
last validation bar, the backtest's default base bar) to the decision bar ``D``, and the signal is
the target it decides at the close of ``D``. The market is cut after ``D`` (nothing later exists
for the decision), and one placeholder bar (``D``'s close repeated, dated the next business day) is
appended so that the env can take the step that decides at ``D``; features are causal, so the
placeholder never reaches that decision. The policy's observation includes its own account
(position, equity since entry), which is the model's simulated account on that path, not yours:
your holdings only change the orders.

Orders: your holdings (``capital`` in cash, default 100,000, or ``positions``: ticker -> quantity,
plus an optional ``"cash"`` entry) are valued at ``D``'s close; each asset's order brings it to the
target weight of that equity at that close, rounded toward zero to whole shares; its estimated
cost is the run's cost model (`tradea3c.envs.execution.cost_rates`: commission + half spread +
slippage, plus the ATR part known at ``D``) on the order's notional at that close. The fill itself
happens at the next session's open (or close: the run's ``fill``), so expect the price to differ.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradea3c.backtest.curve import Curve
from tradea3c.backtest.engine import (
    BacktestError,
    BarRange,
    LoadedPolicy,
    ensemble_policy,
    load_policy,
    policy_curve,
)
from tradea3c.data.market import FIELDS, Market
from tradea3c.envs.execution import cost_rates

DEFAULT_CAPITAL = 100_000.0
"""Cash of the account when neither ``capital`` nor ``positions`` is given."""
MAX_AGE_DAYS = 4
"""Business days the last daily bar may lag today (weekends never count; holidays are tolerated)."""
ORDER_COLUMNS = (
    "ticker",
    "side",
    "quantity",
    "price",
    "notional",
    "est_cost",
    "held",
    "target_weight",
    "weight_before",
    "weight_after",
)
_INTERVAL_BDAYS = {"1wk": 5, "5d": 5, "1mo": 21, "3mo": 63}


class SignalError(BacktestError):
    """A user-facing signal problem (stale data, missing tickers, another universe): one line."""


@dataclass(frozen=True, eq=False)
class Signal:
    """The policy's target for the session after `date` and the orders for an account.

    ``weights``: target weight per ticker decided at the close of `date` (fraction of equity,
    negative = short; cash is ``1 - sum``). ``executes``: the weights the next session's fill
    executes (equal to ``weights`` unless the run has a latency: then the decision of ``latency``
    bars earlier). ``orders``: one row per ticker (`ORDER_COLUMNS`; ``side`` is buy, sell or hold,
    ``quantity`` whole shares >= 0, ``price`` the close of `date`, ``est_cost`` in account currency).
    """

    date: pd.Timestamp
    next_session: pd.Timestamp
    weights: pd.Series
    executes: pd.Series
    orders: pd.DataFrame
    equity: float
    cash: float
    cash_after: float
    run: str
    start: pd.Timestamp
    label: str
    env_kind: str
    fill: str
    latency: int
    costs: dict[str, float]
    fingerprint: str
    warnings: list[str] = field(default_factory=list)

    @property
    def est_cost(self) -> float:
        return float(self.orders["est_cost"].sum())

    def to_dict(self) -> dict[str, Any]:
        """Plain data (what ``--json`` prints)."""
        day = lambda t: str(pd.Timestamp(t).date())  # noqa: E731
        return {
            "run": self.run,
            "date": day(self.date),
            "next_session": day(self.next_session),
            "start": day(self.start),
            "label": self.label,
            "env_kind": self.env_kind,
            "fill": self.fill,
            "latency": self.latency,
            "costs": self.costs,
            "fingerprint": self.fingerprint,
            "weights": {k: float(v) for k, v in self.weights.items()},
            "cash_weight": float(1.0 - self.weights.sum()),
            "executes": {k: float(v) for k, v in self.executes.items()},
            "equity": self.equity,
            "cash": self.cash,
            "cash_after": self.cash_after,
            "est_cost": self.est_cost,
            "orders": self.orders.to_dict(orient="records"),
            "warnings": list(self.warnings),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, default=_plain)


def _plain(x: Any) -> Any:
    return x.item() if isinstance(x, np.generic) else str(x)


# --------------------------------------------------------------------------- inputs
def load_runs(runs: str | Path | Sequence[str | Path]) -> tuple[LoadedPolicy, list[LoadedPolicy]]:
    """The policy of one run, or the ensemble of several (`ensemble_policy`, as ``backtest
    --ensemble``), and its members."""
    paths = [runs] if isinstance(runs, str | Path) else list(runs)
    if not paths:
        raise SignalError("no run given; pass a run directory or checkpoint")
    members = [load_policy(p) for p in paths]
    return (ensemble_policy(members) if len(members) > 1 else members[0]), members


def signal_market(
    pol: LoadedPolicy, data_dir: str | Path | None = None, members: Sequence[LoadedPolicy] = ()
) -> Market:
    """The policy's market from its stored spec, with every cached bar (the spec's ``end`` is
    dropped) and ``data_dir`` if given; refuses missing tickers and another universe."""
    from tradea3c.data import DataError
    from tradea3c.data.spec import load_market_spec

    spec = replace(pol.market_spec, end=None)
    if data_dir is not None:
        spec = replace(spec, data_dir=str(data_dir))
    try:
        market = load_market_spec(spec)
    except (DataError, FileNotFoundError, ValueError) as exc:
        raise SignalError(f"{pol.path}: cannot load its market ({exc}); fetch the data first") from None
    for p in [pol, *members]:
        check_universe(p, market)
    return market


def check_universe(pol: LoadedPolicy, market: Market) -> None:
    """The market must hold exactly the checkpoint's tickers (``extra["tickers"]``), in order."""
    if not pol.tickers or tuple(market.tickers) == pol.tickers:
        return
    missing = [t for t in pol.tickers if t not in market.tickers]
    if missing:
        shown = " ".join(missing[:8]) + (" ..." if len(missing) > 8 else "")
        raise SignalError(
            f"{len(missing)} of the policy's {len(pol.tickers)} tickers are missing from the cache: "
            f"{shown}; run `tradea3c fetch {shown}`"
        )
    extra = [t for t in market.tickers if t not in pol.tickers]
    raise SignalError(
        f"{pol.path}: the market's universe differs from the checkpoint's ({len(market.tickers)} "
        f"tickers now{', extra: ' + ' '.join(extra[:8]) if extra else ', another order'}; trained on "
        f"{len(pol.tickers)}); restore the run's universe or retrain"
    )


def _day(value: str | pd.Timestamp | None, flag: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        return pd.Timestamp(value).normalize()
    except (ValueError, TypeError, OverflowError):
        raise SignalError(f"{flag} {value!r} is not a date; use YYYY-MM-DD") from None


def decision_bar(market: Market, date: str | pd.Timestamp | None) -> int:
    """The last bar on or before ``date`` (default: the last bar)."""
    d = _day(date, "--date")
    last = market.end.date()
    if d is None:
        return market.n_bars - 1
    i = int(np.searchsorted(market.dates, np.datetime64(d, "ns"), side="right")) - 1
    if i < 0:
        raise SignalError(f"--date {d.date()} is before the market's first bar ({market.start.date()})")
    if d > market.end.normalize() + pd.offsets.BDay(1):
        raise SignalError(
            f"--date {d.date()}: the cached data ends at {last}; run `tradea3c fetch` first "
            "(a signal needs the bar of the day before its session)"
        )
    return i


def base_bar(pol: LoadedPolicy, market: Market, start: str | pd.Timestamp | None, bar: int) -> int:
    """The bar the policy's own account starts at (equity 1 at its close, first decision there):
    the first bar on/after ``start``, default the checkpoint's last validation bar (as ``backtest``)."""
    d = market.dates
    s = _day(start, "--start")
    if s is None:
        val_end = np.datetime64(pd.Timestamp(pol.split.val_end), "ns")
        lo = max(int(np.searchsorted(d, val_end, side="right")) - 1, 0)
    else:
        lo = int(np.searchsorted(d, np.datetime64(s, "ns"), side="left"))
    if lo > bar:
        day = pd.Timestamp(d[min(lo, len(d) - 1)]).date()
        raise SignalError(
            f"the decision bar {pd.Timestamp(d[bar]).date()} is before the policy's track start {day} "
            f"(val_end {pol.split.val_end}); pass --start on or before the date"
        )
    return lo


def check_fresh(
    market: Market,
    today: str | pd.Timestamp | None = None,
    max_age_days: int = MAX_AGE_DAYS,
    past: str = "--date for a past session",
) -> None:
    """Refuse a market whose last bar is more than ``max_age_days`` business days (times the bar
    interval: a week for weekly bars) before ``today`` (default: today, UTC); ``past``: the
    message's way round it."""

    now = pd.Timestamp.now("UTC").tz_localize(None) if today is None else pd.Timestamp(today)
    now, last = now.normalize(), market.end.normalize()
    if last >= now:
        return
    interval = market.bar_interval if market.bar_interval != "irregular" else "1d"
    allowed = max_age_days + _INTERVAL_BDAYS.get(interval, 1) - 1
    age = len(pd.bdate_range(last, now)) - 1  # business days after the last bar, up to today
    if age > allowed:
        raise SignalError(
            f"stale data: the last cached bar is {last.date()}, {age} business days before "
            f"{now.date()} (allowed {allowed}, --max-age-days); run `tradea3c fetch` first, or pass "
            f"{past}"
        )


def read_positions(path: str | Path) -> dict[str, float]:
    """Holdings from a CSV ``ticker,quantity`` (an optional ``cash`` row holds the cash)."""
    p = Path(path)
    try:
        df = pd.read_csv(p, dtype={"ticker": str})
    except (OSError, ValueError) as exc:
        raise SignalError(f"--positions {p}: cannot read it ({str(exc).splitlines()[0]})") from None
    df.columns = [str(c).strip().lower() for c in df.columns]
    if not {"ticker", "quantity"} <= set(df.columns):
        raise SignalError(f"--positions {p}: needs the columns ticker,quantity (got {','.join(df.columns)})")
    out: dict[str, float] = {}
    for ticker, qty in zip(df["ticker"], df["quantity"], strict=True):
        name = str(ticker).strip()
        name = "cash" if name.lower() == "cash" else name.upper()
        try:
            value = float(qty)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            raise SignalError(f"--positions {p}: {name} has quantity {qty!r}; give a number")
        if name in out:
            raise SignalError(f"--positions {p}: {name} is listed twice; give one row per ticker")
        out[name] = value
    return out


# ------------------------------------------------------------------------- decision
def with_placeholder(market: Market) -> Market:
    """``market`` plus one bar after its last: the last close as every price, volume 0, dated the
    next business day (the session the signal is for). Lets the env take the step deciding at the
    last real bar; features are causal, so it never reaches that decision."""
    last = market.n_bars - 1
    close = market.close[last : last + 1]
    arrays = {f: np.vstack([getattr(market, f), close]) for f in FIELDS if f != "volume"}
    arrays["volume"] = np.vstack([market.volume, np.zeros((1, market.n_assets))])

    def mask(a: np.ndarray | None) -> np.ndarray | None:
        return None if a is None else np.vstack([a, a[last : last + 1]])

    nxt = np.datetime64(market.end + pd.offsets.BDay(1), "ns")
    return Market(
        tickers=market.tickers,
        dates=np.append(market.dates, nxt),
        **arrays,
        source=market.source,
        adjusted=market.adjusted,
        name=market.name,
        tradable=mask(market.tradable),
        keep=mask(market.keep),
        halted=mask(market.halted),
    )


def policy_track(pol: LoadedPolicy, market: Market, lo: int, bar: int) -> tuple[Curve, Market]:
    """The backtester's curve of ``pol`` from base bar ``lo`` through the decision at ``bar``:
    ``curve.targets[k]`` is the target decided at the close of bar ``lo + k`` (k = 0 .. bar - lo,
    the last one being the signal), on the market cut after ``bar`` plus a placeholder bar (also
    returned). ``curve.equity[k]`` is the model's own account at the close of ``lo + k``."""
    ext = with_placeholder(market.take(slice(0, bar + 1)))
    curve = policy_curve(pol, ext, BarRange(lo, bar + 1, False))
    if curve.dates[0] != ext.dates[lo]:
        raise SignalError(
            f"the policy needs more history before {pd.Timestamp(ext.dates[lo]).date()} "
            f"(its first decision could only be {pd.Timestamp(curve.dates[0]).date()}); pass a later --start"
        )
    return curve, ext


def executed_target(pol: LoadedPolicy, targets: np.ndarray, k: int) -> np.ndarray:
    """The target the fill after decision ``k`` executes: decision ``k - latency`` (flat before)."""
    j = k - pol.env_config.latency
    return targets[j] if j >= 0 else np.zeros(targets.shape[1])


def make_orders(
    tickers: Sequence[str],
    target: np.ndarray,
    price: np.ndarray,
    rate: np.ndarray,
    held: Mapping[str, float],
    cash: float,
) -> tuple[pd.DataFrame, float, float]:
    """Orders bringing ``held`` (units per ticker) and ``cash`` to ``target`` weights at ``price``,
    whole shares rounded toward zero. Returns ``(orders, equity, cash_after)``."""
    units = np.array([float(held.get(t, 0.0)) for t in tickers])
    equity = float(cash + units @ price)
    delta = target * equity / price - units
    qty = np.trunc(np.abs(delta))
    signed = np.sign(delta) * qty
    notional = qty * price
    cost = rate * notional
    after = units + signed
    cash_after = float(cash - signed @ price - cost.sum())
    safe = equity if equity != 0 else math.nan
    orders = pd.DataFrame(
        {
            "ticker": list(tickers),
            "side": np.where(qty == 0, "hold", np.where(signed > 0, "buy", "sell")),
            "quantity": qty.astype(np.int64),
            "price": price,
            "notional": notional,
            "est_cost": cost,
            "held": units,
            "target_weight": target,
            "weight_before": units * price / safe,
            "weight_after": after * price / safe,
        },
        columns=list(ORDER_COLUMNS),
    )
    return orders, equity, cash_after


def policy_signal(
    pol: LoadedPolicy,
    market: Market,
    *,
    date: str | pd.Timestamp | None = None,
    start: str | pd.Timestamp | None = None,
    capital: float | None = None,
    positions: Mapping[str, float] | None = None,
    warnings: Sequence[str] = (),
) -> Signal:
    """`compute_signal` for a loaded policy and its market (no freshness check)."""
    if capital is not None and positions is not None:
        raise SignalError("give --capital or --positions, not both (a positions file holds its cash row)")
    bar = decision_bar(market, date)
    lo = base_bar(pol, market, start, bar)
    curve, ext = policy_track(pol, market, lo, bar)
    k = bar - lo
    tickers = list(market.tickers)
    target = np.asarray(curve.targets[k], dtype=np.float64)
    execute = executed_target(pol, np.asarray(curve.targets), k)
    holdings = dict(positions or {})
    cash = float(holdings.pop("cash", 0.0)) if positions is not None else float(capital or DEFAULT_CAPITAL)
    unknown = [t for t in holdings if t not in tickers]
    if unknown:
        raise SignalError(
            f"--positions holds {' '.join(unknown)}, not in the policy's universe "
            f"({' '.join(tickers[:8])}{' ...' if len(tickers) > 8 else ''}); remove those rows"
        )
    cfg = pol.env_config
    rate = cost_rates(ext, cfg.costs)[bar + 1]
    price = market.close[bar]
    orders, equity, cash_after = make_orders(tickers, execute, price, rate, holdings, cash)
    notes = list(warnings)
    if curve.ruined_at is not None and curve.ruined_at <= k:
        notes.append("the policy's own account was ruined on this track (equity <= 0): it holds nothing")
    if equity <= 0:
        raise SignalError(
            f"the account's equity at the close of {market.end.date()} is {equity:g}; nothing to trade"
        )
    d = market.dates
    in_sample = lo + 1 <= bar and d[lo + 1] <= np.datetime64(pd.Timestamp(pol.split.val_end), "ns")
    return Signal(
        date=pd.Timestamp(d[bar]),
        next_session=pd.Timestamp(d[bar + 1]) if bar + 1 < len(d) else pd.Timestamp(ext.dates[-1]),
        weights=pd.Series(target, index=tickers, name="weight"),
        executes=pd.Series(execute, index=tickers, name="weight"),
        orders=orders,
        equity=equity,
        cash=cash,
        cash_after=cash_after,
        run=pol.label,
        start=pd.Timestamp(d[lo]),
        label="in-sample" if in_sample else "out-of-sample",
        env_kind=pol.kind,
        fill=cfg.fill,
        latency=int(cfg.latency),
        costs={k_: float(v) for k_, v in vars(cfg.costs).items()},
        fingerprint=market.fingerprint,
        warnings=notes,
    )


def compute_signal(
    runs: str | Path | Sequence[str | Path],
    *,
    date: str | pd.Timestamp | None = None,
    capital: float | None = None,
    positions: Mapping[str, float] | str | Path | None = None,
    data_dir: str | Path | None = None,
    start: str | pd.Timestamp | None = None,
    max_age_days: int = MAX_AGE_DAYS,
    market: Market | None = None,
    today: str | pd.Timestamp | None = None,
) -> Signal:
    """The target weights of a run (several runs: their ensemble, as ``backtest --ensemble``) for
    the session after ``date`` (default: the last cached bar) and the orders for an account.

    ``capital``: the account's cash (default 100,000) or ``positions`` (ticker -> quantity with an
    optional ``"cash"`` entry, or a CSV path, `read_positions`). ``start``: the base bar of the
    policy's own track (default: the checkpoint's val_end, as ``backtest``). Without ``date``, the
    last bar must be at most ``max_age_days`` business days before ``today`` (`check_fresh`); a
    ``date`` before today skips that check. ``market``: use this market instead of loading the
    run's (tests). Every refusal is a one-line `SignalError` (or `BacktestError` for a checkpoint
    that is not a tradea3c run)."""
    pol, members = load_runs(runs)
    if isinstance(positions, str | Path):
        positions = read_positions(positions)
    if max_age_days < 0:
        raise SignalError(f"--max-age-days {max_age_days}: give 0 or more business days")
    if market is None:
        market = signal_market(pol, data_dir, members)
    else:
        for p in [pol, *members]:
            check_universe(p, market)
    now = pd.Timestamp.now("UTC").tz_localize(None) if today is None else pd.Timestamp(today)
    d = _day(date, "--date")
    if d is None or d >= now.normalize():
        check_fresh(market, now, max_age_days)
    return policy_signal(pol, market, date=d, start=start, capital=capital, positions=positions)
