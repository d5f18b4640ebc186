"""Malformed inputs give a one-line error or a reported repair; refusals leave the cache alone."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradea3c.data import DataError, cache, load_csv_market_with_report
from tradea3c.data.align import align_frames
from tradea3c.data.fetch import import_csv
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
