"""tradea3c.data.csv_import: decimal marks, timestamps with offsets, intraday files and odd folder
entries (issue 25): read as written, or refused / reported in one line naming the file and the fix."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradea3c.data.csv_import import read_csv_file, read_csv_source
from tradea3c.data.errors import DataError

DAYS = pd.bdate_range("2020-01-02", periods=5)


def _write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# ---- 7. decimal commas


def test_semicolon_file_with_decimal_commas_reads_the_decimals(tmp_path: Path) -> None:
    rows = "".join(f"{d.date()};20,45;21,5;19,75;20,45;1.234.567\n" for d in DAYS)
    p = _write(tmp_path, "EUR.csv", "Date;Open;High;Low;Close;Volume\n" + rows)
    (s,) = read_csv_file(p)
    assert np.allclose(s.frame["close"], 20.45) and np.allclose(s.frame["high"], 21.5)
    assert np.allclose(s.frame["volume"], 1_234_567)
    assert any("decimal" in n for n in s.notes), s.notes


def test_quoted_decimal_commas_in_a_comma_file_are_decimals(tmp_path: Path) -> None:
    rows = "".join(f'{d.date()},"20,45","21,5","19,75","20,45",100\n' for d in DAYS)
    (s,) = read_csv_file(_write(tmp_path, "Q.csv", "Date,Open,High,Low,Close,Volume\n" + rows))
    assert np.allclose(s.frame["close"], 20.45)


def test_thousands_separators_still_read_as_thousands(tmp_path: Path) -> None:
    rows = "".join(f'{d.date()},"1,234.50","1,240.00","1,200.25","1,234.50","1,000,000"\n' for d in DAYS)
    (s,) = read_csv_file(_write(tmp_path, "T.csv", "Date,Open,High,Low,Close,Volume\n" + rows))
    assert np.allclose(s.frame["close"], 1234.5) and np.allclose(s.frame["volume"], 1e6)


def test_ambiguous_commas_are_refused_naming_the_file_and_decimal(tmp_path: Path) -> None:
    rows = "".join(f'{d.date()},"1,234","1,240","1,200","1,234",100\n' for d in DAYS)
    p = _write(tmp_path, "AMB.csv", "Date,Open,High,Low,Close,Volume\n" + rows)
    with pytest.raises(DataError, match=r"AMB.csv: .*'1,234'.*--decimal") as info:
        read_csv_file(p)
    assert "\n" not in str(info.value)
    (s,) = read_csv_file(p, decimal=",")
    assert np.allclose(s.frame["close"], 1.234)
    (s,) = read_csv_file(p, decimal=".")
    assert np.allclose(s.frame["close"], 1234.0)


def test_both_decimal_marks_in_one_file_are_refused(tmp_path: Path) -> None:
    rows = "".join(f'{d.date()},"20,45",21.5,19.75,"20,45",100\n' for d in DAYS)
    p = _write(tmp_path, "MIX.csv", "Date,Open,High,Low,Close,Volume\n" + rows)
    with pytest.raises(DataError, match=r"MIX.csv: .*--decimal"):
        read_csv_file(p)


# ---- 8. timestamps with offsets: the exchange-local date


def test_offset_timestamps_keep_the_date_as_written(tmp_path: Path) -> None:
    text = (
        "Date,Close\n"
        "2006-01-03T20:00-05:00,10\n"  # UTC would make this 2006-01-04
        "2006-01-04T20:00:00-05:00,11\n"
        "2006-01-05T08:00+09:00,12\n"  # UTC would make this 2006-01-04 (a duplicate)
        "2006-01-06 16:00:00Z,13\n"
    )
    (s,) = read_csv_file(_write(tmp_path, "OFF.csv", text))
    assert [str(d.date()) for d in s.frame.index] == ["2006-01-03", "2006-01-04", "2006-01-05", "2006-01-06"]


def test_friday_evening_in_new_york_is_not_a_saturday(tmp_path: Path) -> None:
    (s,) = read_csv_file(_write(tmp_path, "FRI.csv", "Date,Close\n2006-01-06T20:00-05:00,10\n"))
    assert s.frame.index[0] == pd.Timestamp("2006-01-06") and s.frame.index[0].day_of_week == 4


# ---- 12. intraday rows are refused, never collapsed


def test_intraday_rows_are_refused_in_one_line(tmp_path: Path) -> None:
    times = pd.date_range("2020-01-02 09:30", periods=3, freq="min")
    text = "Date,Close\n" + "".join(f"{t.isoformat()},{10 + i}\n" for i, t in enumerate(times))
    p = _write(tmp_path, "MIN.csv", text)
    with pytest.raises(DataError) as info:
        read_csv_file(p)
    assert str(info.value) == (
        f"{p} holds intraday bars (3 rows on 2020-01-02 at different times); tradea3c imports daily "
        "bars only: resample to one row per day first, or pass --interval 1h (30m, 15m, 5m, 1m) to import "
        "them as intraday bars"
    )


def test_one_timestamped_row_per_day_is_daily(tmp_path: Path) -> None:
    text = "Date,Close\n" + "".join(f"{d.date()} 16:00:00,{10 + i}\n" for i, d in enumerate(DAYS))
    (s,) = read_csv_file(_write(tmp_path, "D.csv", text))
    assert list(s.frame.index) == list(DAYS)


def test_intraday_epoch_rows_are_refused(tmp_path: Path) -> None:
    t0 = int(pd.Timestamp("2020-01-02 14:30").timestamp())
    text = "Date,Close\n" + "".join(f"{t0 + 60 * i},{10 + i}\n" for i in range(4))
    with pytest.raises(DataError, match=r"intraday bars \(4 rows on 2020-01-02 at different times\)"):
        read_csv_file(_write(tmp_path, "EP.csv", text))


# ---- odd entries in a CSV folder are named, never skipped silently


def test_odd_folder_entries_are_named(tmp_path: Path) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "AAA.csv").write_text("Date,Close\n" + "".join(f"{d.date()},10\n" for d in DAYS))
    (src / "GONE.csv").symlink_to(tmp_path / "nowhere.csv")
    (src / "DIR.csv").mkdir()
    os.mkfifo(src / "PIPE.csv")
    (src / "notes.md").write_text("not a csv")  # not CSV-named: ignored as before
    series, errors = read_csv_source(src)
    assert [s.ticker for s in series] == ["AAA"]
    msgs = sorted(errors.values())
    assert msgs == [
        f"skipped {src / 'DIR.csv'}: a folder, not a CSV file",
        f"skipped {src / 'GONE.csv'}: a dangling symlink (its target {tmp_path / 'nowhere.csv'} "
        "does not exist)",
        f"skipped {src / 'PIPE.csv'}: a FIFO (named pipe), not a regular file",
    ], msgs


def test_a_thousands_comma_in_volume_alone_is_no_ambiguity(tmp_path: Path) -> None:
    rows = "".join(f'{d.date()},20.450,21.000,19.750,20.450,"1,234"\n' for d in DAYS)
    (s,) = read_csv_file(_write(tmp_path, "V.csv", "Date,Open,High,Low,Close,Volume\n" + rows))
    assert np.allclose(s.frame["close"], 20.45) and np.allclose(s.frame["volume"], 1234)
