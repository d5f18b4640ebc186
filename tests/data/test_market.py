"""tradea3c.data.market: Market invariants, fingerprint, selection."""

from __future__ import annotations

import numpy as np
import pytest

from tradea3c.data.market import Market, synthetic_market


def test_synthetic_market_is_consistent_and_seeded() -> None:
    m = synthetic_market(300, 3, seed=4)
    assert m.close.shape == (300, 3) and m.n_assets == 3
    assert np.all(m.low <= np.minimum(m.open, m.close)) and np.all(m.high >= np.maximum(m.open, m.close))
    assert m.fingerprint == synthetic_market(300, 3, seed=4).fingerprint
    assert m.fingerprint != synthetic_market(300, 3, seed=5).fingerprint


def test_fingerprint_changes_with_one_value() -> None:
    m = synthetic_market(50, 1, seed=0)
    close = m.close.copy()
    close[10, 0] += 1e-9
    other = Market(m.tickers, m.dates, m.open, m.high, m.low, close, m.volume)
    assert other.fingerprint != m.fingerprint


def test_market_arrays_are_read_only_and_shape_checked() -> None:
    m = synthetic_market(20, 2)
    with pytest.raises(ValueError):
        m.close[0, 0] = 1.0
    with pytest.raises(ValueError, match="shape"):
        Market(("A",), m.dates, m.open, m.high, m.low, m.close, m.volume)


def test_market_rejects_unsorted_dates() -> None:
    m = synthetic_market(10, 1)
    with pytest.raises(ValueError, match="increasing"):
        Market(m.tickers, m.dates[::-1], m.open, m.high, m.low, m.close, m.volume)


def test_between_select_and_frame() -> None:
    m = synthetic_market(100, 2, start="2020-01-01")
    part = m.between("2020-02-01", "2020-02-29")
    assert part.start >= np.datetime64("2020-02-01") and part.end <= np.datetime64("2020-02-29")
    assert part.n_bars == 20  # business days in Feb 2020
    one = m.select("SYN1")
    assert one.tickers == ("SYN1",)
    np.testing.assert_array_equal(one.close[:, 0], m.close[:, 1])
    df = m.frame("SYN0")
    assert list(df.columns) == ["open", "high", "low", "close", "volume"] and len(df) == 100
    with pytest.raises(KeyError):
        m.select("NOPE")
