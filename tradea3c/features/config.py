"""`FeatureConfig`: which indicators, and how they are normalised (causally)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

DEFAULT_FEATURES: tuple[str, ...] = (
    "ret_1",
    "ret_5",
    "ret_20",
    "rsi",
    "macd",
    "macd_signal",
    "macd_diff",
    "bb_pctb",
    "bb_width",
    "atr",
    "adx",
    "cci",
    "obv",
    "vol_20",
    "volume_z",
)


@dataclass(frozen=True)
class FeatureConfig:
    """Feature set computed once per market (see `tradea3c.features.indicators.INDICATORS` for names)."""

    names: tuple[str, ...] = DEFAULT_FEATURES
    """Indicator names, in observation order."""
    norm: Literal["rolling", "expanding", "none"] = "rolling"
    """Causal z-score of unbounded indicators: last `norm_window` bars, all past bars, or off."""
    norm_window: int = 252
    """Bars in the rolling normalisation window (252 = one trading year)."""
    norm_min_periods: int = 63
    """Bars of history before a normalised value exists (earlier rows are warm-up NaN)."""
    clip: float = 5.0
    """Every feature is clipped to [-clip, clip] after normalisation."""

    def __post_init__(self) -> None:
        from tradea3c.features.indicators import INDICATORS

        unknown = [n for n in self.names if n not in INDICATORS]
        if unknown:
            raise ValueError(f"unknown feature(s) {unknown}; choose from {sorted(INDICATORS)}")
        if not self.names:
            raise ValueError("FeatureConfig.names must name at least one feature")
        if len(set(self.names)) != len(self.names):
            raise ValueError(f"duplicate feature names in {self.names}")
        if self.norm_window < 2 or not 2 <= self.norm_min_periods <= self.norm_window:
            raise ValueError("need 2 <= norm_min_periods <= norm_window")
        if self.clip <= 0:
            raise ValueError("clip must be > 0")
