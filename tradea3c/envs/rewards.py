"""Rewards from the equity path (net of costs), scalar (one env) and vectorised (K envs).

Both forms perform the same float64 operations in the same order, so a vector env and K single
envs give the same rewards. ``e0``/``e1`` are equities at consecutive closes; ``e1`` is floored at
a tiny positive value so a ruinous step still has a finite reward (the episode then terminates).

Two kinds take a per-step input ``aux`` that the env supplies from prices (`reward_aux`):
"active" the benchmark's log return over the same step, ``log(B[t+1]/B[t])``
(`asset_log_returns`, `basket_log_returns`); "vol_scaled" the multiplier
``min(VOL_SCALE_CAP, vol_target / sigma_t)`` of the step's return, with ``sigma_t`` the trailing
realised volatility known at the decision bar (`vol_multipliers`).
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import numpy as np

from tradea3c.envs.anchors import realised_vol
from tradea3c.envs.config import RewardConfig

if TYPE_CHECKING:
    from tradea3c.data.market import Market

_KINDS = {"log_return": 0, "dsr": 1, "drawdown": 2, "active": 3, "vol_scaled": 4}
VOL_SCALE_CAP = 10.0
"""Largest vol_scaled multiplier: a near-constant price cannot blow the reward up."""


def needs_benchmark(cfg: RewardConfig) -> bool:
    """Whether the env must supply a per-step ``aux`` input (`reward_aux`): kind 'active'
    against the asset, or kind 'vol_scaled'."""
    return (cfg.kind == "active" and cfg.benchmark == "asset") or cfg.kind == "vol_scaled"


def reward_periods(market: Market) -> float:
    """Bars a year that annualise the vol_scaled reward's volatility on ``market``: 252 for daily
    bars (as always), `Market.periods_per_year` for intraday ones (1h: 7 x 252, ...)."""
    return market.periods_per_year if market.intraday else 252.0


def vol_multipliers(close: np.ndarray, target: float, window: int, periods: float = 252.0) -> np.ndarray:
    """``out[t] = min(VOL_SCALE_CAP, target / sigma[t-1])`` for a ``(T,)`` close: the vol_scaled
    reward's multiplier of the step ending at bar t, from the volatility known when the step's
    order was decided (1.0 until ``window`` returns exist).

    Worked example: sigma = 30% a year at the decision bar, target 15%: a step that earns
    log(E1/E0) = 0.02 is rewarded 0.02 * 0.15 / 0.30 = 0.01; at sigma = 10% it would be 0.03."""
    sigma = realised_vol(close, window, periods)
    out = np.ones(len(close))
    s = sigma[:-1]
    ok = np.isfinite(s) & (s > 0)
    out[1:][ok] = np.minimum(VOL_SCALE_CAP, target / s[ok])
    return out


def reward_aux(cfg: RewardConfig, close: np.ndarray, periods: float = 252.0) -> np.ndarray:
    """The per-bar ``aux`` input of the reward for one asset's ``(T,)`` close (`needs_benchmark`);
    ``periods``: bars a year annualising the vol_scaled volatility (`reward_periods`)."""
    if cfg.kind == "vol_scaled":
        return vol_multipliers(close, cfg.vol_target, cfg.vol_window, periods)
    return asset_log_returns(close)


def asset_log_returns(close: np.ndarray) -> np.ndarray:
    """``out[t] = log(close[t] / close[t-1])`` (``out[0] = 0``) along axis 0: the log return of
    holding the asset from close to close, i.e. the "asset" benchmark of a step ending at bar t.
    (Made contiguous first: a column of a panel and a copy of it give bit-identical results.)"""
    close = np.ascontiguousarray(close, dtype=np.float64)
    out = np.zeros_like(close)
    out[1:] = np.log(close[1:] / close[:-1])
    return out


def basket_log_returns(close: np.ndarray, start: int, listed: np.ndarray | None = None) -> np.ndarray:
    """Per-bar log returns of the equal-weight buy-and-hold basket bought at the close of ``start``:
    ``B[t] = mean_j close[t, j] / close[start, j]`` and ``out[t] = log(B[t] / B[t-1])`` for
    ``t > start`` (0 up to ``start``). ``close`` is ``(T, n_assets)``.

    ``listed`` (bool ``(T, n_assets)``, None = all): members not listed at a bar are left out,
    never held at their placeholder prices. The basket holds equal values of the members listed at
    ``start``; a step's return is that of the held members still listed at its end (a delisted
    member's value goes with the rest); at the close of a bar where the listed set changes, the
    basket's value is spread equally over the members listed there. Without changes in the listed
    set this is the formula above, to the bit."""
    close = np.asarray(close, dtype=np.float64)
    out = np.zeros(len(close))
    if listed is None or np.asarray(listed)[start:].all():
        b = (close[start:] / close[start]).mean(axis=1)
        out[start + 1 :] = np.log(b[1:] / b[:-1])
        return out
    listed = np.asarray(listed, dtype=bool)
    changes = (np.flatnonzero((listed[start + 1 :] != listed[start:-1]).any(axis=1)) + start + 1).tolist()
    bounds = [start, *changes]
    for i, s in enumerate(bounds):  # the segment bought at the close of s, up to the next change e
        e = bounds[i + 1] if i + 1 < len(bounds) else len(close) - 1
        held = listed[s]
        if e <= s or not held.any():
            continue
        b = (close[s : e + 1, held] / close[s, held]).mean(axis=1)
        out[s + 1 : e + 1] = np.log(b[1:] / b[:-1])
        stay = held & listed[e]
        if i + 1 < len(bounds) and (stay != held).any():  # members gone at e: the step over the rest
            rel = close[e - 1 : e + 1, stay] / close[s, stay]
            out[e] = np.log(rel[1].sum() / rel[0].sum()) if stay.any() else 0.0
    return out


def basket_reward_aux(
    cfg: RewardConfig,
    close: np.ndarray,
    start: int,
    listed: np.ndarray | None = None,
    periods: float = 252.0,
) -> np.ndarray:
    """`reward_aux` of a portfolio's ``(T, n)`` close: "active" against the equal-weight basket
    bought at ``start`` (`basket_log_returns`); "vol_scaled" by the trailing volatility of the
    daily-rebalanced equal-weight basket. ``listed`` (bool ``(T, n)``, None = all): either basket
    holds only the members listed at a bar (the daily one: listed on both bars of a step)."""
    if cfg.kind != "vol_scaled":
        return basket_log_returns(close, start, listed)
    c = np.asarray(close, dtype=np.float64)
    simple = np.zeros(len(c))
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a step with no listed member: NaN, then 0
        r = c[1:] / c[:-1] - 1.0
        if listed is not None:
            ok = np.asarray(listed, dtype=bool)
            r = np.where(ok[1:] & ok[:-1], r, np.nan)
        simple[1:] = np.nanmean(r, axis=1)
    index = np.exp(np.cumsum(np.log1p(np.nan_to_num(simple))))
    return vol_multipliers(index, cfg.vol_target, cfg.vol_window, periods)


class ScalarReward:
    """Reward state of one env (DSR moments, drawdown peak).

    kind "active": ``scale * (log(E[t+1]/E[t]) - aux)`` with ``aux = log(B[t+1]/B[t])``.
    Worked example: equity 1.00 -> 1.01 while the close goes 100 -> 102 (benchmark "asset"):
    reward = log(1.01) - log(1.02) = 0.00995033 - 0.01980263 = -0.00985230 (scale 1). Holding the
    asset the whole step without trading earns exactly 0; beating it earns a positive reward.

    kind "vol_scaled": ``scale * log(E[t+1]/E[t]) * aux`` with ``aux`` from `vol_multipliers`;
    e.g. equity 1.00 -> 1.01 at multiplier 0.5 (asset vol 30%, target 15%): 0.00995033 * 0.5 =
    0.00497517.

    kind "dsr" (Moody & Saffell 2001): with EMA moments A (mean) and B (second moment) of the
    simple returns R before this step, ``D = (B dA - A dB / 2) / (B - A^2)^1.5``, ``dA = R - A``,
    ``dB = R^2 - B``; then A += eta dA, B += eta dB. E.g. A = 0.001, B = 0.0002, R = 0.01:
    dA = 0.009, dB = -0.0001, var = 0.000199, D = (1.8e-6 + 5e-8) / 2.807e-6 = 0.6590.
    """

    __slots__ = ("kind", "scale", "lam", "eta", "a", "b", "peak", "dd", "tiny")

    def __init__(self, cfg: RewardConfig, initial_equity: float) -> None:
        self.kind = _KINDS[cfg.kind]
        self.scale, self.lam, self.eta = cfg.scale, cfg.risk_aversion, cfg.dsr_eta
        self.tiny = 1e-9 * initial_equity
        self.reset(initial_equity)

    def reset(self, equity: float) -> None:
        self.a = self.b = self.dd = 0.0
        self.peak = equity

    def __call__(self, e0: float, e1: float, aux: float = 0.0) -> float:
        e1 = e1 if e1 > self.tiny else self.tiny
        if self.kind == 0:
            return self.scale * math.log(e1 / e0)
        if self.kind == 3:
            return self.scale * (math.log(e1 / e0) - aux)
        if self.kind == 4:
            return self.scale * math.log(e1 / e0) * aux
        if self.kind == 2:
            r = math.log(e1 / e0)
            if e1 > self.peak:
                self.peak = e1
            dd = 1.0 - e1 / self.peak
            inc = dd - self.dd
            self.dd = dd
            return self.scale * (r - self.lam * (inc if inc > 0.0 else 0.0))
        ret = e1 / e0 - 1.0
        a, b = self.a, self.b
        da, db = ret - a, ret * ret - b
        var = b - a * a
        r = (b * da - 0.5 * a * db) / var**1.5 if var > 1e-12 else 0.0
        self.a, self.b = a + self.eta * da, b + self.eta * db
        return self.scale * r


class VectorReward:
    """Reward state of K envs; `reset(mask, equity)` restarts the envs in ``mask``.

    Same kinds and formulas as `ScalarReward` (``aux``: array of K per-step inputs)."""

    def __init__(self, cfg: RewardConfig, initial_equity: float, k: int) -> None:
        self.kind = _KINDS[cfg.kind]
        self.scale, self.lam, self.eta = cfg.scale, cfg.risk_aversion, cfg.dsr_eta
        self.tiny = 1e-9 * initial_equity
        self.a, self.b, self.dd = np.zeros(k), np.zeros(k), np.zeros(k)
        self.peak = np.full(k, float(initial_equity))

    def reset(self, idx, equity: float) -> None:
        self.a[idx] = self.b[idx] = self.dd[idx] = 0.0
        self.peak[idx] = equity

    def __call__(self, e0: np.ndarray, e1: np.ndarray, aux: np.ndarray | float = 0.0) -> np.ndarray:
        e1 = np.maximum(e1, self.tiny)
        if self.kind == 0:
            return self.scale * np.log(e1 / e0)
        if self.kind == 3:
            return self.scale * (np.log(e1 / e0) - aux)
        if self.kind == 4:
            return self.scale * np.log(e1 / e0) * aux
        if self.kind == 2:
            r = np.log(e1 / e0)
            np.maximum(self.peak, e1, out=self.peak)
            dd = 1.0 - e1 / self.peak
            inc = dd - self.dd
            self.dd = dd
            return self.scale * (r - self.lam * np.maximum(inc, 0.0))
        ret = e1 / e0 - 1.0
        a, b = self.a, self.b
        da, db = ret - a, ret * ret - b
        var = b - a * a
        ok = var > 1e-12
        with np.errstate(divide="ignore", invalid="ignore"):
            r = np.where(ok, (b * da - 0.5 * a * db) / np.where(ok, var, 1.0) ** 1.5, 0.0)
        self.a, self.b = a + self.eta * da, b + self.eta * db
        return self.scale * r
