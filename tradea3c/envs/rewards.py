"""Rewards from the equity path (net of costs), scalar (one env) and vectorised (K envs).

Both forms perform the same float64 operations in the same order, so a vector env and K single
envs give the same rewards. ``e0``/``e1`` are equities at consecutive closes; ``e1`` is floored at
a tiny positive value so a ruinous step still has a finite reward (the episode then terminates).

The "active" kind also takes ``bench``: the benchmark's log return over the same step,
``log(B[t+1]/B[t])``, which the env supplies (`asset_log_returns`, `basket_log_returns`).
"""

from __future__ import annotations

import math

import numpy as np

from tradea3c.envs.config import RewardConfig

_KINDS = {"log_return": 0, "dsr": 1, "drawdown": 2, "active": 3}


def needs_benchmark(cfg: RewardConfig) -> bool:
    """Whether the env must supply benchmark log returns (kind 'active' against the asset)."""
    return cfg.kind == "active" and cfg.benchmark == "asset"


def asset_log_returns(close: np.ndarray) -> np.ndarray:
    """``out[t] = log(close[t] / close[t-1])`` (``out[0] = 0``) along axis 0: the log return of
    holding the asset from close to close, i.e. the "asset" benchmark of a step ending at bar t.
    (Made contiguous first: a column of a panel and a copy of it give bit-identical results.)"""
    close = np.ascontiguousarray(close, dtype=np.float64)
    out = np.zeros_like(close)
    out[1:] = np.log(close[1:] / close[:-1])
    return out


def basket_log_returns(close: np.ndarray, start: int) -> np.ndarray:
    """Per-bar log returns of the equal-weight buy-and-hold basket bought at the close of ``start``:
    ``B[t] = mean_j close[t, j] / close[start, j]`` and ``out[t] = log(B[t] / B[t-1])`` for
    ``t > start`` (0 up to ``start``). ``close`` is ``(T, n_assets)``."""
    close = np.asarray(close, dtype=np.float64)
    out = np.zeros(len(close))
    b = (close[start:] / close[start]).mean(axis=1)
    out[start + 1 :] = np.log(b[1:] / b[:-1])
    return out


class ScalarReward:
    """Reward state of one env (DSR moments, drawdown peak).

    kind "active": ``scale * (log(E[t+1]/E[t]) - bench)`` with ``bench = log(B[t+1]/B[t])``.
    Worked example: equity 1.00 -> 1.01 while the close goes 100 -> 102 (benchmark "asset"):
    reward = log(1.01) - log(1.02) = 0.00995033 - 0.01980263 = -0.00985230 (scale 1). Holding the
    asset the whole step without trading earns exactly 0; beating it earns a positive reward.
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

    def __call__(self, e0: float, e1: float, bench: float = 0.0) -> float:
        e1 = e1 if e1 > self.tiny else self.tiny
        if self.kind == 0:
            return self.scale * math.log(e1 / e0)
        if self.kind == 3:
            return self.scale * (math.log(e1 / e0) - bench)
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

    Same kinds and formulas as `ScalarReward` (``bench``: array of K benchmark log returns)."""

    def __init__(self, cfg: RewardConfig, initial_equity: float, k: int) -> None:
        self.kind = _KINDS[cfg.kind]
        self.scale, self.lam, self.eta = cfg.scale, cfg.risk_aversion, cfg.dsr_eta
        self.tiny = 1e-9 * initial_equity
        self.a, self.b, self.dd = np.zeros(k), np.zeros(k), np.zeros(k)
        self.peak = np.full(k, float(initial_equity))

    def reset(self, idx, equity: float) -> None:
        self.a[idx] = self.b[idx] = self.dd[idx] = 0.0
        self.peak[idx] = equity

    def __call__(self, e0: np.ndarray, e1: np.ndarray, bench: np.ndarray | float = 0.0) -> np.ndarray:
        e1 = np.maximum(e1, self.tiny)
        if self.kind == 0:
            return self.scale * np.log(e1 / e0)
        if self.kind == 3:
            return self.scale * (np.log(e1 / e0) - bench)
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
