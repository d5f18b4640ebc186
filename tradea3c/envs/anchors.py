"""Benchmark positions an agent is anchored to, and the volatility-targeting rule.

An anchored one-asset env (``MarketEnvConfig.anchor``) reads its actions as *tilts* around the
anchor's exposure, so an agent that always picks the zero tilt trades exactly like its anchor;
the backtester replays the same exposures as a baseline (`tradea3c.backtest.baselines`), so the
two can be compared bar for bar.

Anchors: ``buy_and_hold`` (exposure 1.0 every bar) and ``vol_target`` (volatility-targeted
buy-and-hold: exposure ``min(cap, target_vol / sigma_t)``, Moreira & Muir 2017, "Volatility-managed
portfolios"; Harvey et al. 2018, "The impact of volatility targeting"). ``sigma_t`` is the
annualised standard deviation of the last ``window`` daily log returns ending at the close of ``t``
(data up to ``t`` only: the exposure decided at the close of ``t`` fills at the next bar like every
other order).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from tradea3c.data.market import Market

Anchor = Literal["none", "buy_and_hold", "vol_target"]
ANCHORS: tuple[str, ...] = ("buy_and_hold", "vol_target")


@dataclass(frozen=True)
class VolTargetConfig:
    """Volatility targeting: exposure = min(cap, target_vol / trailing realised vol)."""

    target_vol: float = 0.15
    """Annualised volatility the position aims at (0.15 = 15% a year)."""
    window: int = 63
    """Trailing daily log returns in the realised-volatility estimate (63 bars = a quarter)."""
    cap: float = 1.0
    """Largest exposure (1.0 = no leverage)."""
    step: float = 0.05
    """Exposures are rounded to multiples of ``step`` so a small change in the estimate does not
    trade every bar (0 = no rounding)."""
    periods_per_year: float = 252.0

    def __post_init__(self) -> None:
        if self.target_vol <= 0 or self.window < 2 or self.cap <= 0 or self.step < 0:
            raise ValueError("vol target needs target_vol > 0, window >= 2, cap > 0 and step >= 0")


def realised_vol(close: np.ndarray, window: int, periods_per_year: float = 252.0) -> np.ndarray:
    """Annualised std (ddof 1) of the ``window`` log returns ending at each bar, along axis 0;
    NaN until ``window`` returns exist (and where a price is missing)."""
    c = np.asarray(close, dtype=np.float64)
    lr = np.full(c.shape, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        lr[1:] = np.log(c[1:] / c[:-1])
    return trailing_vol(lr, window, periods_per_year)


def trailing_vol(log_returns: np.ndarray, window: int, periods_per_year: float = 252.0) -> np.ndarray:
    """`realised_vol` of per-bar log returns (``log_returns[t]``: the return into bar ``t``; row 0
    is ignored): annualised std (ddof 1) of rows ``t - window + 1 .. t``, NaN until ``window``
    returns exist and wherever the window holds a NaN."""
    lr = np.asarray(log_returns, dtype=np.float64)
    out = np.full(lr.shape, np.nan)
    if len(lr) <= window:
        return out
    view = np.lib.stride_tricks.sliding_window_view(lr[1:], window, axis=0)  # (T - window, ..., window)
    out[window:] = view.std(axis=-1, ddof=1) * np.sqrt(periods_per_year)
    return out


def vol_target_exposure(close: np.ndarray, cfg: VolTargetConfig = VolTargetConfig()) -> np.ndarray:
    """Exposure decided at the close of each bar: ``min(cap, target_vol / sigma_t)``, rounded to
    ``step``; before ``window`` returns exist (or on a zero/NaN estimate) the exposure is ``cap``'s
    buy-and-hold value ``min(cap, 1)``.

    Worked example: target 15%, daily log returns with std 0.0126 (20% a year): exposure
    0.15 / 0.20 = 0.75; at 10% a year it would be 1.5, capped at 1.0."""
    return exposure_for_vol(realised_vol(close, cfg.window, cfg.periods_per_year), cfg)


def exposure_for_vol(sigma: np.ndarray, cfg: VolTargetConfig = VolTargetConfig()) -> np.ndarray:
    """`vol_target_exposure` from an annualised volatility estimate ``sigma`` (any shape): never
    above ``cap``, also after rounding to ``step``."""
    sigma = np.asarray(sigma, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        raw = np.where(np.isfinite(sigma) & (sigma > 0), cfg.target_vol / sigma, min(cfg.cap, 1.0))
    raw = np.minimum(raw, cfg.cap)
    if cfg.step > 0:
        raw = np.minimum(np.round(raw / cfg.step) * cfg.step, cfg.cap)  # a cap off the grid stays the cap
    return raw


def vol_target_for(cfg: VolTargetConfig, market: Market) -> VolTargetConfig:
    """``cfg`` annualised for ``market``'s bars: unchanged for daily bars or an explicit
    ``periods_per_year``; with the default 252 on an intraday market, `Market.periods_per_year`."""
    if market.intraday and cfg.periods_per_year == 252.0:
        return dataclasses.replace(cfg, periods_per_year=market.periods_per_year)
    return cfg


def anchor_exposure(
    anchor: Anchor, close: np.ndarray, cfg: VolTargetConfig = VolTargetConfig()
) -> np.ndarray:
    """The anchor's exposure per bar for one asset's ``close`` (``(T,)``); zeros for ``"none"``."""
    close = np.asarray(close, dtype=np.float64)
    if anchor == "none":
        return np.zeros(len(close))
    if anchor == "buy_and_hold":
        return np.ones(len(close))
    if anchor == "vol_target":
        return vol_target_exposure(close, cfg)
    raise ValueError(f"anchor must be one of none, {', '.join(ANCHORS)}; got {anchor!r}")
