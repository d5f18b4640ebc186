"""Price perturbations of a market with listings and halts (issue 25): the block bootstrap keeps
each member's listed and unlisted rows apart, and every perturbation keeps non-tradable bars flat
(placeholders at the first open / last close, halts at the last close) with the masks unchanged."""

from __future__ import annotations

import numpy as np
import pytest

from tradea3c.data.align import align_frames
from tradea3c.data.market import Market
from tradea3c.data.synthetic import changing_universe_frames
from tradea3c.envs.perturb import block_bootstrap, price_noise, scale_volatility

FRAMES, _ = align_frames(changing_universe_frames(n_assets=6, n_bars=300, seed=2, placeholders=0))
MARKET = Market.from_frames(FRAMES, source="synthetic")


def _real_returns(m: Market, j: int) -> np.ndarray:
    """Close-to-close log returns of asset j between two consecutive tradable bars."""
    tr = m.tradable_mask[:, j]
    both = tr[1:] & tr[:-1]
    return np.diff(np.log(m.close[:, j]))[both]


def test_fixture_has_listings_and_a_halt() -> None:
    tr = MARKET.tradable_mask
    assert not tr[0, 0] and tr[-1, 0]  # listed late
    assert tr[0, 2] and not tr[-1, 2]  # delisted
    assert MARKET.halted is not None and MARKET.halted[:, 4].sum() == 3


def _check_masked(out: Market) -> None:
    assert (out.tradable_mask == MARKET.tradable_mask).all()
    assert out.halted is not None and (out.halted == MARKET.halted).all()
    for j in range(out.n_assets):
        a, b = out.listed_span(j)
        c = out.close[:, j]
        if a > 0:  # before the listing: one placeholder price, the (new) first open
            assert np.ptp(c[:a]) == 0.0 and c[0] == out.open[a, j]
            assert (out.volume[:a, j] == 0.0).all()
        if b < out.n_bars - 1:  # after the delisting: the last close
            assert (c[b + 1 :] == c[b]).all()
        for i in np.flatnonzero(out.halted[:, j]):  # a halt: flat at the last close
            for f in (out.open, out.high, out.low, out.close):
                assert f[i, j] == c[i - 1]


@pytest.mark.parametrize("seed", range(5))
def test_block_bootstrap_keeps_listed_and_unlisted_rows_apart(seed: int) -> None:
    out = block_bootstrap(MARKET, np.random.default_rng(seed), 5.0)
    _check_masked(out)
    for j in range(out.n_assets):
        real = _real_returns(MARKET, j)
        got = _real_returns(out, j)
        # every return inside a listing is one of the member's own real returns
        assert np.abs(got[:, None] - real[None, :]).min(axis=1).max() < 1e-9
        assert np.ptp(got) > 0


def test_block_bootstrap_without_a_mask_is_unchanged() -> None:
    from tradea3c.data.market import synthetic_market

    m = synthetic_market(200, 3, seed=1)
    a = block_bootstrap(m, np.random.default_rng(7), 5.0)
    rng = np.random.default_rng(7)  # the original algorithm, inline
    n = m.n_bars
    idx = np.empty(n, dtype=np.int64)
    starts = rng.integers(0, n, size=n)
    new_block = rng.random(n) < 1.0 / 5.0
    idx[0] = starts[0]
    for i in range(1, n):
        idx[i] = starts[i] if new_block[i] else (idx[i - 1] + 1) % n
    assert (a.volume == m.volume[idx]).all()


def test_volatility_and_noise_keep_non_tradable_bars_flat() -> None:
    _check_masked(scale_volatility(MARKET, 1.7))
    _check_masked(price_noise(MARKET, np.random.default_rng(0), 0.01))
