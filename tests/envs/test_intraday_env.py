"""Envs on intraday bars: ``flat_at_close`` (no position over a session's last bar) and the
vol_scaled reward annualised with the market's bars a year."""

from __future__ import annotations

import pytest

from tests.data.test_intraday import hourly
from tests.envs.test_vector import assert_same_as_sync
from tradea3c.data.market import synthetic_market
from tradea3c.envs import MarketEnv, MarketEnvConfig, PerturbConfig, RewardConfig

HOURLY = hourly(synthetic_market(700, 2, seed=5))
ONE_H = HOURLY.select("SYN0")


def held_path(env: MarketEnv, action: int, n: int) -> tuple[list[float], list[int]]:
    """Targets of always taking ``action`` for ``n`` steps, and the fill bars (source bars)."""
    env.reset(seed=0)
    targets, bars = [], []
    lat = env.episode.latency
    for _ in range(n):
        bars.append(env.bar + 1 + lat)
        _, _, term, trunc, info = env.step(action)
        targets.append(info["target"])
        if term or trunc:
            break
    return targets, bars


@pytest.mark.parametrize("latency, fill", [(0, "open"), (0, "close"), (2, "open")])
def test_flat_at_close_targets_zero_for_fills_on_a_sessions_last_bar(latency: int, fill: str) -> None:
    cfg = MarketEnvConfig(flat_at_close=True, latency=latency, fill=fill, episode_length=60)
    targets, bars = held_path(MarketEnv(ONE_H, cfg), 1, 60)
    last = ONE_H.session_last
    assert [t for t, b in zip(targets, bars, strict=True) if last[b]] == [0.0] * int(last[bars].sum())
    assert all(t == 1.0 for t, b in zip(targets, bars, strict=True) if not last[b])
    assert last[bars].sum() >= 8  # 60 hourly steps cross 8+ session closes
    # off: held throughout; daily bars: a no-op
    assert set(
        held_path(MarketEnv(ONE_H, MarketEnvConfig(latency=latency, episode_length=60)), 1, 60)[0]
    ) == {1.0}
    daily = synthetic_market(700, 1, seed=5)
    assert set(held_path(MarketEnv(daily, cfg), 1, 60)[0]) == {1.0}


def test_flat_at_close_holds_nothing_overnight_when_anchored() -> None:
    cfg = MarketEnvConfig(
        flat_at_close=True, anchor="buy_and_hold", positions=(-1.0, 0.0), episode_length=40, fill="close"
    )
    env = MarketEnv(ONE_H, cfg)
    env.reset(seed=1)
    for _ in range(40):
        t1 = env.bar + 1
        env.step(1)  # the zero tilt: hold the anchor, except into a session close
        held = env._held
        assert held == (0.0 if ONE_H.session_last[t1] else 1.0)


@pytest.mark.parametrize(
    "cfg",
    [
        MarketEnvConfig(flat_at_close=True, episode_length=60),
        MarketEnvConfig(flat_at_close=True, latency=1, positions=(-1.0, 0.0, 1.0), episode_length=60),
        MarketEnvConfig(
            flat_at_close=True, episode_length=60, perturb=PerturbConfig(price_noise=0.002, latency_prob=0.5)
        ),
        MarketEnvConfig(reward=RewardConfig(kind="vol_scaled", vol_window=20), episode_length=60),
    ],
)
def test_vector_env_equals_single_envs_on_hourly_bars(cfg: MarketEnvConfig) -> None:
    assert_same_as_sync(HOURLY, cfg, k=4, n=150, seed=3)


def test_vector_env_keeps_the_session_mask_on_both_paths() -> None:
    from tradea3c.envs import MarketVectorEnv

    shared = MarketVectorEnv(2, HOURLY, MarketEnvConfig(flat_at_close=True))
    perturbed = MarketVectorEnv(
        2, HOURLY, MarketEnvConfig(flat_at_close=True, perturb=PerturbConfig(price_noise=0.002))
    )
    assert shared._flat is not None and shared._flat.sum() == 2 * HOURLY.session_last.sum()
    perturbed.reset(seed=0)
    assert perturbed._flat is not None and perturbed._flat.any()
    assert MarketVectorEnv(2, HOURLY, MarketEnvConfig())._flat is None
