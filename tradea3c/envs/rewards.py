"""Rewards from the equity path (net of costs), scalar (one env) and vectorised (K envs).

Both forms perform the same float64 operations in the same order, so a vector env and K single
envs give the same rewards. ``e0``/``e1`` are equities at consecutive closes; ``e1`` is floored at
a tiny positive value so a ruinous step still has a finite reward (the episode then terminates).
"""

from __future__ import annotations

import math

import numpy as np

from tradea3c.envs.config import RewardConfig

_KINDS = {"log_return": 0, "dsr": 1, "drawdown": 2}


class ScalarReward:
    """Reward state of one env (DSR moments, drawdown peak)."""

    __slots__ = ("kind", "scale", "lam", "eta", "a", "b", "peak", "dd", "tiny")

    def __init__(self, cfg: RewardConfig, initial_equity: float) -> None:
        self.kind = _KINDS[cfg.kind]
        self.scale, self.lam, self.eta = cfg.scale, cfg.risk_aversion, cfg.dsr_eta
        self.tiny = 1e-9 * initial_equity
        self.reset(initial_equity)

    def reset(self, equity: float) -> None:
        self.a = self.b = self.dd = 0.0
        self.peak = equity

    def __call__(self, e0: float, e1: float) -> float:
        e1 = e1 if e1 > self.tiny else self.tiny
        if self.kind == 0:
            return self.scale * math.log(e1 / e0)
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
    """Reward state of K envs; `reset(mask, equity)` restarts the envs in ``mask``."""

    def __init__(self, cfg: RewardConfig, initial_equity: float, k: int) -> None:
        self.kind = _KINDS[cfg.kind]
        self.scale, self.lam, self.eta = cfg.scale, cfg.risk_aversion, cfg.dsr_eta
        self.tiny = 1e-9 * initial_equity
        self.a, self.b, self.dd = np.zeros(k), np.zeros(k), np.zeros(k)
        self.peak = np.full(k, float(initial_equity))

    def reset(self, idx, equity: float) -> None:
        self.a[idx] = self.b[idx] = self.dd[idx] = 0.0
        self.peak[idx] = equity

    def __call__(self, e0: np.ndarray, e1: np.ndarray) -> np.ndarray:
        e1 = np.maximum(e1, self.tiny)
        if self.kind == 0:
            return self.scale * np.log(e1 / e0)
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
