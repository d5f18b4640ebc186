"""Baselines that pay the same costs as the policy: buy-and-hold, equal weight, rule strategies.

Every baseline is a schedule of target weights replayed through `tradea3c.envs.execution` (the
envs' own fill and cost functions), so a baseline can never look cheaper than the policy.
Rule signals at bar t use closes up to t only (the decision fills at the next bar, as the
policy's). Rules are small TOML files under ``strategies/rules/``.

Listings (`Market.tradable`): equal weight spreads over the assets listed at the decision bar
(the hold buys those listed at the start; a delisted holding goes to cash); a rule is silent on an
asset until its listing has the rule's history.

Several assets also get risk-based allocations (`tradea3c.backtest.risk`: inverse volatility,
minimum variance, hierarchical risk parity), re-fitted every `REBALANCE_EVERY` bars on the trailing
`risk.RISK_WINDOW` bars of returns up to the decision bar and replayed like the equal weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from tradea3c import resources
from tradea3c.backtest.curve import Curve, curve_from_replay
from tradea3c.backtest.risk import RISK_MODELS, RiskModel, risk_schedule
from tradea3c.config import load_toml
from tradea3c.data.market import Market
from tradea3c.envs.execution import (
    CostConfig,
    Fill,
    Replay,
    cost_rates,
    delist,
    fill_prices,
    mark,
    rebalance,
    replay,
)

REBALANCE_EVERY = 21  # bars: monthly rebalancing of the equal-weight and risk baselines


@dataclass(frozen=True)
class RuleConfig:
    """A rule strategy. Each asset gets weight signal / n_assets, signal in {0, 1} (or -1 with short)."""

    name: str = "rule"
    kind: Literal["sma_crossover", "ts_momentum"] = "sma_crossover"
    """sma_crossover: long while SMA(fast) > SMA(slow); ts_momentum: long while the return over
    lookback bars (ending skip bars ago) is positive."""
    fast: int = 50
    slow: int = 200
    lookback: int = 252
    skip: int = 0
    short: bool = False
    """Short (-1) instead of flat when the signal is negative."""

    def __post_init__(self) -> None:
        if min(self.fast, self.slow, self.lookback) < 1 or self.skip < 0 or self.fast >= self.slow:
            raise ValueError(f"rule {self.name}: need 1 <= fast < slow, lookback >= 1, skip >= 0")


def load_rules(folder: Path | None = None) -> list[RuleConfig]:
    """Rule strategies in ``folder`` (default: the shipped ``strategies/rules`` plus the user's own,
    see `tradea3c.resources`), sorted by file name."""
    files = sorted(Path(folder).glob("*.toml")) if folder is not None else resources.listing("rules")
    return [load_toml(RuleConfig, p) for p in files]


def rule_signal(close: np.ndarray, rule: RuleConfig) -> np.ndarray:
    """Signal in {-1, 0, 1} per bar and asset from closes up to that bar; 0 before enough history."""
    c = np.asarray(close, dtype=np.float64).reshape(len(close), -1)
    sig = np.zeros_like(c)
    if rule.kind == "sma_crossover":
        cs = np.vstack([np.zeros((1, c.shape[1])), np.cumsum(c, axis=0)])
        t = np.arange(rule.slow - 1, len(c))
        fast = (cs[t + 1] - cs[t + 1 - rule.fast]) / rule.fast
        slow = (cs[t + 1] - cs[t + 1 - rule.slow]) / rule.slow
        sig[t] = np.where(fast > slow, 1.0, -1.0)
    else:
        t = np.arange(rule.lookback + rule.skip, len(c))
        mom = c[t - rule.skip] / c[t - rule.skip - rule.lookback] - 1.0
        sig[t] = np.where(mom > 0, 1.0, -1.0)
    return sig if rule.short else np.maximum(sig, 0.0)


def rule_history(rule: RuleConfig) -> int:
    """Bars of history (before the signal bar) that ``rule`` reads."""
    return rule.slow - 1 if rule.kind == "sma_crossover" else rule.lookback + rule.skip


def listed_weights(weights: np.ndarray, tradable: np.ndarray | None) -> np.ndarray:
    """``weights`` over the listed assets only, renormalised to the same total."""
    if tradable is None or tradable.all():
        return weights
    w = np.where(tradable, weights, 0.0)
    total = w.sum()
    return w * (weights.sum() / total) if total > 0 else w


def _run(
    name: str,
    market: Market,
    start: int,
    targets: np.ndarray,
    costs: CostConfig,
    fill: Fill,
    latency: int,
    initial: float,
) -> Curve:
    rep = replay(
        market,
        targets,
        start=start,
        costs=costs,
        fill=fill,
        latency=latency,
        initial_equity=initial,
        mode="on_change",
    )
    return curve_from_replay(name, market, start, targets, rep)


def replay_periodic(
    market: Market,
    weights: np.ndarray,
    *,
    start: int,
    n_steps: int,
    every: int,
    costs: CostConfig,
    fill: Fill = "open",
    initial_equity: float = 1.0,
) -> Replay:
    """Rebalance to ``weights`` at the first step and every ``every`` steps after, holding the
    drifting units in between; fills and costs through `execution.rebalance` (no second cost model).

    ``weights``: fixed ``(n_assets,)``, or a schedule ``(n_steps, n_assets)`` whose row ``i`` (decided
    at the close of bar ``start + i``) is read at rebalance steps only. Either is renormalised over
    the assets listed at the decision bar and at the fill bar; all zeros = cash."""
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape not in ((market.n_assets,), (n_steps, market.n_assets)):
        raise ValueError(f"weights have shape {weights.shape}; expected (n_assets,) or (n_steps, n_assets)")
    schedule = weights if weights.ndim == 2 else None
    price, close, listed = fill_prices(market, fill), market.close, market.tradable
    rates = cost_rates(market, costs)
    units, cash = np.zeros(market.n_assets), float(initial_equity)
    eq, cst, trd = np.empty(n_steps + 1), np.zeros(n_steps), np.zeros(n_steps)
    held, fills = np.empty((n_steps, market.n_assets)), np.zeros(n_steps, dtype=bool)
    eq[0] = initial_equity
    for i in range(n_steps):
        t1 = start + i + 1
        if listed is not None:
            units, cash, trd[i], cst[i] = delist(units, cash, listed[t1], price[t1], rates[t1])
            fills[i] = trd[i] > 0
        if i % every == 0:
            target = weights if schedule is None else schedule[i]
            # members listed at the decision bar and still at the fill: no bet on a listing not
            # yet known at the close of t
            w = listed_weights(target, None if listed is None else listed[t1] & listed[t1 - 1])
            units, cash, traded, cost = rebalance(units, cash, w, price[t1], rates[t1])
            trd[i] += traded
            cst[i] += cost
            fills[i] = fills[i] or traded > 0  # a cash baseline "rebalancing" to cash fills nothing
        held[i] = units
        eq[i + 1] = mark(units, cash, close[t1])
    return Replay(eq, cst, trd, held, fills)


def baselines(
    market: Market,
    start: int,
    n_steps: int,
    costs: CostConfig,
    *,
    fill: Fill = "open",
    latency: int = 0,
    initial_equity: float = 1.0,
    rules: list[RuleConfig] | None = None,
    risk: tuple[RiskModel, ...] = RISK_MODELS,
) -> list[Curve]:
    """Buy-and-hold (one asset) or, for several assets, equal-weight buy-and-hold, equal weight
    rebalanced every `REBALANCE_EVERY` bars and each ``risk`` model (`tradea3c.backtest.risk`, named
    e.g. ``hrp_rebal21``; ``()`` skips their fits), then each rule; all over steps
    ``start .. start + n_steps`` with the policy's fill and costs (and its latency, except the
    periodic rebalances, which fill at the next bar)."""
    n = market.n_assets
    ew = np.full(n, 1.0 / n)
    listed = market.tradable
    hold = np.tile(listed_weights(ew, None if listed is None else listed[start]), (n_steps, 1))
    out = [
        _run(
            "buy_and_hold" if n == 1 else "equal_weight_hold",
            market,
            start,
            hold,
            costs,
            fill,
            latency,
            initial_equity,
        )
    ]
    if n > 1:
        # (name, weights replayed, targets reported): fixed equal weights, then each risk schedule
        periodic = [("equal_weight", ew, hold)]
        for model in risk:
            schedule = risk_schedule(market, start, n_steps, model, every=REBALANCE_EVERY)
            periodic.append((model, schedule, schedule))
        for name, weights, targets in periodic:
            rep = replay_periodic(
                market,
                weights,
                start=start,
                n_steps=n_steps,
                every=REBALANCE_EVERY,
                costs=costs,
                fill=fill,
                initial_equity=initial_equity,
            )
            out.append(curve_from_replay(f"{name}_rebal{REBALANCE_EVERY}", market, start, targets, rep))
    close = market.close[: start + n_steps]
    for rule in load_rules() if rules is None else rules:
        sig = rule_signal(close, rule)
        if listed is not None:  # silent until the listing holds the rule's history
            for j in range(n):
                a, b = market.listed_span(j)
                sig[: a + rule_history(rule), j] = 0.0
                sig[b + 1 :, j] = 0.0
        targets = sig[start : start + n_steps] / n
        out.append(_run(rule.name, market, start, targets, costs, fill, latency, initial_equity))
    return out
