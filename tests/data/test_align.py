"""Universes whose membership changes: union calendar, tradable mask, masked features, delisting
sales, cross-sectional draws inside listings, --min-history, baselines. Driven by the synthetic
`changing_universe` (late listings, delistings, halts, a placeholder prefix)."""

from __future__ import annotations

import numpy as np
import pytest

from tradea3c.backtest.baselines import baselines
from tradea3c.data import DataError
from tradea3c.data.load import build_market
from tradea3c.data.synthetic import changing_universe, changing_universe_frames
from tradea3c.envs import MarketEnv, PortfolioEnv
from tradea3c.envs.config import MarketEnvConfig, PortfolioEnvConfig
from tradea3c.envs.execution import CostConfig, replay
from tradea3c.envs.perturb import PerturbConfig
from tradea3c.features.compute import compute_features
from tradea3c.features.config import FeatureConfig

FRAMES = changing_universe_frames(n_assets=8, n_bars=600, seed=0)
MARKET, FINDINGS = build_market(FRAMES, source="synthetic", adjusted=True, name="u")
COSTS = CostConfig(commission_bps=10.0, half_spread_bps=0.0, slippage_bps=0.0)


def _span(df) -> tuple[int, int]:
    dates = MARKET.dates
    return int(np.searchsorted(dates, df.index[0].to_datetime64())), int(
        np.searchsorted(dates, df.index[-1].to_datetime64())
    )


# ------------------------------------------------------------------ alignment
def test_union_calendar_keeps_every_history_and_masks_outside_listings() -> None:
    assert MARKET.n_bars == 600 and MARKET.n_assets == 8  # no common-range cut
    assert MARKET.tradable is not None
    listing = {f.ticker: f for f in FINDINGS if f.check == "listing"}
    assert set(listing) == {"U0", "U1", "U2", "U3", "U5"}  # late, delisted, placeholder prefix
    halted = np.zeros(MARKET.close.shape, dtype=bool) if MARKET.halted is None else MARKET.halted
    for j, t in enumerate(MARKET.tickers):
        a, b = MARKET.listed_span(j)
        mask = MARKET.tradable[:, j] | halted[:, j]  # listed: tradable, or halted inside the listing
        assert mask[a : b + 1].all() and not mask[:a].any() and not mask[b + 1 :].any()
        if t in ("U0", "U1"):  # listed late: placeholders repeat the first open, volume 0
            assert a > 0 and np.all(MARKET.close[:a, j] == FRAMES[t]["open"].iloc[0])
            assert np.all(MARKET.volume[:a, j] == 0.0)
        if t in ("U2", "U3"):  # delisted: placeholders repeat the last close
            assert b < 599 and np.all(MARKET.close[b + 1 :, j] == FRAMES[t]["close"].iloc[-1])
    # the placeholder prefix was trimmed: the listing starts at the first real price
    u5 = MARKET.tickers.index("U5")
    assert MARKET.listed_span(u5)[0] == 200 and MARKET.close[200:, u5].min() > 1.0
    # a halt inside the listing is filled flat (reported); tests/data/test_halts.py: not tradable
    u4 = MARKET.tickers.index("U4")
    assert (MARKET.tradable_mask[:, u4] | halted[:, u4]).all()
    assert sum(f.ticker == "U4" and f.check == "missing-day" for f in FINDINGS) == 3


def test_min_history_drops_members_by_name_and_refuses_when_none_left() -> None:
    spans = {t: MARKET.listed_span(j)[1] - MARKET.listed_span(j)[0] + 1 for j, t in enumerate(MARKET.tickers)}
    need = sorted(spans.values())[2] + 1  # the three shortest are left out
    m, findings = build_market(FRAMES, source="s", adjusted=True, name="u", min_history=need)
    short = {t for t, n in spans.items() if n < need}
    assert len(short) == 3 and set(m.tickers) == set(FRAMES) - short
    summary = [f for f in findings if f.check == "min-history" and "too little history" in f.detail]
    assert len(summary) == 1 and all(t in summary[0].detail for t in short)
    with pytest.raises(DataError, match="lower --min-history"):
        build_market(FRAMES, source="s", adjusted=True, name="u", min_history=10_000)


def test_fully_listed_universe_has_no_mask_and_the_same_fingerprint_rules() -> None:
    full = {t: df for t, df in FRAMES.items() if t in ("U6", "U7")}
    m, findings = build_market(full, source="s", adjusted=True, name="u")
    assert m.tradable is None and not [f for f in findings if f.check == "listing"]


# ------------------------------------------------------------------ features
def test_features_of_listed_assets_come_from_their_own_bars_and_are_zero_elsewhere() -> None:
    cfg = FeatureConfig()
    fs = compute_features(MARKET, cfg)
    assert fs.valid is not None
    after = fs.values[fs.first_valid :]
    assert np.isfinite(after).all()  # never NaN in an observation
    assert (after[~fs.valid[fs.first_valid :]] == 0.0).all()
    j = MARKET.tickers.index("U1")  # listed late: same features as the ticker alone from its listing
    a, b = MARKET.listed_span(j)
    alone = compute_features(MARKET.take(slice(a, b + 1)).select("U1"), cfg)
    rows = np.flatnonzero(fs.valid[:, j])
    assert rows[0] >= a + alone.first_valid
    np.testing.assert_array_equal(fs.values[rows, j], alone.values[rows - a, 0])


# ------------------------------------------------------------------ execution
def test_delisted_holding_is_sold_at_its_last_close_with_cost() -> None:
    j = MARKET.tickers.index("U2")
    last = MARKET.listed_span(j)[1]
    cfg = PortfolioEnvConfig(
        action="simplex", episode_length=0, costs=COSTS, perturb=PerturbConfig(random_start=False)
    )
    env = PortfolioEnv(MARKET, cfg)
    env.reset(seed=0)
    action = np.zeros(9, dtype=np.float32)
    action[1 + j] = 1.0  # everything in U2 while it is listed
    while env.source.base.bar0 + env._t < last:
        _, _, _, _, info = env.step(action)
    units, cash = env._units[j], env._cash
    assert units > 0 and np.count_nonzero(env._units) == 1
    price = MARKET.close[last, j]  # the fill bar's open is a placeholder = the last close
    assert MARKET.open[last + 1, j] == price
    _, _, _, _, info = env.step(action)  # decided while listed, filled after the delisting
    rate = COSTS.base_rate
    assert env._units[j] == 0.0
    assert info["cost"] == pytest.approx(rate * units * price, rel=1e-12)
    assert info["equity"] == pytest.approx(cash + units * price * (1 - rate), rel=1e-12)
    assert env._units.sum() == 0.0  # the decided weight went nowhere else: cash


def test_random_portfolio_policies_never_hold_an_unlisted_asset_and_replay_matches() -> None:
    cfg = PortfolioEnvConfig(action="continuous", episode_length=300, costs=COSTS, latency=1)
    env = PortfolioEnv(MARKET, cfg)
    rng = np.random.default_rng(3)
    for seed in range(4):
        env.reset(seed=seed)
        tr, start = env.episode.track, env.episode.start
        actions, eq, targets = [], [env.equity], []
        while True:
            a = rng.uniform(-1, 1, 9).astype(np.float32)
            _, _, term, trunc, info = env.step(a)
            actions.append(a)
            eq.append(info["equity"])
            targets.append(info["target"])
            held = env._units != 0.0
            halted = False if tr.market.halted is None else tr.market.halted[env._t]
            assert not (held & ~(tr.tradable[env._t] | halted)).any()  # a halted holding is kept
            assert not (info["target"] > 0)[~tr.valid[env._t - 1]].any()
            if term or trunc:
                break
        rep = replay(MARKET, np.array(targets), start=start, costs=COSTS, latency=1, mode="always")
        np.testing.assert_allclose(rep.equity, eq, rtol=0, atol=1e-12)


def test_cross_sectional_draws_stay_inside_the_drawn_ticker_listing() -> None:
    cfg = MarketEnvConfig(positions=(0.0, 1.0), episode_length=60, window=10)
    env = MarketEnv(MARKET, cfg)
    seen = set()
    for seed in range(40):
        env.reset(seed=seed)
        ep = env.episode
        j = MARKET.tickers.index(ep.ticker)
        a, b = MARKET.listed_span(j)
        first = ep.track.bar0 + ep.start  # the first decision bar, in market bars
        assert a + env.source.warmup <= first and first + ep.n_steps <= b
        seen.add(ep.ticker)
    assert len(seen) >= 6  # late and delisted members are drawn too


# ------------------------------------------------------------------ baselines
def test_baselines_hold_only_listed_assets() -> None:
    start, n = 100, 450
    for curve in baselines(MARKET, start=start, n_steps=n, costs=COSTS):
        held = curve.weights.reshape(n, -1)
        listed = MARKET.tradable_mask if MARKET.halted is None else MARKET.tradable_mask | MARKET.halted
        assert not ((held != 0.0) & ~listed[start + 1 : start + n + 1]).any(), curve.name  # halts: kept


def test_changing_universe_is_reproducible() -> None:
    m2 = changing_universe(n_assets=8, n_bars=600, seed=0)
    assert m2.fingerprint == MARKET.fingerprint
    assert changing_universe(n_assets=8, n_bars=600, seed=1).fingerprint != MARKET.fingerprint


# ------------------------------------------------------------------ end to end through the CLI
def test_train_on_a_changing_universe_from_csvs_with_min_history(tmp_path) -> None:
    from typer.testing import CliRunner

    from tradea3c.cli import app

    csv_dir, cache = tmp_path / "csv", tmp_path / "cache"
    csv_dir.mkdir()
    for t, df in FRAMES.items():
        df.rename(columns=str.capitalize).rename_axis("Date").to_csv(csv_dir / f"{t}.csv")
    runner = CliRunner()
    imported = runner.invoke(app, ["fetch", "--from-csv", str(csv_dir), "--data-dir", str(cache)])
    assert imported.exit_code == 0, imported.output
    base = ["train", "--market", "cached", "--data-dir", str(cache), "--quiet", "--workers", "1"]
    refused = runner.invoke(app, [*base, "--min-history", "10000", "--out", str(tmp_path / "no")])
    assert refused.exit_code == 2 and "lower --min-history" in refused.output, refused.output
    assert not (tmp_path / "no").exists()
    ran = runner.invoke(
        app,
        [
            *base,
            "--min-history",
            "401",
            "--steps",
            "300",
            "--set",
            "portfolio.episode_length=64",
            "--set",
            "profiles=[]",
            "--set",
            "portfolio.window=5",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert ran.exit_code == 0, ran.output
    assert "too little history: U1 U2 U5" in ran.output and "listed or delisted" in ran.output


def test_price_perturbed_episodes_on_a_changing_universe_stay_finite() -> None:
    market = changing_universe(n_assets=8, n_bars=600, seed=1)
    perturb = PerturbConfig(price_noise=0.01, vol_scale=(0.8, 1.2))
    env = PortfolioEnv(market, PortfolioEnvConfig(episode_length=40, window=5, perturb=perturb))
    for seed in range(12):  # windows where a listing covers only a few bars (too short to warm up)
        obs, _ = env.reset(seed=seed)
        for _ in range(40):
            obs, reward, term, trunc, _ = env.step(env.action_space.sample())
            assert np.isfinite(obs).all() and np.isfinite(reward)
            if term or trunc:
                break
