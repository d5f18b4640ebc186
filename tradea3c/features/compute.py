"""Compute a `FeatureSet` for a `Market`: contiguous float32 ``(n_bars, n_assets, n_features)``.

Warm-up rule (documented in docs/environments.md): rows before ``first_valid`` -- the first bar at which
every feature of every asset listed from the first bar is finite -- hold NaN and are never
observed (envs start deciding at ``first_valid + window - 1``). After ``first_valid`` a
non-finite value (e.g. a division by a zero range on a flat bar) is replaced by 0.0, so NaN never
reaches an observation.

Listings (`Market.tradable`): each asset's features are computed from its listed bars only, so
placeholder prices never enter an indicator; outside ``valid`` (before the asset's own warm-up
after listing, after delisting, and on bars inside the span where it is not tradable: halted, or
out of the index with a point-in-time membership) its features are 0.0.

Normalisation is causal: rolling (or expanding) mean/std of past values only, then clipping.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from tradea3c.data.market import Market
from tradea3c.features.config import FeatureConfig
from tradea3c.features.indicators import INDICATORS

_CACHE: OrderedDict[tuple[str, FeatureConfig], FeatureSet] = OrderedDict()
_CACHE_SIZE = 16


@dataclass(frozen=True, eq=False)
class FeatureSet:
    """Features of one market: ``values[t, asset, k]`` uses bars ``<= t`` only."""

    values: np.ndarray  # float32 (n_bars, n_assets, n_features), C-contiguous, read-only
    names: tuple[str, ...]
    first_valid: int  # first bar where all features are finite (n_bars if none)
    # bool (n_bars, n_assets): listed and warmed up; None = a market without listings
    valid: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        return len(self.names)


def _normalise(x: pd.Series, cfg: FeatureConfig) -> pd.Series:
    if cfg.norm == "none":
        return x
    if cfg.norm == "rolling":
        roll = x.rolling(cfg.norm_window, min_periods=cfg.norm_min_periods)
    else:
        roll = x.expanding(min_periods=cfg.norm_min_periods)
    return (x - roll.mean()) / roll.std()


def asset_features(frame: pd.DataFrame, cfg: FeatureConfig) -> np.ndarray:
    """Features of one ticker's OHLCV frame as float64 ``(n_bars, n_features)`` (warm-up NaN kept)."""
    n = len(frame)
    out = np.empty((n, len(cfg.names)), dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, name in enumerate(cfg.names):
            ind = INDICATORS[name]
            raw = pd.Series(np.asarray(ind.fn(frame), dtype=np.float64), index=frame.index)
            raw.iloc[: ind.warmup] = np.nan
            raw = raw.replace([np.inf, -np.inf], np.nan)
            col = _normalise(raw, cfg) if ind.normalise else raw
            out[:, k] = np.clip(col.to_numpy(dtype=np.float64), -cfg.clip, cfg.clip)
    return out


def compute_features(market: Market, cfg: FeatureConfig | None = None) -> FeatureSet:
    """Compute (uncached) the features of every asset of ``market``."""
    cfg = cfg or FeatureConfig()
    n = market.n_bars
    if market.tradable is None:
        per_asset = [asset_features(market.frame(t), cfg) for t in market.tickers]
        values = np.stack(per_asset, axis=1) if per_asset else np.empty((n, 0, len(cfg.names)))
        finite_rows = np.isfinite(values).all(axis=(1, 2))
        first_valid = int(np.argmax(finite_rows)) if finite_rows.any() else n
        valid = None
    else:
        values = np.full((n, market.n_assets, len(cfg.names)), np.nan)
        valid = np.zeros((n, market.n_assets), dtype=bool)
        first_valid = 0
        longest = max((INDICATORS[name].warmup for name in cfg.names), default=0)
        for j, ticker in enumerate(market.tickers):
            a, b = market.listed_span(j)
            if b - a < longest:  # listed too briefly to warm up (and too short for ta): never valid
                continue
            vals = asset_features(market.frame(ticker).iloc[a : b + 1], cfg)
            values[a : b + 1, j] = vals
            finite = np.isfinite(vals).all(axis=1)
            warm = int(np.argmax(finite)) if finite.any() else b - a + 1
            valid[a + warm : b + 1, j] = True
            if a == 0:
                first_valid = max(first_valid, warm)
        valid &= market.tradable  # not inside a gap of the span (halted, or out of the index)
        values[first_valid:][~valid[first_valid:]] = 0.0
        valid.setflags(write=False)
    tail = values[first_valid:]
    tail[~np.isfinite(tail)] = 0.0
    values = np.ascontiguousarray(values, dtype=np.float32)
    values.setflags(write=False)
    return FeatureSet(values=values, names=cfg.names, first_valid=first_valid, valid=valid)


def features_for(market: Market, cfg: FeatureConfig | None = None) -> FeatureSet:
    """`compute_features` through a small LRU cache keyed by (market fingerprint, config)."""
    cfg = cfg or FeatureConfig()
    key = (market.fingerprint, cfg)
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    fs = compute_features(market, cfg)
    _CACHE[key] = fs
    while len(_CACHE) > _CACHE_SIZE:
        _CACHE.popitem(last=False)
    return fs


def clear_cache() -> None:
    _CACHE.clear()
