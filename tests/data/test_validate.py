"""Malformed inputs give a one-line error or a reported repair; refusals leave the cache alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradea3c.data import DataError, cache
from tradea3c.data.align import align_frames
from tradea3c.data.fetch import import_csv
from tradea3c.data.load import load_csv_market_with_report
from tradea3c.data.validate import clean_frame

HEAD = "Date,Open,High,Low,Close,Volume\n"
GOOD = "".join(f"2020-01-{d:02d},10,11,9,10.5,100\n" for d in (2, 3, 6, 7, 8, 9, 10, 13, 14, 15))

# name -> (csv text, expected (check/phrase in a finding) or None, expected DataError phrase or None)
CASES: dict[str, tuple[str, str | None, str | None]] = {
    "empty file": ("", None, "file is empty"),
    "header only": (HEAD, None, "no data rows"),
    "bad headers": ("foo,bar\n1,2\n", None, "no date column"),
    "missing close column": ("Date,Open,High,Low,Volume\n2020-01-02,1,2,0.5,10\n", None, "no close column"),
    "wrong date format": (
        HEAD + "".join(f"2020/13/{d:02d},10,11,9,10.5,1\n" for d in range(1, 9)),
        None,
        "cannot parse dates",
    ),
    "non-numeric volume": (HEAD + GOOD.replace(",100\n", ",lots\n"), None, "not numeric"),
    "all closes negative": (HEAD + GOOD.replace(",10.5,", ",-10.5,"), None, "no valid rows"),
    "NaN close": (HEAD + GOOD + "2020-01-16,10,11,9,,100\n", "bad-close", None),
    "negative close": (HEAD + GOOD + "2020-01-16,10,11,9,-3,100\n", "bad-close", None),
    "negative open": (HEAD + GOOD + "2020-01-16,-10,11,9,10,100\n", "negative-price", None),
    "empty OHL": (HEAD + GOOD + "2020-01-16,,,,10.4,100\n", "missing-price", None),
    "duplicated dates": (HEAD + GOOD + "2020-01-15,10,11,9,10.7,100\n", "duplicate-date", None),
    "unsorted dates": (HEAD + GOOD + "2020-01-01,10,11,9,10.5,100\n", "unsorted", None),
    "descending file": (HEAD + "".join(reversed(GOOD.splitlines(True))), "descending", None),
    "High<Low": (HEAD + GOOD + "2020-01-16,10,9,11,10,100\n", "high<low", None),
    "close above high": (HEAD + GOOD + "2020-01-16,10,11,9,12,100\n", "close-outside-range", None),
    "zero volume": (HEAD + GOOD + "2020-01-16,10,11,9,10.5,0\n", "zero-volume", None),
    "negative volume": (HEAD + GOOD + "2020-01-16,10,11,9,10.5,-5\n", "bad-volume", None),
    "split-like jump": (HEAD + GOOD + "2020-01-16,5,5.5,4.5,5.25,200\n", "2:1 split", None),
    "gap of weeks": (HEAD + GOOD + "2020-03-02,10,11,9,10.5,100\n", "gap", None),
    "too many bad rows": (
        HEAD + GOOD + "".join(f"2020-02-{d:02d},10,11,9,,1\n" for d in range(1, 8)),
        None,
        "rows invalid",
    ),
    "day-first dates": (
        "date,open,high,low,close,vol\n"
        + "".join(f"{d:02d}/01/2020,10,11,9,10.5,1\n" for d in range(13, 25)),
        "dates: day-first",
        None,
    ),
    "thousands separators": (
        'Date,Close,Volume\n2020-01-02,10,"1,200"\n2020-01-03,10.5,"2,400"\n',
        "missing-column",
        None,
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_malformed_input(name: str, tmp_path: Path) -> None:
    text, finding, error = CASES[name]
    src = tmp_path / "src"
    src.mkdir()
    (src / "ABC.csv").write_text(text)
    data_dir = tmp_path / "cache"
    sentinel = pd.DataFrame(
        {"open": [1.0], "high": [1.0], "low": [1.0], "close": [1.0], "volume": [1.0]},
        index=pd.DatetimeIndex(["2019-01-02"], name="date"),
    )
    cache.write_ticker(data_dir, "ABC", sentinel, source="csv", adjusted=False)
    before = cache.ticker_path(data_dir, "ABC").read_bytes()
    report = import_csv(src, data_dir=data_dir)
    (res,) = report.results
    if error is not None:
        assert res.status == "failed" and error in res.detail and "\n" not in res.detail
        assert cache.ticker_path(data_dir, "ABC").read_bytes() == before  # refused: cache unchanged
        with pytest.raises(DataError, match=error):
            load_csv_market_with_report(src)
    else:
        assert res.status == "fetched", res.detail
        text_out = " ".join(str(f) for f in res.findings) + " " + res.detail
        assert finding in text_out, text_out
        assert all(f.ticker == "ABC" and f.action in ("repaired", "dropped", "kept") for f in res.findings)
        df, _ = cache.read_ticker(data_dir, "ABC")
        assert df.index.is_monotonic_increasing and df.index.is_unique
        assert (df[["open", "high", "low", "close"]] > 0).all().all() and df.notna().all().all()
        assert (df["low"] <= df[["open", "close"]].min(axis=1)).all()
        assert (df["high"] >= df[["open", "close"]].max(axis=1)).all()


def test_unknown_ticker_in_csv_folder(tmp_path: Path) -> None:
    (tmp_path / "ABC.csv").write_text(HEAD + GOOD)
    with pytest.raises(DataError, match="XYZ not found"):
        load_csv_market_with_report(tmp_path, ["XYZ"])


def test_repairs_follow_the_documented_rules() -> None:
    idx = pd.DatetimeIndex(["2020-01-02", "2020-01-03", "2020-01-06"])
    df = pd.DataFrame(
        {
            "open": [10, np.nan, 200],
            "high": [11, np.nan, 12],
            "low": [9, 0.0, 9.5],
            "close": [10, 10.6, 11.8],
            "volume": [5, 6, np.nan],
        },
        index=idx,
    )
    clean, findings = clean_frame(df, "T")
    assert clean.loc["2020-01-03", "open"] == 10  # previous close
    assert clean.loc["2020-01-03", "high"] == 10.6 and clean.loc["2020-01-03", "low"] == 10  # max/min(O, C)
    assert clean.loc["2020-01-06", "open"] == 12  # typo'd open clamped, range not stretched to 200
    assert clean.loc["2020-01-06", "volume"] == 0
    assert {f.check for f in findings} == {"missing-price", "open-outside-range", "bad-volume"}


def test_alignment_fills_flat_and_drops_minority_dates() -> None:
    def bars(days: list[str], close: float) -> pd.DataFrame:
        c = np.full(len(days), close)
        return pd.DataFrame(
            {"open": c, "high": c, "low": c, "close": c, "volume": 1.0},
            index=pd.DatetimeIndex(days, name="date"),
        )

    a = bars(["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07"], 10.0)
    b = bars(["2020-01-02", "2020-01-06", "2020-01-07"], 20.0)
    c = bars(["2020-01-02", "2020-01-03", "2020-01-04", "2020-01-06", "2020-01-07"], 30.0)  # stray Saturday
    out, findings = align_frames({"A": a, "B": b, "C": c})
    assert list(out["B"].index.strftime("%m-%d")) == ["01-02", "01-03", "01-06", "01-07"]
    assert out["B"].loc["2020-01-03", "close"] == 20.0 and out["B"].loc["2020-01-03", "volume"] == 0
    assert {(f.ticker, f.check) for f in findings} == {("B", "missing-day"), ("C", "off-calendar")}


def test_djia30_imports_31_clean_tickers_and_reports_known_defects(djia_dir: Path, tmp_path: Path) -> None:
    report = import_csv(djia_dir, data_dir=tmp_path)
    assert report.count("fetched") == 31 and report.count("failed") == 0
    found = {(f.ticker, f.date, f.check) for f in report.findings}
    assert ("DIS", "2012-08-01", "zero-volume") in found
    assert ("DIS", "2012-08-01", "missing-price") in found
    assert ("BA", "2017-07-31", "missing-price") in found
    assert ("HD", "2009-04-17", "missing-price") in found  # low 0.0
    m, rep = load_csv_market_with_report(djia_dir)
    assert m.n_assets == 31 and m.n_bars == 3020 and np.isfinite(m.close).all() and (m.low > 0).all()
    filled = {(f.ticker, f.date) for f in rep.findings if f.check == "missing-day"}
    assert ("AAPL", "2010-04-01") in filled and ("MRK", "2009-08-11") in filled


def _bars(close: np.ndarray, volume: np.ndarray, start: str = "2015-01-02") -> pd.DataFrame:
    idx = pd.bdate_range(start, periods=len(close))
    return pd.DataFrame(
        {"open": close, "high": close * 1.01, "low": close * 0.99, "close": close, "volume": volume},
        index=idx,
    )


def test_penny_placeholder_prefix_before_a_listing_jump_is_dropped_and_reported() -> None:
    rng = np.random.default_rng(0)
    penny = 0.001 + 0.005 * rng.random(40)  # 0.001-0.006 at zero volume, as in a real S&P member's file
    real = 50.0 * np.exp(np.cumsum(0.01 * rng.standard_normal(260)))
    df = _bars(np.concatenate([penny, real]), np.concatenate([np.zeros(40), np.full(260, 1e6)]))
    clean, findings = clean_frame(df, "PENNY")
    assert len(clean) == 260 and clean.index[0] == df.index[40] and clean["close"].min() > 1.0
    (f,) = [f for f in findings if f.check == "garbage-prefix"]
    assert f.action == "dropped" and f.date == str(df.index[40].date()) and "40 bars before" in f.detail
    assert not any(f.check == "zero-volume" for f in findings)  # the dropped rows are not also "kept"


def test_stale_placeholder_runs_at_either_end_are_dropped() -> None:
    real = np.linspace(20.0, 30.0, 100)
    close = np.concatenate([np.full(10, 5.0), real, np.full(8, 30.0)])
    volume = np.concatenate([np.zeros(10), np.full(100, 1e5), np.zeros(8)])
    clean, findings = clean_frame(_bars(close, volume), "STALE")
    assert len(clean) == 100 and clean["close"].iloc[0] == 20.0 and clean["close"].iloc[-1] == 30.0
    details = [f.detail for f in findings if f.check == "placeholder"]
    assert len(details) == 2 and "10 leading bars" in details[0] and "8 trailing bars" in details[1]
    # a short zero-volume pause (fewer than stale_run bars) is only reported, never dropped
    pause = np.concatenate([real[:50], np.full(3, real[49]), real[50:]])
    vol = np.concatenate([np.full(50, 1e5), np.zeros(3), np.full(50, 1e5)])
    kept, findings = clean_frame(_bars(pause, vol), "PAUSE")
    assert len(kept) == 103 and not any(f.check == "placeholder" for f in findings)


def test_garbage_jump_late_in_a_series_refuses_the_ticker() -> None:
    close = np.concatenate([np.linspace(10.0, 12.0, 200), np.linspace(1500.0, 1600.0, 50)])  # x125 on day 200
    with pytest.raises(DataError, match=r"GARB: close x125 in one day on .* refused"):
        clean_frame(_bars(close, np.full(250, 1e5)), "GARB")
    # a real split-sized jump (x2) is kept and reported, as before
    split = np.concatenate([np.linspace(10.0, 12.0, 200), np.linspace(24.0, 25.0, 50)])
    clean, findings = clean_frame(_bars(split, np.full(250, 1e5)), "SPLIT")
    assert len(clean) == 250 and any(f.check == "jump" and "1:2 reverse" in f.detail for f in findings)


def test_importing_a_shorter_file_merges_by_date_and_never_loses_history(tmp_path: Path) -> None:
    def write(days: pd.DatetimeIndex, close: float, folder: str) -> Path:
        src = tmp_path / folder
        src.mkdir()
        rows = "".join(f"{d.date()},{close},{close + 1},{close - 1},{close},100\n" for d in days)
        (src / "ABC.csv").write_text("Date,Open,High,Low,Adj Close,Volume\n" + rows)
        return src

    data_dir = tmp_path / "cache"
    long_days, short_days = (
        pd.bdate_range("2015-01-02", periods=300),
        pd.bdate_range("2015-06-01", periods=30),
    )
    import_csv(write(long_days, 50.0, "long"), data_dir=data_dir)
    report = import_csv(write(short_days, 50.5, "short"), data_dir=data_dir)
    (res,) = report.results
    frame, _ = cache.read_ticker(data_dir, "ABC")
    assert res.status == "fetched" and len(frame) == 300 and res.added == 0
    assert "270 cached rows kept, 30 replaced" in res.detail
    assert frame.loc[short_days, "close"].eq(50.5).all() and frame.drop(short_days)["close"].eq(50.0).all()
    # --replace overwrites, but never shrinks the cached history by more than half (issue 15: delete
    # the cache file to start over); prices of the other kind (unadjusted vs adjusted) are never mixed
    refused = import_csv(write(short_days, 50.5, "again"), data_dir=data_dir, replace=True)
    assert refused.results[0].status == "failed" and "delete" in refused.results[0].detail
    assert len(cache.read_ticker(data_dir, "ABC")[0]) == 300
    replaced = import_csv(write(long_days[:200], 50.5, "most"), data_dir=data_dir, replace=True)
    assert replaced.results[0].rows == 200 and len(cache.read_ticker(data_dir, "ABC")[0]) == 200
    import_csv(write(long_days, 50.0, "long2"), data_dir=data_dir, replace=True)
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "ABC.csv").write_text("Date,Open,High,Low,Close,Volume\n2016-01-04,1,2,0.5,1.5,10\n")
    (mixed,) = import_csv(raw, data_dir=data_dir).results
    assert mixed.status == "failed" and "--replace" in mixed.detail
    assert len(cache.read_ticker(data_dir, "ABC")[0]) == 300  # refused: the cache is untouched
