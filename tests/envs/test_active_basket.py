"""The active reward's basket over a universe whose membership changes (issue 25): members not
listed at a bar are left out (equal weight over the listed ones), not held at placeholder prices."""

from __future__ import annotations

import math

import numpy as np

from tradea3c.data.market import Market, synthetic_market
from tradea3c.envs import PortfolioEnv, PortfolioVectorEnv
from tradea3c.envs.config import PortfolioEnvConfig, RewardConfig
from tradea3c.envs.perturb import PerturbConfig
from tradea3c.envs.rewards import basket_log_returns, basket_reward_aux


def reference(close: np.ndarray, start: int, listed: np.ndarray) -> np.ndarray:
    """By simulation: equal values in the members listed at the start, held; a step's return is that
    of the members still listed at its end; when the listed set changes, the basket's value is
    spread equally over the members listed then."""
    out = np.zeros(len(close))
    held = listed[start].copy()
    v = np.where(held, 1.0, 0.0)
    for t in range(start + 1, len(close)):
        stay = held & listed[t]
        before = v[stay].sum()
        v = np.where(stay, v * close[t] / close[t - 1], 0.0)
        out[t] = math.log(v.sum() / before) if before > 0 else 0.0
        if (listed[t] != held).any():
            total = v.sum() if before > 0 else 1.0
            held = listed[t].copy()
            v = np.where(held, total / max(held.sum(), 1), 0.0)
    return out


def _masked_market() -> Market:
    m = synthetic_market(300, 3, seed=4)
    close, open_, high, low, vol = (
        np.array(getattr(m, f)) for f in ("close", "open", "high", "low", "volume")
    )
    listed = np.ones((300, 3), dtype=bool)
    listed[:180, 2] = False  # SYN2 lists at bar 180: placeholders at its first open before
    listed[240:, 1] = False  # SYN1 delists after bar 239: placeholders at its last close after
    for f in (close, open_, high, low):
        f[:180, 2] = open_[180, 2]
        f[240:, 1] = close[239, 1]
    vol[:180, 2] = vol[240:, 1] = 0.0
    return Market(m.tickers, m.dates, open_, high, low, close, vol, tradable=listed)


MARKET = _masked_market()


def test_basket_by_hand() -> None:
    c = np.array([[10.0, 5.0, 8.0], [11.0, 5.0, 8.0], [12.0, 5.0, 9.0], [12.0, 6.0, 9.0], [13.0, 6.0, 9.0]])
    listed = np.array([[1, 1, 0], [1, 1, 0], [1, 1, 1], [1, 1, 1], [1, 0, 1]], dtype=bool)
    got = basket_log_returns(c, 0, listed)
    # bar 1: A and B (C unlisted): (11/10 + 5/5) / 2; bar 2: still over A and B, then C joins
    # bar 3: equal thirds from the close of bar 2; bar 4: B delisted, A and C of the bar-3 basket
    b3 = (12 / 12 + 6 / 5 + 9 / 9) / 3
    hand = [
        0.0,
        math.log((11 / 10 + 1.0) / 2),
        math.log((12 / 10 + 1.0) / (11 / 10 + 1.0)),
        math.log(b3),
        math.log((13 / 12 + 9 / 9) / (12 / 12 + 9 / 9)),
    ]
    np.testing.assert_allclose(got, hand, rtol=0, atol=1e-15)
    np.testing.assert_allclose(got, reference(c, 0, listed), rtol=0, atol=1e-15)


def test_basket_without_listing_changes_is_unchanged() -> None:
    c = synthetic_market(50, 4, seed=1).close
    assert (
        basket_log_returns(c, 3, np.ones(c.shape, dtype=bool)).tolist() == basket_log_returns(c, 3).tolist()
    )


def test_portfolio_env_active_basket_leaves_unlisted_members_out() -> None:
    cfg = PortfolioEnvConfig(
        action="simplex",
        window=5,
        episode_length=180,
        reward=RewardConfig(kind="active"),
        perturb=PerturbConfig(random_start=False),
    )
    env = PortfolioEnv(MARKET, cfg)
    env.reset(seed=0)
    ep = env.episode
    assert ep.start < 180 and ep.start + ep.n_steps > 240  # both the listing and the delisting
    close = ep.track.close[: ep.start + ep.n_steps + 1]
    want = reference(close, ep.start, ep.track.tradable[: len(close)])
    np.testing.assert_allclose(env._blr, want, rtol=0, atol=1e-12)
    vec = PortfolioVectorEnv(2, MARKET, cfg)
    vec.reset(seed=0)
    np.testing.assert_allclose(vec._blr[0, : ep.n_steps + 1], want[ep.start :], rtol=0, atol=1e-12)


def test_vol_scaled_basket_ignores_placeholders() -> None:
    cfg = RewardConfig(kind="vol_scaled", vol_window=5)
    c = MARKET.close
    listed = MARKET.tradable
    masked = basket_reward_aux(cfg, c, 0, listed)
    only01 = basket_reward_aux(cfg, c[:180, :2], 0)  # before SYN2 lists, the basket is SYN0 and SYN1
    np.testing.assert_allclose(masked[:180], only01, rtol=0, atol=1e-12)
