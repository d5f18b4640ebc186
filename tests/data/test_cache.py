"""Parquet cache: round trip with metadata, atomic writes, listing; load_market from the cache."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from tradea3c.data import DataError, Market, cache, default_data_dir, load_market, synthetic_market
from tradea3c.data.errors import CacheWriteError
from tradea3c.data.universes import UNIVERSES, universe_tickers


def _put(data_dir: Path, m: Market) -> None:
    for t in m.tickers:
        cache.write_ticker(data_dir, t, m.frame(t), source="yfinance", adjusted=True)


def test_round_trip_keeps_values_and_metadata(tmp_path: Path) -> None:
    m = synthetic_market(50, 2, seed=1)
    _put(tmp_path, m)
    df, meta = cache.read_ticker(tmp_path, "SYN1")
    assert np.array_equal(df.to_numpy(), m.frame("SYN1").to_numpy())
    assert (meta.rows, meta.first, meta.source, meta.adjusted) == (50, str(m.start.date()), "yfinance", True)
    assert [x.ticker for x in cache.list_cache(tmp_path)] == ["SYN0", "SYN1"]
    loaded = load_market(["SYN0", "SYN1"], data_dir=tmp_path)
    assert loaded.fingerprint == m.fingerprint  # clean data passes validation unchanged


def test_failed_write_leaves_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    m = synthetic_market(30, 1, seed=0)
    _put(tmp_path, m)
    path = cache.ticker_path(tmp_path, "SYN0")
    before = path.read_bytes()

    def half_write(table, where, **kw):  # noqa: ANN001, ANN202
        Path(where).write_bytes(b"PAR1 partial garbage")
        raise OSError("disk full")

    monkeypatch.setattr(cache.pq, "write_table", half_write)
    with pytest.raises(DataError, match=r"cannot write the cache file .*SYN0.parquet: disk full.*unchanged"):
        cache.write_ticker(
            tmp_path, "SYN0", synthetic_market(60, 1, seed=9).frame(), source="x", adjusted=True
        )
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["SYN0.parquet"]  # no temp file left behind
    assert pq.read_table(path).num_rows == 30


def test_missing_ticker_error_says_how_to_fetch(tmp_path: Path) -> None:
    _put(tmp_path, synthetic_market(30, 1))
    with pytest.raises(DataError, match=r"MSFT.*tradea3c fetch MSFT.*--from-csv") as exc:
        load_market(["SYN0", "MSFT"], data_dir=tmp_path)
    assert "\n" not in str(exc.value)
    with pytest.raises(DataError, match="unknown market 'sp5000'"):
        load_market("sp5000", data_dir=tmp_path)
    with pytest.raises(DataError, match="fetch --market dow30"):
        load_market("dow30", data_dir=tmp_path)


def test_load_window_and_max_tickers(tmp_path: Path) -> None:
    m = synthetic_market(100, 3, seed=2)
    _put(tmp_path, m)
    sub = load_market("cached", data_dir=tmp_path, start=m.dates[10], end=m.dates[19], max_tickers=2)
    assert sub.tickers == ("SYN0", "SYN1") and sub.n_bars == 10
    assert load_market("SYN2,SYN0", data_dir=tmp_path).tickers == ("SYN2", "SYN0")


def test_default_data_dir_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("TRADEA3C_DATA", raising=False)
    assert default_data_dir() == Path("data/cache")
    monkeypatch.setenv("TRADEA3C_DATA", str(tmp_path))
    assert default_data_dir() == tmp_path


def test_demo_market_needs_no_cache(tmp_data_dir: Path) -> None:
    m = load_market("demo")
    assert m.tickers == ("GOOGL",) and m.n_bars == 2335 and m.adjusted and not tmp_data_dir.exists()


@pytest.mark.parametrize("name", list(UNIVERSES))
def test_universes_from_package_and_snapshot(name: str) -> None:
    live, how = universe_tickers(name)
    snap, snap_how = universe_tickers(name, prefer_snapshot=True)
    assert "pytickersymbols" in how and "as of" in snap_how
    assert len(live) >= 25 and len(snap) >= 25 and all(cache.normalize_ticker(t) == t for t in snap)
    if name == "sp500":
        assert "BRK-B" in live and "AAPL" in live


def test_universe_uses_cached_members_and_reports_the_rest(tmp_path: Path) -> None:
    from tradea3c.data.load import load_market_with_report

    members, _ = universe_tickers("dow30")
    src = synthetic_market(40, 2, seed=3)
    for ticker, col in zip(members[:2], src.tickers, strict=True):
        cache.write_ticker(tmp_path, ticker, src.frame(col), source="csv", adjusted=True)
    m, report = load_market_with_report("dow30", data_dir=tmp_path)
    assert m.tickers == tuple(members[:2])
    note = [f for f in report.findings if f.check == "universe"]
    assert (
        len(note) == 1
        and note[0].action == "dropped"
        and f"{len(members) - 2} of {len(members)}" in note[0].detail
    )


def test_ticker_lock_waits_then_names_the_file_and_the_fix(tmp_path: Path) -> None:
    with cache.ticker_lock(tmp_path, "AAA"):
        assert cache.lock_path(tmp_path, "AAA").is_file()
        with cache.ticker_lock(tmp_path, "BBB"):  # another ticker: its own lock
            pass
        with pytest.raises(
            DataError, match=r"AAA.parquet is being written by another tradea3c process .*wait"
        ):
            with cache.ticker_lock(tmp_path, "AAA", timeout=0.2):
                pass
    with cache.ticker_lock(tmp_path, "AAA", timeout=0.2):  # released: free again
        pass
    assert cache.list_cache(tmp_path) == [] and cache.scan_cache(tmp_path) == ([], {})


def test_a_lock_folder_that_is_a_file_is_one_line(tmp_path: Path) -> None:
    (tmp_path / cache.LOCK_DIR).write_text("not a folder")
    with pytest.raises(
        CacheWriteError, match=r"cannot create the cache lock file .*\.locks/AAA.lock: .*--data-dir"
    ):
        with cache.ticker_lock(tmp_path, "AAA"):
            pass


def test_an_unwritable_cache_runs_unlocked_so_the_write_error_is_the_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def read_only(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(Path, "mkdir", read_only)
    ran = []
    with cache.ticker_lock(tmp_path, "AAA"):
        ran.append(True)
    assert ran == [True] and not (tmp_path / cache.LOCK_DIR).exists()
