"""Intraday bars (issue 26 part 4): `Market.interval`, annualisation by bars a year, the session grid."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from tradea3c.backtest.baselines import baselines
from tradea3c.data.errors import DataError
from tradea3c.data.intraday import check_session, session_dates, session_grid
from tradea3c.data.market import Market, synthetic_market
from tradea3c.envs.anchors import VolTargetConfig, vol_target_for
from tradea3c.envs.config import RewardConfig
from tradea3c.envs.execution import CostConfig
from tradea3c.envs.rewards import reward_aux, reward_periods
from tradea3c.metrics import periods_per_year, sharpe_ratio


def hourly(m: Market, interval: str = "1h") -> Market:
    """``m``'s prices relabelled as intraday bars of ``interval`` (whole sessions)."""
    per_day = len(session_grid("2020-01-02", interval))
    days = -(-m.n_bars // per_day)
    dates = session_dates("2020-01-02", days, interval)[: m.n_bars]
    return Market(
        m.tickers, dates, m.open, m.high, m.low, m.close, m.volume, source=m.source, interval=interval
    )


def test_periods_per_year_counts_bars_per_session() -> None:
    assert periods_per_year("1d") == 252
    assert {k: periods_per_year(k) / 252 for k in ("1h", "30m", "15m", "5m", "1m")} == {
        "1h": 7,  # 09:30 .. 15:30: 6.5 hours, 7 bars
        "30m": 13,
        "15m": 26,
        "5m": 78,
        "1m": 390,
    }
    for k in ("1h", "30m", "15m", "5m", "1m"):
        assert len(session_grid("2020-01-02", k)) == periods_per_year(k) / 252


def test_interval_is_kept_and_fingerprinted_only_when_intraday() -> None:
    m = synthetic_market(300, 2, seed=1)
    assert m.interval == "1d" and not m.intraday and m.periods_per_year == 252
    # a daily market's fingerprint is what it was before the field existed (interval not hashed)
    same = Market(m.tickers, m.dates, m.open, m.high, m.low, m.close, m.volume, interval="1d")
    assert same.fingerprint == m.fingerprint
    h = hourly(m)
    assert h.interval == "1h" and h.intraday and h.periods_per_year == 252 * 7
    h30 = hourly(m, "30m")
    assert len({m.fingerprint, h.fingerprint, h30.fingerprint}) == 3
    assert h.take(slice(0, 50)).interval == "1h"
    assert h.select(["SYN1"]).interval == "1h"
    assert h.between(None, h.dates[100]).interval == "1h"
    assert h.with_membership(np.ones(h.close.shape, bool)).interval == "1h"
    assert "1h bars" in repr(h)
    with pytest.raises(ValueError, match="bar interval '2h' is unknown"):
        Market(m.tickers, m.dates, m.open, m.high, m.low, m.close, m.volume, interval="2h")


def test_session_last_marks_each_sessions_final_bar() -> None:
    h = hourly(synthetic_market(21, 1))
    assert h.session_last.tolist() == ([False] * 6 + [True]) * 3
    assert synthetic_market(5, 1).session_last.all()


def test_sharpe_of_the_same_returns_differs_by_sqrt_7_on_hourly_bars() -> None:
    m = synthetic_market(400, 1, seed=4)
    h = hourly(m)
    daily = baselines(m, 10, 300, CostConfig(), rules=[], vol_target=None)[0]
    hour = baselines(h, 10, 300, CostConfig(), rules=[], vol_target=None)[0]
    np.testing.assert_array_equal(daily.equity, hour.equity)  # same prices, same fills
    assert daily.periods == 252 and hour.periods == 252 * 7
    assert hour.metrics().sharpe == pytest.approx(daily.metrics().sharpe * math.sqrt(7), rel=1e-12)
    r = np.diff(np.log(m.close[:, 0]))
    assert sharpe_ratio(r, h.periods_per_year) == pytest.approx(sharpe_ratio(r) * math.sqrt(7), rel=1e-12)


def test_vol_scaled_reward_and_vol_target_annualise_with_the_market() -> None:
    m = synthetic_market(400, 1, seed=2)
    h = hourly(m)
    assert reward_periods(m) == 252.0 and reward_periods(h) == 252.0 * 7
    cfg = RewardConfig(kind="vol_scaled", vol_target=0.15, vol_window=20)
    daily = reward_aux(cfg, m.close[:, 0])
    assert np.array_equal(daily, reward_aux(cfg, m.close[:, 0], reward_periods(m)))  # daily unchanged
    intraday = reward_aux(cfg, h.close[:, 0], reward_periods(h))
    ok = (daily < 10) & (intraday < 10) & (np.arange(len(daily)) > 21)
    np.testing.assert_allclose(intraday[ok], daily[ok] / math.sqrt(7), rtol=1e-12)
    vt = VolTargetConfig()
    assert vol_target_for(vt, m) is vt and vol_target_for(vt, h).periods_per_year == 252 * 7
    assert vol_target_for(VolTargetConfig(periods_per_year=100.0), h).periods_per_year == 100.0


def test_check_session_drops_bars_outside_the_session_and_off_the_grid() -> None:
    idx = pd.DatetimeIndex(
        ["2020-01-02 08:30", "2020-01-02 09:30", "2020-01-02 10:30", "2020-01-02 10:45", "2020-01-02 16:00"]
    )
    frame = pd.DataFrame({"close": np.arange(5.0) + 1}, index=idx)
    kept, findings = check_session(frame, "1h", "X")
    assert list(kept.index.strftime("%H:%M")) == ["09:30", "10:30"]
    assert [f.detail for f in findings] == [
        "2 bars outside the regular session 09:30-16:00 ET (first 2020-01-02 08:30)",
        "1 bars off the 1h grid (first 2020-01-02 10:45)",
    ]


# ---------------------------------------------------------------- intraday CSV import and the cache layout
# Sessions around Thanksgiving 2019 (Thu 28 closed, Fri 29 a half day to 13:00), a weekend, and one
# summer day (EDT, UTC-4) to check the time-zone conversion.
SESSIONS = {"2019-11-27": 16 * 60, "2019-11-29": 13 * 60, "2019-12-02": 16 * 60, "2020-07-06": 16 * 60}


def hourly_csv(path, ticker: str = "SPY", *, extra: tuple[str, ...] = (), utc: bool = True, skip=()):
    """A 1h CSV of `SESSIONS` written in UTC (``Z``) or as New York times with an offset."""
    rows, price = [], 100.0
    for day, close in SESSIONS.items():
        for t in session_grid(day, "1h", close):
            if str(t) in skip:
                continue
            aware = t.tz_localize("America/New_York")
            stamp = aware.tz_convert("UTC").strftime("%Y-%m-%dT%H:%MZ") if utc else aware.isoformat()
            price *= 1.001
            rows.append(f"{stamp},{price:.4f},{price * 1.002:.4f},{price * 0.998:.4f},{price:.4f},1000")
    rows += list(extra)
    path.mkdir(parents=True, exist_ok=True)
    (path / f"{ticker}.csv").write_text("Datetime,Open,High,Low,Close,Volume\n" + "\n".join(rows) + "\n")
    return path


def n_bars() -> int:
    return sum(len(session_grid(d, "1h", c)) for d, c in SESSIONS.items())


def test_hourly_csv_imports_to_its_own_folder_in_new_york_time(tmp_path) -> None:
    from tradea3c.data import cache, load_market
    from tradea3c.data.fetch import import_csv

    src = hourly_csv(tmp_path / "src", extra=("2019-12-02T13:00Z,1,1,1,1,1", "2019-12-02T21:30Z,1,1,1,1,1"))
    ddir = tmp_path / "cache"
    rep = import_csv(src, data_dir=ddir, interval="1h")
    assert [r.status for r in rep.results] == ["fetched"], rep.results[0].detail
    assert rep.results[0].rows == n_bars() == 7 + 4 + 7 + 7  # the half day has 4 bars
    assert (ddir / "1h" / "SPY.parquet").is_file() and not (ddir / "SPY.parquet").exists()
    assert cache.list_cache(ddir) == []  # the daily cache does not see intraday files
    meta = cache.list_cache(ddir / "1h")[0]
    assert (meta.interval, meta.first, meta.last) == ("1h", "2019-11-27 09:30", "2020-07-06 15:30")
    # 08:00 ET (pre-market) and 16:30 ET (after hours) are dropped and reported
    session = [f for f in rep.findings if f.check == "session"]
    assert [f.detail for f in session] == [
        "2 bars outside the regular session 09:30-16:00 ET (first 2019-12-02 08:00)"
    ]
    m = load_market(["SPY"], data_dir=ddir, interval="1h")
    assert m.interval == "1h" and m.n_bars == n_bars() and m.halted is None and m.tradable is None
    times = pd.DatetimeIndex(m.dates)
    assert times[0] == pd.Timestamp("2019-11-27 09:30") and times[-1] == pd.Timestamp("2020-07-06 15:30")
    assert (times[times.normalize() == pd.Timestamp("2020-07-06")].hour.min(), times.minute.max()) == (9, 30)
    half = times[times.normalize() == pd.Timestamp("2019-11-29")]
    assert list(half.strftime("%H:%M")) == ["09:30", "10:30", "11:30", "12:30"]  # not missing bars
    assert m.session_last.sum() == 4
    # the end date takes its whole day; the daily layout still says what to fetch
    assert load_market(["SPY"], data_dir=ddir, interval="1h", end="2019-11-29").n_bars == 11
    with pytest.raises(DataError, match=r"run `tradea3c fetch SPY` \(online\)"):
        load_market(["SPY"], data_dir=ddir)
    with pytest.raises(DataError, match=r"fetch QQQ --interval 1h"):
        load_market(["QQQ"], data_dir=ddir, interval="1h")


def test_two_hourly_tickers_align_and_a_missing_bar_inside_a_day_is_a_halt(tmp_path) -> None:
    from tradea3c.data import load_market
    from tradea3c.data.fetch import import_csv

    src = hourly_csv(tmp_path / "src", "AAA", utc=False)
    hourly_csv(src, "BBB", skip=("2019-12-02 11:30:00",))
    ddir = tmp_path / "cache"
    assert import_csv(src, data_dir=ddir, interval="1h").ok
    m = load_market(["AAA", "BBB"], data_dir=ddir, interval="1h")
    assert m.n_bars == n_bars()  # nights, the weekend, the holiday and the half day add no bar
    assert m.halted is not None and int(m.halted.sum()) == 1
    row = int(np.flatnonzero(m.halted[:, 1])[0])
    assert pd.Timestamp(m.dates[row]) == pd.Timestamp("2019-12-02 11:30")


def test_intraday_csv_refusals(tmp_path) -> None:
    from tradea3c.data.csv_import import read_csv_file
    from tradea3c.data.fetch import import_csv

    src = hourly_csv(tmp_path / "src")
    with pytest.raises(DataError, match=r"or pass --interval 1h \(30m, 15m, 5m, 1m\)"):
        read_csv_file(src / "SPY.csv")
    daily = tmp_path / "daily.csv"
    daily.write_text("Date,Close\n2020-01-02,10\n2020-01-03,11\n")
    with pytest.raises(DataError, match="holds no times of day .* drop --interval 1h"):
        read_csv_file(daily, interval="1h")
    # naive times written in UTC fall outside the New York session: refused, nothing written
    night = tmp_path / "night"
    night.mkdir()
    (night / "X.csv").write_text("Datetime,Close\n2020-01-02 02:00,10\n2020-01-02 03:00,11\n")
    rep = import_csv(night, data_dir=tmp_path / "c", interval="1h")
    assert (
        rep.results[0].status == "failed" and "no 1h bar inside the regular session" in rep.results[0].detail
    )
    assert not (tmp_path / "c" / "1h" / "X.parquet").exists()
    with pytest.raises(DataError, match="interval '2h' is not supported; use one of 1d, 1h, 30m"):
        import_csv(src, data_dir=tmp_path / "c", interval="2h")


# ---------------------------------------------------------------- fetch --interval through yfinance (faked)
def yf_intraday(ticker: str, start: str, end: str, interval: str) -> pd.DataFrame:
    """What yf.download returns for intraday bars: (Price, Ticker) columns and a 'Datetime' index in
    America/New_York, regular session only, end exclusive; a range without sessions is empty."""
    days = pd.bdate_range(start, pd.Timestamp(end) - pd.Timedelta(days=1))
    stamps = [t for d in days for t in session_grid(d, interval)]
    idx = pd.DatetimeIndex(stamps, name="Datetime").tz_localize("America/New_York")
    minutes = (idx.tz_localize(None) - pd.Timestamp("2024-01-01")).total_seconds().to_numpy() / 60
    close = 100.0 + minutes * 1e-4  # a function of the bar time: an overlapping bar matches the cache
    data = {"Close": close, "High": close + 0.1, "Low": close - 0.1, "Open": close - 0.05, "Volume": 1e4}
    df = pd.DataFrame({(c, ticker): data[c] for c in sorted(data)}, index=idx)
    df.columns = pd.MultiIndex.from_tuples(df.columns, names=["Price", "Ticker"])
    return df


class FakeIntradayYF:
    """Stands in for `yf.download` (as `tests.data.test_fetch.FakeYF`); without an end, to ``end``."""

    def __init__(self, end: str | None = None) -> None:
        self.calls: list[dict] = []
        self.end = end or str(pd.Timestamp.today().normalize() + pd.Timedelta(days=1))[:10]

    def __call__(self, tickers: str, **kw: object) -> pd.DataFrame:
        self.calls.append({"ticker": tickers, **kw})
        frame = yf_intraday(tickers, str(kw["start"]), str(kw["end"] or self.end), str(kw["interval"]))
        if len(frame) == 0:
            import logging

            logging.getLogger("yfinance").error(f"['{tickers}']: possibly delisted; no price data found")
        return frame


TODAY = pd.Timestamp("2024-03-01").date()


def test_fetch_hourly_bars_into_the_interval_folder(tmp_path, monkeypatch) -> None:
    import yfinance as yf

    from tradea3c.data import cache, load_market
    from tradea3c.data.fetch import fetch_tickers

    fake = FakeIntradayYF()
    monkeypatch.setattr(yf, "download", fake)
    rep = fetch_tickers(
        ["AAPL"], data_dir=tmp_path, start="2024-02-26", end="2024-03-01", interval="1h", today=TODAY
    )
    assert [r.status for r in rep.results] == ["fetched"], rep.results[0].detail
    assert fake.calls[0]["interval"] == "1h" and fake.calls[0]["start"] == "2024-02-26"
    assert rep.results[0].rows == 4 * 7
    assert (
        cache.list_cache(tmp_path) == [] and cache.list_cache(tmp_path / "1h")[0].last == "2024-02-29 15:30"
    )
    m = load_market("AAPL", data_dir=tmp_path, interval="1h")
    assert (
        m.interval == "1h" and m.n_bars == 28 and pd.Timestamp(m.dates[0]) == pd.Timestamp("2024-02-26 09:30")
    )
    # incremental: asks from the last cached day on, adds only the new bars
    rep = fetch_tickers(
        ["AAPL"], data_dir=tmp_path, start="2024-02-26", end="2024-03-02", interval="1h", today=TODAY
    )
    assert fake.calls[-1]["start"] == "2024-02-29" and rep.results[0].added == 7 and rep.results[0].rows == 35


def test_fetch_without_start_asks_from_the_earliest_day_yahoo_serves(tmp_path, monkeypatch) -> None:
    import yfinance as yf

    from tradea3c.data.fetch import fetch_tickers

    fake = FakeIntradayYF("2024-03-02")
    monkeypatch.setattr(yf, "download", fake)
    rep = fetch_tickers(["AAPL"], data_dir=tmp_path, interval="5m", today=TODAY, sleep=lambda _: None)
    assert rep.ok and fake.calls[0]["start"] == str(TODAY - pd.Timedelta(days=59).to_pytimedelta())
    assert fake.calls[0]["period"] is None


def test_one_minute_bars_are_asked_in_7_day_chunks(tmp_path, monkeypatch) -> None:
    import yfinance as yf

    from tradea3c.data.fetch import fetch_tickers

    fake = FakeIntradayYF()
    monkeypatch.setattr(yf, "download", fake)
    rep = fetch_tickers(
        ["AAPL"], data_dir=tmp_path, start="2024-02-05", end="2024-02-27", interval="1m", today=TODAY
    )
    assert rep.ok, rep.results[0].detail
    assert [(c["start"], c["end"]) for c in fake.calls] == [
        ("2024-02-05", "2024-02-12"),
        ("2024-02-12", "2024-02-19"),
        ("2024-02-19", "2024-02-26"),
        ("2024-02-26", "2024-02-27"),
    ]
    assert rep.results[0].rows == 16 * 390  # 16 business days (Presidents' Day is a weekday here)


@pytest.mark.parametrize(
    "interval, start, limit, earliest",
    [
        ("1h", "2021-01-04", "730 days back", "2022-03-03"),
        ("30m", "2023-12-01", "60 days back", "2024-01-02"),
        ("5m", "2023-12-01", "60 days back", "2024-01-02"),
        ("1m", "2024-01-15", "30 days back (7 days a request)", "2024-02-01"),
    ],
)
def test_start_earlier_than_yahoo_serves_is_one_line(tmp_path, interval, start, limit, earliest) -> None:
    from tradea3c.data.fetch import fetch_tickers

    with pytest.raises(DataError) as info:
        fetch_tickers(["AAPL"], data_dir=tmp_path, start=start, interval=interval, today=TODAY)
    assert str(info.value) == (
        f"--start {start} is too early for {interval} bars: Yahoo serves {interval} bars only {limit} "
        f"(from {earliest}); pass --start {earliest} or later, or import older bars with --from-csv DIR "
        f"--interval {interval}"
    )


def test_intraday_refusals_for_daily_only_markets_and_the_strategy_field(tmp_path) -> None:
    from tradea3c.data import load_market
    from tradea3c.data.spec import MarketSpec, load_market_spec
    from tradea3c.experiment.strategy import StrategyConfig

    with pytest.raises(DataError, match="the demo market holds daily bars only; drop --interval 1h"):
        load_market("demo", interval="1h")
    with pytest.raises(DataError, match="synthetic signal market is daily only"):
        load_market_spec(MarketSpec(source="signal", interval="1h"))
    members = tmp_path / "members.csv"
    members.write_text("ticker,start,end\nSPY,2000-01-03,\n")
    with pytest.raises(
        DataError, match=r"index membership \(--membership .*members.csv\) is applied to daily"
    ):
        load_market("cached", data_dir=tmp_path, interval="1h", membership=str(members))
    with pytest.raises(ValueError, match="market.interval '2h' is not supported; use one of 1d, 1h"):
        StrategyConfig(market=MarketSpec(interval="2h"))
    assert StrategyConfig(market=MarketSpec(source="SPY", interval="1h")).market.interval == "1h"
