"""Halted bars (issue 25): the portfolio envs cannot change a halted asset's position there, and
mark it at its last price."""

from __future__ import annotations

import numpy as np

from tradea3c.data.align import align_frames
from tradea3c.data.market import Market, synthetic_market
from tradea3c.envs import PortfolioEnv, PortfolioVectorEnv
from tradea3c.envs.config import PortfolioEnvConfig
from tradea3c.envs.perturb import PerturbConfig

HALT = 200


def _halted_market() -> Market:
    base = synthetic_market(320, 2, seed=5)
    b = base.frame("SYN1")
    frames, _ = align_frames({"SYN0": base.frame("SYN0"), "SYN1": b.drop(b.index[HALT])})
    return Market.from_frames(frames, source="synthetic")


MARKET = _halted_market()
CFG = PortfolioEnvConfig(
    action="simplex", window=5, episode_length=150, perturb=PerturbConfig(random_start=False)
)
HALF = np.array([0.0, 0.5, 0.5], dtype=np.float32)
CASH = np.array([1.0, 0.0, 0.0], dtype=np.float32)


def _run_to_halt(env: PortfolioEnv):
    env.reset(seed=0)
    ep = env.episode
    assert ep.start < HALT - 1 < ep.start + ep.n_steps - 1
    for _ in range(HALT - 1 - ep.start):
        env.step(HALF)
    return env


def test_market_masks_the_halt() -> None:
    assert MARKET.tradable is not None and not MARKET.tradable[HALT, 1] and MARKET.tradable_mask.sum() == 639
    assert MARKET.close[HALT, 1] == MARKET.close[HALT - 1, 1]


def test_portfolio_env_holds_a_halted_asset_and_marks_it_at_the_last_price() -> None:
    env = _run_to_halt(PortfolioEnv(MARKET, CFG))
    units = env._units.copy()
    assert units[1] > 0 and units[0] > 0
    _, _, _, _, info = env.step(CASH)  # fills at the halt bar: sell everything it can
    assert env._t == HALT
    assert env._units[1] == units[1]  # the halted holding is unchanged, to the bit
    assert env._units[0] == 0.0  # the other asset was sold
    last = MARKET.close[HALT - 1, 1]
    assert env.equity == env._cash + env._units[1] * last
    assert info["equity"] == env.equity
    env.step(CASH)  # trading resumes: now it can be sold
    assert env._units[1] == 0.0


def test_halted_weight_keeps_its_share_the_rest_is_rebalanced() -> None:
    env = _run_to_halt(PortfolioEnv(MARKET, CFG))
    units = env._units.copy()
    env.step(np.array([0.0, 0.5, 0.5], dtype=np.float32))  # keep asking for half each
    assert env._units[1] == units[1]
    # the order's non-halted part (half in SYN0, nothing in cash) goes into SYN0 alone
    assert abs(env._cash) < 1e-3 * env.equity


def test_vector_env_matches_the_single_env_through_a_halt() -> None:
    single = PortfolioEnv(MARKET, CFG)
    vec = PortfolioVectorEnv(2, MARKET, CFG)
    single.reset(seed=0)
    vec.reset(seed=0)
    n = single.episode.n_steps
    rng = np.random.default_rng(1)
    for _ in range(n):
        a = rng.random((2, 3)).astype(np.float32)
        a[:, 0] = 0.0
        single.step(a[0])
        vec.step(a)
        assert vec._units[0].tolist() == single._units.tolist()
        assert vec.equity[0] == single.equity


def test_perturbed_episode_keeps_the_halt_flat() -> None:
    from dataclasses import replace

    cfg = replace(CFG, perturb=PerturbConfig(random_start=False, price_noise=0.01, vol_scale=(0.5, 2.0)))
    env = PortfolioEnv(MARKET, cfg)
    env.reset(seed=0)
    tr = env.episode.track
    h = HALT - tr.bar0
    assert tr.market.halted is not None and tr.market.halted[h, 1]
    assert tr.close[h, 1] == tr.close[h - 1, 1] and tr.fill[h, 1] == tr.close[h - 1, 1]
    assert tr.market.close[h, 0] != tr.market.close[h - 1, 0]
    _run_to_halt(env)
    units = env._units.copy()
    env.step(CASH)
    assert env._units[1] == units[1]


def test_replay_reproduces_the_env_through_a_halt() -> None:
    from tradea3c.envs.execution import replay

    env = PortfolioEnv(MARKET, CFG)
    env.reset(seed=0)
    ep = env.episode
    rng = np.random.default_rng(2)
    eq, targets = [env.equity], []
    for _ in range(ep.n_steps):
        a = rng.random(3).astype(np.float32)
        _, _, term, trunc, info = env.step(a)
        eq.append(info["equity"])
        targets.append(info["target"])
        if term or trunc:
            break
    rep = replay(MARKET, np.array(targets), start=ep.start, costs=CFG.costs, mode="always")
    np.testing.assert_allclose(rep.equity, eq, rtol=0, atol=1e-12)
    h = HALT - ep.start - 1  # the step that fills at the halt bar
    assert rep.units[h, 1] == rep.units[h - 1, 1]
