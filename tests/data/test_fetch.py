"""yfinance faked at its network boundary: fetch, incremental update, retries, offline, summary."""

from __future__ import annotations

import logging
from datetime import date

import numpy as np
import pandas as pd
import pytest
import yfinance as yf
from yfinance.exceptions import YFRateLimitError

from tradea3c.data import cache
from tradea3c.data.fetch import fetch_tickers
from tradea3c.data.yahoo import FetchError, call_with_retries, normalize_yf_frame, yf_download

TODAY = date(2024, 3, 1)


def yf_frame(
    ticker: str, start: str, end: str, *, adjusted: bool = True, base: float = 100.0
) -> pd.DataFrame:
    """What today's yf.download returns: MultiIndex (Price, Ticker) columns, 'Date' index, end exclusive."""
    dates = pd.bdate_range(start, pd.Timestamp(end) - pd.Timedelta(days=1), name="Date")
    close = base + (dates - pd.Timestamp("2024-01-01")).days.to_numpy(dtype=float)  # a function of the date
    data = {"Close": close, "High": close + 1, "Low": close - 1, "Open": close - 0.5, "Volume": 1e6}
    if not adjusted:
        data["Adj Close"] = close * 0.9
    cols = sorted(data)
    df = pd.DataFrame({(c, ticker): data[c] for c in cols}, index=dates)
    df.columns = pd.MultiIndex.from_tuples(df.columns, names=["Price", "Ticker"])
    return df


def empty_frame(ticker: str) -> pd.DataFrame:
    cols = pd.MultiIndex.from_product([["Adj Close", "Close", "High", "Low", "Open", "Volume"], [ticker]])
    return pd.DataFrame(columns=cols, index=pd.DatetimeIndex([], name="Date"))


class FakeYF:
    """Stands in for `yf.download`; records every call; scripted per-ticker behaviour."""

    def __init__(self, script: dict[str, list[str]] | None = None, last_day: str = "2024-03-01") -> None:
        self.calls: list[dict] = []
        self.script = script or {}
        self.last_day = last_day

    def __call__(self, tickers: str, **kw: object) -> pd.DataFrame:
        self.calls.append({"ticker": tickers, **kw})
        action = self.script.get(tickers, ["ok"]).pop(0) if self.script.get(tickers) else "ok"
        log = logging.getLogger("yfinance")
        if action == "ratelimit":
            raise YFRateLimitError()
        if action == "offline":
            log.error(
                f"['{tickers}']: DNSError('Failed to perform, curl: (6) Could not resolve host: "
                "query2.finance.yahoo.com')"
            )
            return empty_frame(tickers)
        if action == "unknown":
            log.error(f"['{tickers}']: YFTzMissingError('possibly delisted; no timezone found')")
            return empty_frame(tickers)
        start = kw.get("start") or "2024-01-02"
        end = kw.get("end") or self.last_day
        return yf_frame(tickers, str(start), str(end), adjusted=bool(kw["auto_adjust"]))


@pytest.fixture
def fake_yf(monkeypatch: pytest.MonkeyPatch) -> FakeYF:
    fake = FakeYF()
    monkeypatch.setattr(yf, "download", fake)
    return fake


def run(tickers, data_dir, **kw):  # noqa: ANN001, ANN201
    sleeps: list[float] = []
    kw.setdefault("today", TODAY)
    rep = fetch_tickers(tickers, data_dir=data_dir, sleep=sleeps.append, rng=np.random.default_rng(0), **kw)
    return rep, sleeps


def test_normalize_handles_multiindex_flat_and_adj_close() -> None:
    raw = yf_frame("AAPL", "2024-01-02", "2024-01-10", adjusted=False)
    adj = normalize_yf_frame(raw, "AAPL", adjusted=True)
    unadj = normalize_yf_frame(raw, "AAPL", adjusted=False)
    assert list(adj.columns) == ["open", "high", "low", "close", "volume"]
    assert np.allclose(adj["close"], 0.9 * unadj["close"])  # Adj Close / Close applied
    assert adj.index.name == "date" and adj.index.dtype == "datetime64[ns]"
    flat = raw.droplevel(1, axis=1)
    assert normalize_yf_frame(flat, "AAPL", adjusted=False).equals(unadj)
    by_ticker = raw.swaplevel(0, 1, axis=1)  # group_by='ticker' order
    assert normalize_yf_frame(by_ticker, "AAPL", adjusted=False).equals(unadj)


def test_fetch_then_incremental_asks_only_from_last_bar(tmp_path, fake_yf: FakeYF) -> None:
    rep, _ = run(["AAPL", "MSFT"], tmp_path, start="2024-01-02", end="2024-02-01")
    assert [r.status for r in rep.results] == ["fetched", "fetched"]
    assert fake_yf.calls[0]["auto_adjust"] is True and fake_yf.calls[0]["start"] == "2024-01-02"
    first = cache.read_ticker(tmp_path, "AAPL")
    assert first is not None and first[1].last == "2024-01-31" and first[1].source == "yfinance"
    fake_yf.calls.clear()
    rep, _ = run(["AAPL"], tmp_path, start="2024-01-02")
    assert [c["start"] for c in fake_yf.calls] == ["2024-01-31"]  # one overlap bar to detect re-adjustment
    r = rep.results[0]
    assert r.status == "fetched" and r.added == 21 and r.rows == 22 + 21
    df, meta = cache.read_ticker(tmp_path, "AAPL")
    assert df.index.is_unique and df.index.is_monotonic_increasing and meta.last == "2024-02-29"
    fake_yf.calls.clear()
    rep, _ = run(["AAPL"], tmp_path, start="2024-01-02")  # cache ends 2024-02-29, today 03-01
    assert rep.results[0].status == "up to date" and rep.results[0].added == 0


def test_up_to_date_without_request(tmp_path, fake_yf: FakeYF) -> None:
    run(["AAPL"], tmp_path, start="2024-01-02", end="2024-02-01")
    fake_yf.calls.clear()
    rep, _ = run(["AAPL"], tmp_path, start="2024-01-10", end="2024-02-01")
    assert rep.results[0].status == "up to date" and fake_yf.calls == []


def test_readjusted_history_is_refetched_in_full(tmp_path, fake_yf: FakeYF, monkeypatch) -> None:
    run(["AAPL"], tmp_path, start="2024-01-02", end="2024-02-01")
    real = fake_yf.__call__

    def split_happened(tickers: str, **kw: object) -> pd.DataFrame:
        return real(tickers, **kw) * 0.5  # every adjusted price halves after a 2:1 split

    monkeypatch.setattr(yf, "download", split_happened)
    rep, _ = run(["AAPL"], tmp_path, start="2024-01-02")
    assert "refetched in full" in rep.results[0].detail
    df, _ = cache.read_ticker(tmp_path, "AAPL")
    assert df["close"].iloc[0] == pytest.approx(50.5)  # old bars (101 on 01-02) replaced, not mixed


def test_rate_limit_retried_with_backoff_then_success(tmp_path, fake_yf: FakeYF) -> None:
    fake_yf.script = {"AAPL": ["ratelimit", "ratelimit", "ok"]}
    rep, sleeps = run(["AAPL"], tmp_path, start="2024-01-02", end="2024-01-10")
    assert rep.results[0].status == "fetched" and len(fake_yf.calls) == 3
    assert len(sleeps) == 2 and 0.5 <= sleeps[0] <= 1.0 and 1.0 <= sleeps[1] <= 2.0  # exp. backoff + jitter


def test_rate_limit_exhausted_fails_one_ticker_not_the_others(tmp_path, fake_yf: FakeYF) -> None:
    fake_yf.script = {"AAPL": ["ratelimit"] * 10}
    rep, sleeps = run(["AAPL", "MSFT"], tmp_path, start="2024-01-02", end="2024-01-10", retries=2)
    assert [r.status for r in rep.results] == ["failed", "fetched"]
    assert "rate limited" in rep.results[0].detail and len(sleeps) == 2 and rep.ok
    assert not cache.ticker_path(tmp_path, "AAPL").exists()


def test_unknown_ticker_is_no_data_and_not_retried(tmp_path, fake_yf: FakeYF) -> None:
    fake_yf.script = {"ZZZZ": ["unknown"]}
    rep, sleeps = run(["ZZZZ"], tmp_path)
    assert rep.results[0].status == "failed" and "unknown or delisted" in rep.results[0].detail
    assert sleeps == [] and not rep.ok


def test_offline_fails_each_ticker_once_and_keeps_cache(tmp_path, fake_yf: FakeYF) -> None:
    run(["AAPL"], tmp_path, start="2024-01-02", end="2024-01-10")
    before = cache.ticker_path(tmp_path, "AAPL").read_bytes()
    fake_yf.calls.clear()
    fake_yf.script = {"AAPL": ["offline"], "MSFT": ["offline"]}
    rep, sleeps = run(["AAPL", "MSFT"], tmp_path, start="2024-01-02")
    assert [r.status for r in rep.results] == ["failed", "failed"] and not rep.ok
    assert "no network" in rep.results[0].detail and "--from-csv" in rep.results[0].detail
    assert "cached data kept" in rep.results[0].detail
    assert len(fake_yf.calls) == 1 and sleeps == []  # offline detected once, not retried per ticker
    assert cache.ticker_path(tmp_path, "AAPL").read_bytes() == before


def test_yf_download_wrapper_classifies_and_silences(fake_yf: FakeYF, capsys) -> None:
    fake_yf.script = {"AAPL": ["offline"]}
    with pytest.raises(FetchError) as exc:
        yf_download("AAPL", None, None, "1d", True)
    assert exc.value.kind == "offline" and "query2.finance.yahoo.com" in str(exc.value)
    assert fake_yf.calls[0]["period"] == "max" and fake_yf.calls[0]["progress"] is False
    assert capsys.readouterr().err == ""


def test_call_with_retries_does_not_retry_fatal_kinds() -> None:
    calls = []

    def fn() -> pd.DataFrame:
        calls.append(1)
        raise FetchError("no_data", "gone")

    with pytest.raises(FetchError):
        call_with_retries(fn, retries=5, sleep=lambda s: None, rng=np.random.default_rng(0))
    assert len(calls) == 1


def test_unsupported_interval_and_bad_dates_are_data_errors(tmp_path) -> None:
    from tradea3c.data import DataError

    with pytest.raises(DataError, match="interval"):
        fetch_tickers(["AAPL"], data_dir=tmp_path, interval="2h")
    with pytest.raises(DataError, match="before"):
        fetch_tickers(["AAPL"], data_dir=tmp_path, start="2024-02-01", end="2024-01-01")
    with pytest.raises(DataError, match="invalid ticker"):
        fetch_tickers(["AA/PL"], data_dir=tmp_path)
