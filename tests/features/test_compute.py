"""Features: computed with `ta`, causal (future-mutation and prefix leak tests for every indicator),
float32 contiguous, cached, warm-up rule."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from tradea3c.data.demo import demo_market
from tradea3c.data.market import Market, synthetic_market
from tradea3c.features import INDICATORS, FeatureConfig, compute_features, features_for


def mutate_after(m: Market, t: int, seed: int = 1) -> Market:
    """Every row after t gets different prices and volumes (consistent OHLC)."""
    rng = np.random.default_rng(seed)
    f = np.ones_like(m.close)
    f[t + 1 :] = np.exp(rng.normal(0, 0.05, f[t + 1 :].shape))
    vol = m.volume.copy()
    vol[t + 1 :] *= rng.uniform(0.2, 5.0, vol[t + 1 :].shape)
    wick = np.ones_like(f)
    wick[t + 1 :] = 1.01  # also widen the ranges after t
    return Market(m.tickers, m.dates, m.open * f, m.high * f * wick, m.low * f / wick, m.close * f, vol)


@pytest.fixture(scope="module")
def demo() -> Market:
    return demo_market().take(slice(0, 700))


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_every_indicator_is_causal(demo: Market, name: str) -> None:
    cfg = FeatureConfig(names=(name,))
    base = compute_features(demo, cfg).values
    for t in (150, 400, 650):
        mutated = compute_features(mutate_after(demo, t), cfg).values
        assert np.array_equal(base[: t + 1], mutated[: t + 1], equal_nan=True), f"{name} leaks at t={t}"
        assert not np.array_equal(base[t + 1 :], mutated[t + 1 :], equal_nan=True)
        prefix = compute_features(demo.take(slice(0, t + 1)), cfg).values
        assert np.array_equal(base[: t + 1], prefix, equal_nan=True), f"{name}: value at the last row differs"


def test_expanding_norm_is_causal(demo: Market) -> None:
    cfg = FeatureConfig(norm="expanding")
    base = compute_features(demo, cfg).values
    mutated = compute_features(mutate_after(demo, 300), cfg).values
    assert np.array_equal(base[:301], mutated[:301], equal_nan=True)


def test_layout_warmup_and_bounds(demo: Market) -> None:
    fs = compute_features(demo)
    assert fs.values.dtype == np.float32 and fs.values.flags.c_contiguous
    assert fs.values.shape == (demo.n_bars, 1, len(fs.names))
    assert 0 < fs.first_valid < 150
    assert np.isfinite(fs.values[fs.first_valid :]).all()
    assert not np.isfinite(fs.values[fs.first_valid - 1]).all()
    assert np.abs(fs.values[fs.first_valid :]).max() <= FeatureConfig().clip


def test_cache_keyed_by_fingerprint_and_config() -> None:
    m = synthetic_market(400, 2, seed=3)
    a = features_for(m)
    assert features_for(synthetic_market(400, 2, seed=3)) is a
    assert features_for(m, FeatureConfig(names=("rsi", "atr"))) is not a
    assert features_for(m, FeatureConfig(names=("rsi", "atr"))).values.shape == (400, 2, 2)


def test_config_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="unknown feature"):
        FeatureConfig(names=("rsi", "rsx"))


def test_djia_features_causal(djia_market: Callable[[list[str]], Market]) -> None:
    m = djia_market(["AAPL", "JPM"]).take(slice(0, 600))
    base = compute_features(m).values
    mutated = compute_features(mutate_after(m, 400)).values
    assert np.array_equal(base[:401], mutated[:401], equal_nan=True)
    assert np.isfinite(base[compute_features(m).first_valid :]).all()
