"""Baselines that pay the same costs as the policy: buy-and-hold, equal weight, rule strategies.

Every baseline is a schedule of target weights replayed through `tradea3c.envs.execution` (the
envs' own fill and cost functions), so a baseline can never look cheaper than the policy.
Rule signals at bar t use closes up to t only (the decision fills at the next bar, as the
policy's). Rules are small TOML files under ``strategies/rules/``.

Listings (`Market.tradable`): equal weight spreads over the assets listed at the decision bar
(the hold buys those listed at the start; a delisted holding goes to cash); a rule is silent on an
asset until its listing has the rule's history. With an index membership "listed" means listed
and a member: a holding that leaves the index is sold at the next fill, or with
``on_exit="hold"`` (`Market.keep`) at the next periodic rebalance (the holds: when it delists).

Volatility targeting (``vol_target=``, `tradea3c.envs.anchors`; Moreira & Muir 2017, Harvey et al.
2018): exposure ``min(cap, target_vol / sigma_t)`` decided at the close of t from the trailing
realised volatility up to t. One asset: ``vol_target``, buy-and-hold scaled daily by it (the
anchor of an anchored env, replayed like the hold: it trades only when the rounded exposure
changes). Several assets: ``vol_target_equal_weight``, the equal weight scaled by the exposure of
the (daily rebalanced) equal-weight basket's returns, rebalanced every `REBALANCE_EVERY` bars,
the rest in cash. A timing agent has to beat these, not only the hold: they already time risk.

Several assets also get risk-based allocations (`tradea3c.backtest.risk`: inverse volatility,
minimum variance, hierarchical risk parity), re-fitted every `REBALANCE_EVERY` bars on the trailing
`risk.RISK_WINDOW` bars of returns up to the decision bar and replayed like the equal weight.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from tradea3c import resources
from tradea3c.backtest.curve import Curve, curve_from_replay
from tradea3c.backtest.risk import RISK_MODELS, RiskModel, risk_schedule
from tradea3c.config import ConfigError, load_toml
from tradea3c.data.market import Market
from tradea3c.envs.anchors import VolTargetConfig, exposure_for_vol, trailing_vol, vol_target_exposure
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
VOL_TARGET = VolTargetConfig()  # the vol-target baselines' default rule: 15% a year, 63 bars, cap 1


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
    out = []
    for p in files:
        try:
            out.append(load_toml(RuleConfig, p))
        except ConfigError as exc:  # names the file; say what it is and how to get past it
            raise ConfigError(
                f"rule baseline {exc} (fix the file or move it out of {p.parent}/ to run without it)"
            ) from None
    return out


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
    price, close, listed, keep = fill_prices(market, fill), market.close, market.tradable, market.keep
    rates = cost_rates(market, costs)
    units, cash = np.zeros(market.n_assets), float(initial_equity)
    eq, cst, trd = np.empty(n_steps + 1), np.zeros(n_steps), np.zeros(n_steps)
    held, fills = np.empty((n_steps, market.n_assets)), np.zeros(n_steps, dtype=bool)
    eq[0] = initial_equity
    for i in range(n_steps):
        t1 = start + i + 1
        if listed is not None:
            kept = None if keep is None else keep[t1]  # on_exit="hold": sold at the next rebalance
            units, cash, trd[i], cst[i] = delist(units, cash, listed[t1], price[t1], rates[t1], kept)
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


def _listed_close(market: Market) -> np.ndarray:
    """Closes with NaN where an asset is not listed (placeholder prices carry no volatility)."""
    return market.close if market.tradable is None else np.where(market.tradable, market.close, np.nan)


def basket_log_returns(market: Market, end: int) -> np.ndarray:
    """Log returns ``(end,)`` of the equal-weight basket rebalanced every bar: row ``t`` is the mean
    simple return into bar ``t`` of the assets listed at ``t - 1`` and ``t`` (NaN where none is, and
    in row 0)."""
    c = _listed_close(market)[:end]
    out = np.full(len(c), np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        simple = c[1:] / c[:-1] - 1.0
    live = np.isfinite(simple)
    count = live.sum(axis=1)
    mean = np.where(live, simple, 0.0).sum(axis=1) / np.maximum(count, 1)
    with np.errstate(invalid="ignore"):
        out[1:] = np.where(count > 0, np.log1p(mean), np.nan)
    return out


def vol_target_schedule(
    market: Market, start: int, n_steps: int, cfg: VolTargetConfig, *, every: int
) -> np.ndarray:
    """Targets ``(n_steps, n_assets)`` of ``vol_target_equal_weight``: row ``i`` holds exposure / n
    per asset (`replay_periodic` spreads it over the listed assets), the exposure decided at the
    latest rebalance step ``k <= i`` (``k % every == 0``) from the basket's returns up to the close
    of bar ``start + k`` (`basket_log_returns`, `tradea3c.envs.anchors.exposure_for_vol`)."""
    sigma = trailing_vol(basket_log_returns(market, start + n_steps), cfg.window, cfg.periods_per_year)
    exposure = exposure_for_vol(sigma[start : start + n_steps], cfg)
    held = exposure[(np.arange(n_steps) // every) * every]
    return np.repeat(held[:, None] / market.n_assets, market.n_assets, axis=1)


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
    vol_target: VolTargetConfig | None = VOL_TARGET,
) -> list[Curve]:
    """Buy-and-hold then ``vol_target`` (one asset) or, for several assets, equal-weight
    buy-and-hold, equal weight rebalanced every `REBALANCE_EVERY` bars, ``vol_target_equal_weight``
    and each ``risk`` model (`tradea3c.backtest.risk`, named e.g. ``hrp_rebal21``; ``()`` skips their
    fits), then each rule; all over steps ``start .. start + n_steps`` with the policy's fill and
    costs (and its latency, except the periodic rebalances, which fill at the next bar).

    ``vol_target``: the volatility-targeting rule of the ``vol_target*`` baselines (module doc;
    default 15% a year over 63 bars, cap 1.0, step 0.05); None skips them. The first curve is
    always the hold (`BacktestReport.benchmark`). On an intraday market the rule's volatility is
    annualised with the market's bars a year (`Market.periods_per_year`) unless set otherwise."""
    n = market.n_assets
    if vol_target is not None and market.intraday and vol_target.periods_per_year == 252.0:
        vol_target = dataclasses.replace(vol_target, periods_per_year=market.periods_per_year)
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
    if n == 1 and vol_target is not None:
        # the hold's position scaled by the exposure (exposure 1 everywhere = the hold, bar for bar)
        exposure = vol_target_exposure(_listed_close(market)[: start + n_steps, 0], vol_target)
        targets = hold[:, 0] * exposure[start:]
        out.append(_run("vol_target", market, start, targets, costs, fill, latency, initial_equity))
    if n > 1:
        # (name, weights replayed, targets reported): fixed equal weights, the vol-targeted equal
        # weight, then each risk schedule
        periodic = [(f"equal_weight_rebal{REBALANCE_EVERY}", ew, hold)]
        if vol_target is not None:
            schedule = vol_target_schedule(market, start, n_steps, vol_target, every=REBALANCE_EVERY)
            periodic.append(("vol_target_equal_weight", schedule, schedule))
        for model in risk:
            schedule = risk_schedule(market, start, n_steps, model, every=REBALANCE_EVERY)
            periodic.append((f"{model}_rebal{REBALANCE_EVERY}", schedule, schedule))
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
            out.append(curve_from_replay(name, market, start, targets, rep))
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
