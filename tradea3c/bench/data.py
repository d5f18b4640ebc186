"""Cache load benchmark: write a synthetic parquet cache of N tickers x B daily bars, then time
`load_market_with_report("cached")` on it (validation, alignment on the union calendar, `Market`).

Two kinds of load are timed, each ``repeats`` times (medians reported): in a fresh Python process,
import of tradea3c included (what a user waits for when a command starts; the files are in the OS
page cache after the write, so this is not a cold-disk read), and warm, again in this process.
The target of issue 12 is a fresh-process load of 500 tickers x 20 years under 5 s.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tradea3c.data import cache
from tradea3c.data.errors import DataError

TARGET_S = 5.0  # issue 12: import + load of 500 tickers x 20 years from the cache
TARGET_SIZE = (500, 5040)  # (tickers, bars) the target is stated for
_CHUNK = 50  # tickers per `changing_universe_frames` call (each with its own seed)

_FRESH = """
import json, sys, time
t0 = time.perf_counter()
from tradea3c.data.load import load_market_with_report
m, _ = load_market_with_report("cached", data_dir=sys.argv[1])
print(json.dumps({"seconds": time.perf_counter() - t0, "bars": m.n_bars, "assets": m.n_assets}))
"""


@dataclass(frozen=True)
class DataBenchRow:
    name: str
    seconds: float  # median wall-clock seconds
    bar_tickers_per_s: float  # aligned bars x tickers of the Market (written ones for the write row) / s
    load: bool  # a load row (False: the write row)
    target_met: bool | None  # load rows: seconds < TARGET_S; None below TARGET_SIZE and for the write row


def write_synthetic_cache(data_dir: Path, tickers: int, bars: int, seed: int = 0) -> int:
    """Validate and write ``tickers`` synthetic tickers of ``bars`` business days each (a fifth listed
    late, a fifth delisted early, a tenth with halts, as `changing_universe_frames` makes them), as
    `tradea3c fetch --from-csv` would; returns the bars written."""
    from tradea3c.data.synthetic import changing_universe_frames
    from tradea3c.data.validate import clean_frame

    written = 0
    for k in range(0, tickers, _CHUNK):
        n = min(_CHUNK, tickers - k)
        frames = changing_universe_frames(
            n, bars, seed=seed + k, late=n // 5, delisted=n // 5, halts=n // 10, placeholders=0
        )
        for i, df in enumerate(frames.values()):
            clean, _ = clean_frame(df, f"T{k + i:04d}")
            cache.write_ticker(data_dir, f"T{k + i:04d}", clean, source="synthetic", adjusted=True)
            written += len(clean)
    return written


def _fresh_load(data_dir: Path) -> tuple[float, int]:
    """(seconds, bars x tickers) of one import + load in a new Python process."""
    out = subprocess.run([sys.executable, "-c", _FRESH, str(data_dir)], capture_output=True, text=True)
    if out.returncode != 0:
        last = (out.stderr.strip().splitlines() or ["no output"])[-1]
        raise DataError(f"loading {data_dir} in a fresh process failed: {last}")
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return float(res["seconds"]), int(res["bars"]) * int(res["assets"])


def _warm_load(data_dir: Path) -> tuple[float, int]:
    from tradea3c.data.load import load_market_with_report

    t0 = time.perf_counter()
    m, _ = load_market_with_report("cached", data_dir=data_dir)
    return time.perf_counter() - t0, m.n_bars * m.n_assets


def run_data_benchmark(
    tickers: int = 500,
    bars: int = 5040,
    repeats: int = 3,
    data_dir: Path | None = None,
    seed: int = 0,
) -> list[DataBenchRow]:
    """Write (unless ``data_dir`` names an existing cache) and time loading a cache: rows for the
    write, the fresh-process load and the warm load (medians of ``repeats``)."""
    if data_dir is not None:
        if not cache.list_cache(Path(data_dir)):
            raise DataError(f"no cached tickers in {data_dir}; give a cache folder or leave --data-dir out")
        return _time_loads(Path(data_dir), repeats)
    with tempfile.TemporaryDirectory(prefix="tradea3c-bench-data-") as tmp:
        t0 = time.perf_counter()
        written = write_synthetic_cache(Path(tmp), tickers, bars, seed)
        wrote = time.perf_counter() - t0
        row = DataBenchRow(
            f"write {tickers} tickers (validate + parquet)", wrote, written / wrote, False, None
        )
        return [row, *_time_loads(Path(tmp), repeats)]


def _time_loads(data_dir: Path, repeats: int) -> list[DataBenchRow]:
    rows = []
    for name, fn in (
        ("load, fresh process (import + load)", _fresh_load),
        ("load, warm (same process)", _warm_load),
    ):
        samples = [fn(data_dir) for _ in range(max(repeats, 1))]
        sec = statistics.median(s for s, _ in samples)
        cells = samples[0][1]
        at_size = cells >= TARGET_SIZE[0] * TARGET_SIZE[1]
        rows.append(DataBenchRow(name, sec, cells / sec, True, (sec < TARGET_S) if at_size else None))
    return rows
