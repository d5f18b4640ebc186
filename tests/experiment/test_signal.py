"""``tradea3c.experiment.signal``: the signal is the backtester's decision at that bar, bar by bar
(one asset, an ensemble, a portfolio); orders in whole shares at the run's costs; one-line refusals
(the ``tradea3c signal`` command: tests/cli/test_signal.py)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradea3c.backtest.engine import BacktestError, BarRange, LoadedPolicy, load_policy, policy_curve
from tradea3c.backtest.runner import backtest_run
from tradea3c.data.market import synthetic_market
from tradea3c.data.synthetic import planted_signal_market
from tradea3c.experiment.signal import (
    SignalError,
    check_fresh,
    compute_signal,
    make_orders,
    policy_signal,
    read_positions,
)


def _day(x: object) -> str:
    return str(pd.Timestamp(x).date())


@pytest.fixture(scope="module")
def market() -> object:
    return planted_signal_market(2000)  # the tiny runs' market (signal.toml)


def test_signal_equals_the_backtest_decision_at_every_bar(tiny_run: Path, market) -> None:
    """The signal at each bar of a backtest range is the target the backtest decided there."""
    pol = load_policy(tiny_run)
    d = market.dates
    lo = int(np.searchsorted(d, np.datetime64(pd.Timestamp(pol.split.val_end), "ns"), side="right")) - 1
    hi = lo + 40
    rep = backtest_run(tiny_run, _day(d[lo]), _day(d[hi]), costs_bps=(), rules=[], market=market)
    curve = rep.curves[0]
    assert _day(curve.dates[0]) == _day(d[lo]) and len(curve.targets) == hi - lo
    got = []
    for k in range(hi - lo):
        sig = compute_signal(tiny_run, date=_day(d[lo + k]), market=market)  # default base: val_end
        assert sig.date == pd.Timestamp(d[lo + k]) and sig.start == pd.Timestamp(d[lo])
        assert sig.next_session == pd.Timestamp(d[lo + k + 1]) and sig.label == "out-of-sample"
        got.append(sig.weights.to_numpy())
    np.testing.assert_array_equal(np.array(got), curve.targets)  # exactly, bar by bar
    assert len(np.unique(curve.targets)) == 2  # the policy does change its mind on this range


def test_ensemble_signal_equals_the_ensemble_backtest(tiny_runs: Callable[[int], Path], market) -> None:
    runs = [tiny_runs(0), tiny_runs(1)]
    d = market.dates
    start = "2006-07-10"
    lo = int(np.searchsorted(d, np.datetime64(pd.Timestamp(start), "ns")))
    rep = backtest_run(
        runs, start, _day(d[lo + 12]), costs_bps=(), rules=[], market=market, ensemble=True,
        allow_in_sample=True,
    )  # fmt: skip
    got = [
        compute_signal(runs, date=_day(d[lo + k]), start=start, market=market).weights.to_numpy()
        for k in range(12)
    ]
    np.testing.assert_array_equal(np.array(got), rep.curves[0].targets)
    assert compute_signal(runs, date=_day(d[lo]), start=start, market=market).run.startswith("ensemble of 2")


def test_portfolio_signal_equals_the_policy_curve(tmp_path: Path) -> None:
    """A portfolio policy (continuous weights over 3 assets, rebalanced every bar) likewise."""
    from tradea3c.a3c.config import ModelConfig
    from tradea3c.a3c.models import build_model
    from tradea3c.data.spec import MarketSpec
    from tradea3c.envs import make_env
    from tradea3c.envs.config import DateSplit
    from tradea3c.experiment import StrategyConfig

    market = synthetic_market(400, 3, seed=3)
    cfg = StrategyConfig(name="pf").env_config(market)
    split = DateSplit("2000-11-01", "2001-02-01")
    env = make_env(market, cfg.for_evaluation(), split, "test")
    model = build_model(ModelConfig(), env.observation_space, env.action_space)
    pol = LoadedPolicy(
        tmp_path / "x.pt", model, cfg, MarketSpec(), split, "", market.tickers, 0, {"extra": {}}
    )
    lo = int(np.searchsorted(market.dates, np.datetime64("2001-02-01", "ns")))
    curve = policy_curve(pol, market, BarRange(lo, lo + 15, False))
    got = [policy_signal(pol, market, date=market.dates[lo + k]).weights.to_numpy() for k in range(15)]
    np.testing.assert_array_equal(np.array(got), curve.targets)
    sig = policy_signal(pol, market, date=market.dates[lo + 3], capital=50_000.0)
    assert sig.weights.index.tolist() == list(market.tickers) and 0 < sig.weights.sum() <= 1 + 1e-12
    assert (sig.orders["side"] == "buy").all() and sig.cash_after >= 0


def test_orders_are_whole_shares_toward_zero_with_the_cost_model() -> None:
    price = np.array([100.0, 40.0, 10.0])
    rate = np.array([8e-4, 8e-4, 1e-3])
    held = {"A": 10.0, "B": 0.0, "C": 55.5}
    orders, equity, cash_after = make_orders(
        ["A", "B", "C"], np.array([0.25, 0.5, 0.0]), price, rate, held, 2445.0
    )
    assert equity == 10 * 100 + 55.5 * 10 + 2445.0  # 4000
    # A: 0.25 * 4000 / 100 = 10 -> hold; B: 2000 / 40 = 50 -> buy 50; C: -55.5 -> sell 55 (toward zero)
    assert orders["side"].tolist() == ["hold", "buy", "sell"] and orders["quantity"].tolist() == [0, 50, 55]
    np.testing.assert_allclose(orders["notional"], [0.0, 2000.0, 550.0])
    np.testing.assert_allclose(orders["est_cost"], [0.0, 1.6, 0.55])
    assert cash_after == pytest.approx(2445.0 - 2000.0 + 550.0 - 2.15)
    np.testing.assert_allclose(orders["weight_after"], [0.25, 0.5, 0.5 * 10 / 4000])


def test_positions_file(tmp_path: Path) -> None:
    p = tmp_path / "pos.csv"
    p.write_text("ticker,quantity\nsignal,12\nCASH,1000.5\n")
    assert read_positions(p) == {"SIGNAL": 12.0, "cash": 1000.5}
    p.write_text("ticker,qty\nA,1\n")
    with pytest.raises(SignalError, match="ticker,quantity"):
        read_positions(p)
    p.write_text("ticker,quantity\nA,x\n")
    with pytest.raises(SignalError, match="give a number"):
        read_positions(p)


def test_stale_data_is_refused_unless_a_past_date_is_asked(tiny_run: Path, market) -> None:
    last = market.end  # 2007-08-31, a Friday
    check_fresh(market, last + pd.Timedelta(days=3))  # Monday: 1 business day
    check_fresh(market, last + pd.offsets.BDay(4))  # a long weekend plus holidays: tolerated
    with pytest.raises(SignalError, match=r"stale data: the last cached bar is 2007-08-31, 5 business"):
        check_fresh(market, last + pd.offsets.BDay(5))
    check_fresh(market, last + pd.offsets.BDay(5), max_age_days=5)
    today = last + pd.offsets.BDay(30)
    with pytest.raises(SignalError, match="stale data"):
        compute_signal(tiny_run, market=market, today=today)
    sig = compute_signal(tiny_run, date="2007-08-30", market=market, today=today)  # the past: no check
    assert sig.date == pd.Timestamp("2007-08-30")
    fresh = compute_signal(tiny_run, market=market, today=last + pd.Timedelta(days=1), capital=5_000.0)
    assert fresh.date == last and fresh.next_session == pd.Timestamp("2007-09-03") and fresh.equity == 5_000.0


def test_refusals_are_one_line(tiny_run: Path, market, tmp_path: Path) -> None:
    from dataclasses import replace

    from tradea3c.experiment.signal import check_universe

    pol = load_policy(tiny_run)
    with pytest.raises(SignalError, match=r"1 of the policy's 2 tickers are missing from the cache: MSFT"):
        check_universe(replace(pol, tickers=("SIGNAL", "MSFT")), market)
    two = synthetic_market(50, 2)
    with pytest.raises(SignalError, match=r"universe differs from the checkpoint's \(2 tickers now, extra"):
        check_universe(replace(pol, tickers=two.tickers[:1]), two)
    with pytest.raises(SignalError, match="not in the policy's universe"):
        compute_signal(tiny_run, date="2007-01-05", market=market, positions={"AAPL": 3.0})
    with pytest.raises(SignalError, match="not both"):
        compute_signal(tiny_run, date="2007-01-05", market=market, positions={}, capital=1.0)
    with pytest.raises(SignalError, match="before the policy's track start"):
        compute_signal(tiny_run, date="2006-01-05", market=market)
    with pytest.raises(SignalError, match="is not a date"):
        compute_signal(tiny_run, date="soon", market=market)
    with pytest.raises(SignalError, match="the cached data ends at 2007-08-31"):
        compute_signal(tiny_run, date="2007-12-01", market=market)
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a checkpoint")
    with pytest.raises(BacktestError) as info:  # not a tradea3c run: the backtester's one line
        compute_signal(junk, market=market)
    assert "\n" not in str(info.value)


def test_a_cached_market_reads_the_newest_bars_and_names_missing_tickers(tmp_path: Path) -> None:
    """A run on cached tickers: the signal reads every cached bar (also those fetched after
    training), from ``data_dir`` if given, and names a ticker that is gone from the cache."""
    from dataclasses import replace

    from tradea3c.data.cache import ticker_path, write_ticker
    from tradea3c.experiment import load_strategy, train_strategy

    frame = planted_signal_market(1200).frame("SIGNAL")
    cache = tmp_path / "cache"
    write_ticker(cache, "SIG", frame.iloc[:1000], source="synthetic", adjusted=True)
    cfg = load_strategy("signal")
    cfg = replace(
        cfg,
        market=replace(cfg.market, source="SIG", data_dir=str(cache)),
        split=replace(
            cfg.split, train_end=str(frame.index[600].date()), val_end=str(frame.index[800].date())
        ),
        a3c=replace(cfg.a3c, workers=1, total_steps=600, tensorboard=False, eval_every=300),
    )
    run = tmp_path / "run"
    train_strategy(cfg, run, progress=False)
    last = frame.index[999]
    sig = compute_signal(run, today=last + pd.Timedelta(days=1))
    assert sig.date == last and sig.start == frame.index[800]
    write_ticker(cache, "SIG", frame, source="synthetic", adjusted=True)  # a later fetch: 200 new bars
    newest = compute_signal(run, today=frame.index[-1])
    assert newest.date == frame.index[-1]
    moved = tmp_path / "other"
    moved.mkdir()
    ticker_path(cache, "SIG").rename(ticker_path(moved, "SIG"))
    with pytest.raises(SignalError, match=r"cannot load its market \(1 of 1 tickers not in the cache .*SIG"):
        compute_signal(run, today=frame.index[-1])
    again = compute_signal(run, today=frame.index[-1], data_dir=moved)  # --data-dir
    assert again.date == frame.index[-1] and again.weights.equals(newest.weights)
