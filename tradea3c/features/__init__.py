"""Causal technical features (computed with `ta`), normalised causally, as contiguous float32 arrays."""

from tradea3c.features.compute import FeatureSet, compute_features, features_for
from tradea3c.features.config import DEFAULT_FEATURES, FeatureConfig
from tradea3c.features.indicators import INDICATORS

__all__ = [
    "DEFAULT_FEATURES",
    "INDICATORS",
    "FeatureConfig",
    "FeatureSet",
    "compute_features",
    "features_for",
]
