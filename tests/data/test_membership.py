"""Point-in-time index membership (`tradea3c.data.membership`): intervals from pitindex and CSV, the
``tradable = listed AND member`` mask through loading, forced exits (sell / hold) in the execution
model, the envs and the baselines, and fetching every member of a range."""

from __future__ import annotations

import logging
import warnings
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yfinance as yf
from typer.testing import CliRunner

from tests.data.test_fetch import FakeYF
from tradea3c.backtest.baselines import basket_log_returns, replay_periodic
from tradea3c.cli import app
from tradea3c.data.cache import write_ticker
from tradea3c.data.errors import DataError
from tradea3c.data.fetch import universe_fetch_list
from tradea3c.data.load import load_market, load_market_with_report
from tradea3c.data.market import FIELDS, Market, synthetic_market
from tradea3c.data.membership import Membership, resolve_membership
from tradea3c.data.spec import MarketSpec, load_market_spec
from tradea3c.data.synthetic import changing_universe
from tradea3c.data.universes import universe_tickers
from tradea3c.envs import CostConfig, PerturbConfig, PortfolioEnv, PortfolioEnvConfig
from tradea3c.envs.execution import delist, replay
from tradea3c.features.compute import compute_features
from tradea3c.features.config import FeatureConfig

PIT = Membership.from_pitindex("sp500")
RATE = 0.001  # 10 bps commission, nothing else
COSTS = CostConfig(commission_bps=10.0, half_spread_bps=0.0, slippage_bps=0.0)


def write_synthetic(data_dir: Path, tickers: list[str], start: str, n_bars: int, seed: int = 0) -> Market:
    """Random-walk bars for ``tickers`` written to the cache (one calendar)."""
    m = synthetic_market(n_bars, len(tickers), seed=seed, start=start)
    for i, t in enumerate(tickers):
        frame = pd.DataFrame({f: getattr(m, f)[:, i] for f in FIELDS}, index=pd.DatetimeIndex(m.dates))
        write_ticker(data_dir, t, frame, source="synthetic", adjusted=True)
    return m


def day(m: Market, bar: int) -> date:
    return pd.Timestamp(m.dates[bar]).date()


# ------------------------------------------------------------------ pitindex
def test_pitindex_intervals_match_its_own_snapshots() -> None:
    import pitindex

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", pitindex.StaleDataWarning)
        for d in ("2005-01-03", "2008-09-12", "2015-01-02", "2019-12-31"):
            theirs = {t.replace(".", "-") for t in pitindex.get_constituents(d)["ticker"]}
            assert set(PIT.members_between(d, d)) == theirs, d


def test_pitindex_known_changes_and_range_members() -> None:
    assert PIT.coverage_start == date(2005, 1, 3) and PIT.source.startswith("pitindex 0.2.")
    assert PIT.is_member("LEH", "2007-06-29") and not PIT.is_member("LEH", "2009-01-02")
    assert PIT.intervals["LEH"] == ((date(2005, 1, 3), date(2008, 9, 15)),)  # removed after Chapter 11
    assert PIT.is_member("MON", "2018-06-06") and not PIT.is_member("MON", "2018-06-07")
    assert not PIT.is_member("TSLA", "2020-12-18") and PIT.is_member("TSLA", "2020-12-21")
    assert PIT.is_member("BRK.B", "2015-06-01") and "BRK-B" in PIT.intervals  # Yahoo symbols
    members = PIT.members_between("2015-01-02", "2019-12-31")
    today = set(universe_tickers("sp500", prefer_snapshot=True)[0])
    assert len(members) > 600 and len(members) > len(today & set(members)) + 100
    assert "MON" in members and "TSLA" not in members and "LEH" not in members


def test_a_range_before_coverage_is_one_line_error() -> None:
    with pytest.raises(DataError, match=r"starts on 2005-01-03.*--start") as exc:
        PIT.members_between("2004-06-01", "2006-01-01")
    assert "\n" not in str(exc.value)
    with pytest.raises(DataError, match="starts on 2005-01-03"):
        PIT.mask(["AAPL"], pd.bdate_range("2004-12-01", periods=40).to_numpy())


def test_resolve_membership_defaults() -> None:
    assert resolve_membership("sp500", None).source == PIT.source
    assert resolve_membership("dow30", None) is None and resolve_membership("sp500", "today") is None
    with pytest.raises(DataError, match="dow30 has no point-in-time data.*--membership FILE"):
        resolve_membership("dow30", "pit")


# ----------------------------------------------------------------------- CSV
def test_csv_membership_round_trip_and_normalisation(tmp_path: Path) -> None:
    f = tmp_path / "members.csv"
    f.write_text(
        "ticker,start,end,name\nBRK.B,2010-01-04,,Berkshire\nx,2010-01-04,2011-01-03,\nX,2012-01-03,\n"
    )
    m = Membership.from_csv(f)
    assert m.tickers == ["BRK-B", "X"] and m.coverage_start == date(2010, 1, 4)
    assert m.intervals["X"] == ((date(2010, 1, 4), date(2011, 1, 3)), (date(2012, 1, 3), None))
    assert m.members_between("2011-02-01", "2011-12-30") == ["BRK-B"]
    assert m.members_between("2011-02-01", "2012-01-03") == ["BRK-B", "X"]
    back = Membership.from_csv(m.to_csv(tmp_path / "again.csv"))
    assert back.intervals == m.intervals


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (None, "is not found; pass a CSV with columns ticker,start,end"),
        ("symbol,from,to\nAAPL,2010-01-04,\n", "has columns symbol,from,to; expected a CSV with columns"),
        ("ticker,start,end\nAAPL,2010-13-04,\n", "line 2: bad date in '2010-13-04',''; use YYYY-MM-DD"),
        ("ticker,start,end\nAAPL,2010-01-04,2009-01-02\n", "line 2: end 2009-01-02 is not after start"),
        ("ticker,start,end\n,2010-01-04,\n", "line 2: empty ticker"),
        ("ticker,start,end\n", "has no rows"),
        ("", "has columns \\(none\\)"),
    ],
)
def test_bad_membership_files_are_one_line_errors(tmp_path: Path, text: str | None, match: str) -> None:
    f = tmp_path / "members.csv"
    if text is not None:
        f.write_text(text)
    with pytest.raises(DataError, match=match) as exc:
        Membership.from_csv(f)
    assert str(f) in str(exc.value) and "\n" not in str(exc.value)


# ----------------------------------------------------------------- the mask
def membership_market(on_exit: str = "sell") -> tuple[Market, Market]:
    """(listing-only market, the same with a membership): U5 leaves the index at bar 250, U4 joins at
    bar 150, U3 is out of the index for its first 100 bars, the rest are members throughout."""
    m = changing_universe(n_assets=6, n_bars=500, seed=5)
    iv = {t: [(day(m, 0), None)] for t in m.tickers}
    iv["U5"] = [(day(m, 0), day(m, 250))]
    iv["U4"] = [(day(m, 150), None)]
    iv["U3"] = [(day(m, 100), None)]
    members = Membership.from_intervals(iv, source="test")
    return m, m.with_membership(members.mask(m.tickers, m.dates), on_exit=on_exit)  # type: ignore[arg-type]


def test_mask_is_listed_and_member() -> None:
    m, pit = membership_market()
    listed, tradable = m.tradable_mask, pit.tradable_mask
    assert not listed.all()  # late listings and delistings of the changing universe
    member = np.ones_like(listed)
    member[250:, 5] = member[:150, 4] = member[:100, 3] = False
    assert np.array_equal(tradable, listed & member)
    assert pit.keep is None and pit.fingerprint != m.fingerprint
    hold = m.with_membership(member, on_exit="hold")
    assert np.array_equal(hold.keep, listed & ~member) and hold.keep.any()
    assert np.array_equal(hold.take(slice(100, 300)).keep, hold.keep[100:300])
    assert np.array_equal(hold.select(["U5", "U0"]).keep, hold.keep[:, [5, 0]])


def test_features_and_benchmarks_see_members_only() -> None:
    _, pit = membership_market()
    fs = compute_features(pit, FeatureConfig())
    assert fs.valid is not None and not (fs.valid & ~pit.tradable_mask).any()
    assert not fs.valid[:150, 4].any() and fs.valid[250:, 5].sum() == 0
    basket = basket_log_returns(pit, pit.n_bars)
    c, live = pit.close, pit.tradable_mask
    for t in (120, 200, 300):
        both = live[t] & live[t - 1]
        assert basket[t] == pytest.approx(np.log1p(np.mean(c[t, both] / c[t - 1, both] - 1.0)), abs=1e-12)


# ------------------------------------------------------------- forced exits
def two_asset_market(on_exit: str) -> Market:
    """A and B listed on all 8 bars; B leaves the index on bar 5 (its prices stay real)."""
    close = np.array(
        [[100, 50], [101, 50], [102, 49], [100, 52], [103, 51], [104, 53], [102, 54], [105, 55.0]]
    )
    open_ = np.array(
        [[100, 50], [100.5, 50], [101.5, 50], [101, 49.5], [101, 51.5], [103.5, 52.5], [104, 53], [103, 54.5]]
    )
    dates = pd.bdate_range("2020-01-01", periods=8).to_numpy()
    m = Market(
        ("A", "B"),
        dates,
        open_,
        np.maximum(open_, close),
        np.minimum(open_, close),
        close,
        np.full((8, 2), 1e5),
    )
    member = np.ones((8, 2), dtype=bool)
    member[5:, 1] = False
    return m.with_membership(member, on_exit=on_exit)  # type: ignore[arg-type]


def test_a_holding_that_leaves_is_sold_at_the_next_fill_with_costs_by_hand() -> None:
    """All in B from the open of bar 4 (51.5); B leaves the index on bar 5: sold at the open of bar 5
    (52.5, a real price, not the last close 51) paying 10 bps, in replay and in the env alike."""
    m = two_asset_market("sell")
    units = 1.0 / 51.5  # w=1 of equity 1 at the open of bar 4; its cost 0.001 is paid from cash
    e4 = units * 51.0 - RATE
    sale = units * 52.5
    e5 = -RATE + sale * (1.0 - RATE)
    rep = replay(m, np.tile([0.0, 1.0], (4, 1)), start=3, costs=COSTS, mode="on_change")
    np.testing.assert_allclose(rep.equity, [1.0, e4, e5, e5, e5], rtol=0, atol=1e-15)
    np.testing.assert_allclose(rep.costs, [RATE, RATE * sale, 0.0, 0.0], rtol=0, atol=1e-15)
    assert rep.units[1:].tolist() == [[0.0, 0.0]] * 3

    cfg = PortfolioEnvConfig(
        action="discrete",
        window=1,
        features=FeatureConfig(names=("ret_1",), norm="none"),
        episode_length=5,
        costs=COSTS,
        perturb=PerturbConfig(random_start=False),
    )
    env = PortfolioEnv(m, cfg)
    env.reset(seed=0)
    assert env.episode.start == 1
    infos = [env.step(a)[4] for a in (0, 0, 2, 2, 2)]  # cash, cash, all B, all B (masked), all B
    np.testing.assert_allclose([i["equity"] for i in infos], [1.0, 1.0, e4, e5, e5], rtol=0, atol=1e-15)
    assert infos[3]["cost"] == pytest.approx(RATE * sale, abs=1e-15)


def test_on_exit_hold_keeps_the_holding_until_the_next_rebalance() -> None:
    """hold: B stays held (marked at its real closes) while the target does not change; it is sold at
    the next rebalance: the next target change (replay on_change) or periodic rebalance."""
    sell, hold = two_asset_market("sell"), two_asset_market("hold")
    targets = np.tile([0.0, 1.0], (4, 1))
    kept = replay(hold, targets, start=3, costs=COSTS, mode="on_change")
    units = 1.0 / 51.5
    np.testing.assert_allclose(kept.equity[1:], units * hold.close[4:, 1] - RATE, rtol=0, atol=1e-15)
    assert kept.costs[1:].tolist() == [0.0] * 3
    changed = targets.copy()
    changed[2:] = [1.0, 0.0]  # decided at bar 5, filled at the open of bar 6: B sold there, A bought
    rep = replay(hold, changed, start=3, costs=COSTS, mode="on_change")
    assert rep.units[1, 1] == units and rep.units[2, 1] == 0.0 and rep.units[2, 0] > 0
    # a daily rebalance sells it at the next fill either way (as in the envs)
    a = replay(sell, changed, start=3, costs=COSTS, mode="always")
    b = replay(hold, changed, start=3, costs=COSTS, mode="always")
    assert a.units[1, 1] == b.units[1, 1] == 0.0
    np.testing.assert_allclose(a.equity, b.equity, rtol=0, atol=1e-12)  # target 0 on B: all cash


def test_replay_periodic_hold_and_sell_differ_by_hand() -> None:
    """Equal weight A/B decided at bar 2, rebalanced every 4 steps (fills at bars 3 and 7); B leaves
    the index on bar 5. sell: B sold at the open of bar 5 with costs; hold: B held (marked at its
    real closes) until the rebalance filled at bar 7, which sells it."""
    sell, hold = two_asset_market("sell"), two_asset_market("hold")
    kw = {"start": 2, "n_steps": 5, "every": 4, "costs": COSTS}
    s, h = (
        replay_periodic(sell, np.array([0.5, 0.5]), **kw),
        replay_periodic(hold, np.array([0.5, 0.5]), **kw),
    )
    b_units = 0.5 / sell.open[3, 1]  # bought at the open of bar 3
    assert s.units[0, 1] == h.units[0, 1] == b_units
    assert s.units[2, 1] == 0.0 and s.costs[2] == pytest.approx(RATE * b_units * sell.open[5, 1], abs=1e-15)
    assert h.units[2, 1] == h.units[3, 1] == b_units and h.costs[2] == 0.0  # held, marked at real closes
    assert h.units[4].tolist() == [h.units[4, 0], 0.0] and h.costs[4] > 0  # sold at the rebalance (bar 7)
    # after the exit fill (bar 5): sell got 52.5 less 10 bps for B, hold marks it at the close, 53
    diff = b_units * (hold.close[5, 1] - sell.open[5, 1] * (1.0 - RATE))
    assert h.equity[3] - s.equity[3] == pytest.approx(diff, abs=1e-14) and s.equity[2] == h.equity[2]


def test_delist_keep_skips_kept_holdings() -> None:
    units, tradable, keep = (
        np.array([1.0, 2.0, 3.0]),
        np.array([True, False, False]),
        np.array([False, True, False]),
    )
    new, cash, traded, cost = delist(units, 0.0, tradable, np.array([10.0, 20.0, 30.0]), 0.01, keep)
    assert new.tolist() == [1.0, 2.0, 0.0] and cash == pytest.approx(90.0 - 0.9) and traded == 90.0


def test_portfolio_env_equity_equals_replay_with_membership() -> None:
    _, pit = membership_market()
    env = PortfolioEnv(pit, PortfolioEnvConfig(latency=1, episode_length=300))
    obs, info = env.reset(seed=4)
    rng = np.random.default_rng(4)
    eq, targets = [info["equity"]], []
    for _ in range(env.episode.n_steps):
        _, _, term, trunc, info = env.step(rng.normal(0, 2, pit.n_assets + 1).astype(np.float32))
        eq.append(info["equity"])
        targets.append(info["target"])
        if term or trunc:
            break
    ep = env.episode
    t = np.arange(ep.start, ep.start + len(targets))
    assert (~pit.tradable_mask[t]).any()  # the episode crosses exits and joins
    rep = replay(
        pit, np.array(targets), start=ep.start, costs=env.config.costs, latency=ep.latency, mode="always"
    )
    np.testing.assert_allclose(rep.equity, eq, rtol=0, atol=1e-9)


def test_vector_env_equals_single_envs_with_membership() -> None:
    from tests.envs.test_portfolio_vector import assert_same_as_singles

    _, pit = membership_market()
    assert assert_same_as_singles(pit, PortfolioEnvConfig(episode_length=120), k=3, n=200, seed=2) >= 3


# -------------------------------------------------------------------- loading
def test_sp500_loads_point_in_time_members_of_the_cached_range(tmp_path: Path) -> None:
    """A cache from 2004-06 to 2010: sp500 is every member of 2005-01-03..2010 that is cached (LEH,
    removed 2008-09-15, included; TSLA, a member from 2020, not); bars before pitindex's coverage are
    left out (reported); LEH trades only while a member."""
    write_synthetic(tmp_path, ["AAPL", "LEH", "MSFT", "TSLA"], "2004-06-01", 1700)
    m, report = load_market_with_report("sp500", data_dir=tmp_path)
    assert m.tickers == ("AAPL", "LEH", "MSFT") and m.start == pd.Timestamp("2005-01-03")
    notes = [f.detail for f in report.findings if f.check == "membership"]
    assert any("cached bars before it are left out" in n for n in notes)
    (line,) = [n for n in notes if "point-in-time members" in n]
    n = len(PIT.members_between(m.start, m.end))
    assert line.startswith(f"sp500: {n} point-in-time members 2005-01-03..{m.end.date()} (pitindex 0.2.")
    assert f", 3 cached; {n - 3} not cached: " in line
    leh = m.tradable_mask[:, 1]
    assert (
        leh[m.dates < np.datetime64("2008-09-15")].all()
        and not leh[m.dates >= np.datetime64("2008-09-15")].any()
    )
    assert m.tradable_mask[:, [0, 2]].all()
    with pytest.raises(DataError, match="starts on 2005-01-03"):
        load_market("sp500", data_dir=tmp_path, start="2004-07-01")
    later = load_market("sp500", data_dir=tmp_path, start="2009-01-02", on_exit="hold")
    assert later.tickers == ("AAPL", "MSFT") and later.keep is None  # nobody left while listed


def test_a_csv_membership_masks_a_cached_market(tmp_path: Path) -> None:
    cache_dir = tmp_path / "cache"
    raw = write_synthetic(cache_dir, ["U0", "U1", "U2", "U3"], "2010-01-04", 300)
    f = tmp_path / "members.csv"
    f.write_text(
        f"ticker,start,end\nU0,2009-01-02,\nU1,{day(raw, 50)},{day(raw, 120)}\nU1,{day(raw, 200)},\n"
        f"U2,2009-01-02,{day(raw, 150)}\n"
    )
    m, report = load_market_with_report("cached", data_dir=cache_dir, membership=str(f), on_exit="hold")
    assert m.tickers == ("U0", "U1", "U2")  # U3 was never a member
    member = np.ones((300, 3), dtype=bool)
    member[:50, 1] = member[120:200, 1] = member[150:, 2] = False
    assert np.array_equal(m.tradable_mask, member) and np.array_equal(m.keep, ~member)
    assert any("3 point-in-time members" in f.detail and "3 cached" in f.detail for f in report.findings)
    picked = load_market("U0,U3", data_dir=cache_dir, membership=f)
    assert picked.tickers == ("U0",)
    with pytest.raises(DataError, match="U9"):
        load_market("U0,U9", data_dir=cache_dir, membership=f)


def test_dow30_from_todays_list_is_logged_as_survivorship_biased(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    members = universe_tickers("dow30", prefer_snapshot=True)[0][:2]
    write_synthetic(tmp_path, members, "2015-01-02", 100)
    with caplog.at_level(logging.INFO, logger="tradea3c"):
        market = load_market_spec(MarketSpec(source="dow30", data_dir=str(tmp_path)))
    assert market.n_assets == 2 and market.tradable is None
    (warn,) = [r for r in caplog.records if "SURVIVORSHIP-BIASED" in r.getMessage()]
    assert warn.levelno == logging.WARNING and "--membership FILE" in warn.getMessage()
    f = tmp_path / "dow.csv"
    f.write_text(f"ticker,start,end\n{members[0]},2015-03-02,\n")
    spec = MarketSpec(source="dow30", data_dir=str(tmp_path), membership=str(f), on_exit="hold")
    pit = load_market_spec(spec)
    assert (
        pit.tickers == (members[0],)
        and not pit.tradable_mask[: np.searchsorted(pit.dates, np.datetime64("2015-03-02"))].any()
    )


# ---------------------------------------------------------------------- fetch
def test_fetch_list_is_every_member_of_the_range() -> None:
    names, how, pit = universe_fetch_list("sp500", start="2015-01-01", end="2020-01-01")
    assert pit and names == PIT.members_between("2015-01-01", "2019-12-31") and "MON" in names
    assert "pitindex 0.2." in how and "2015-01-01..2019-12-31" in how
    today, _, pit = universe_fetch_list("sp500", membership="today")
    assert not pit and "MON" not in today
    with pytest.raises(DataError, match="starts on 2005-01-03"):
        universe_fetch_list("sp500", start="2000-01-01")


def test_cli_fetch_sp500_fetches_point_in_time_members(
    tmp_data_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake = FakeYF()
    monkeypatch.setattr(yf, "download", fake)
    runner = CliRunner()
    res = runner.invoke(app, ["fetch", "--market", "sp500", "--start", "2024-01-02", "--end", "2024-02-01"])
    members = PIT.members_between("2024-01-02", "2024-01-31")  # FakeYF prices: 2024
    assert res.exit_code == 0, res.output
    assert f"sp500: {len(members)} tickers from pitindex" in res.output
    assert sorted(c["ticker"] for c in fake.calls) == members
    f = tmp_path / "members.csv"
    f.write_text("ticker,start,end\nMON,2010-01-04,2024-01-10\nBRK.B,2010-01-04,\n")
    res = runner.invoke(
        app, ["fetch", "--membership", str(f), "--start", "2024-01-02", "--end", "2024-02-01"]
    )
    assert res.exit_code == 0, res.output
    assert f"{f}: 2 tickers from membership file {f}" in res.output
    assert [c["ticker"] for c in fake.calls[len(members) :]] == ["MON"]  # BRK-B: already up to date
    res = runner.invoke(app, ["fetch", "--market", "sp500", "--start", "2001-01-01"])
    assert res.exit_code == 2 and "starts on 2005-01-03" in res.output
    args = ["--start", "2024-01-02", "--end", "2024-02-01", "--max-tickers", "1"]
    res = runner.invoke(app, ["fetch", "--market", "dow30", *args])
    assert res.exit_code == 0 and "SURVIVORSHIP-BIASED" in res.output and "--membership FILE" in res.output
    res = runner.invoke(app, ["fetch", "AAPL", "--membership", str(f)])
    assert res.exit_code == 2 and "--membership picks the members of --market NAME" in res.output
