"""``tradea3c.experiment.paper``: the replayed ledger is the backtest (equity and benchmark), it
cannot look ahead, and it survives SIGKILL at any point and a second invocation
(a real ``tradea3c paper`` subprocess)."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tradea3c.backtest.runner import backtest_run
from tradea3c.data.market import FIELDS, Market
from tradea3c.data.synthetic import planted_signal_market
from tradea3c.experiment.ledger import check_ledger, connect
from tradea3c.experiment.paper import DELAY_ENV, run_paper

START, END = "2006-07-07", "2006-09-29"  # the tiny runs' val_end, then 60 bars out of sample
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def market() -> Market:
    return planted_signal_market(2000)


def _rows(db: Path, table: str, cols: str) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(f"SELECT {cols} FROM {table} ORDER BY step").fetchall()
    finally:
        con.close()


def test_replayed_ledger_is_the_backtest(tiny_run: Path, market: Market, tmp_path: Path) -> None:
    """Equity / capital equals the backtest's policy equity, and the benchmark its buy-and-hold,
    bar for bar, at the run's costs; fills and costs add up."""
    db = tmp_path / "a.sqlite"
    rep = run_paper(tiny_run, "a", capital=25_000.0, replay=(START, END), db=db, market=market)
    bt = backtest_run(tiny_run, START, END, costs_bps=(), rules=[], market=market)
    policy, hold = bt.curves[0], bt.curves[1]
    assert hold.name == "buy_and_hold"
    assert list(rep.curve.index) == [str(pd.Timestamp(x).date()) for x in policy.dates]
    eq = rep.curve["equity"].to_numpy() / 25_000.0
    np.testing.assert_allclose(eq, policy.equity, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rep.curve["benchmark"].to_numpy() / 25_000.0, hold.equity, rtol=0, atol=1e-12)
    np.testing.assert_allclose(rep.curve["cost"].to_numpy()[1:] / 25_000.0, policy.costs, rtol=0, atol=1e-15)
    fill_cost = sum(c for (c,) in _rows(db, "fills", "cost"))
    assert fill_cost == pytest.approx(rep.curve["cost"].sum(), rel=1e-12) and fill_cost > 0
    assert rep.steps_added == len(policy.costs) and rep.date == END and rep.inception == START
    assert rep.excess_return == pytest.approx(policy.equity[-1] - hold.equity[-1])
    decided = [
        np.array(list(__import__("json").loads(t).values())) for (t,) in _rows(db, "decisions", "targets")
    ]
    np.testing.assert_array_equal(np.array(decided[:-1]), policy.targets)  # + the one for the next session
    assert all(c == 1 for (c,) in _rows(db, "decisions", "catch_up"))  # replayed, not live


def test_decisions_cannot_look_ahead_and_steps_resume(tiny_run: Path, market: Market, tmp_path: Path) -> None:
    """Bars after a decision never change it (prices after bar X scrambled: every decision up to X
    is the same); a replay stopped at any END continues to the same ledger."""
    cut = int(np.searchsorted(market.dates, np.datetime64("2006-08-15", "ns")))
    rng = np.random.default_rng(0)
    scale = np.ones((market.n_bars, 1))
    scale[cut + 1 :] = np.exp(np.cumsum(rng.normal(0, 0.05, (market.n_bars - cut - 1, 1)), axis=0))
    other = Market(
        market.tickers,
        market.dates,
        **{f: getattr(market, f) * (scale if f != "volume" else scale**20) for f in FIELDS},
    )
    a, b = tmp_path / "a.sqlite", tmp_path / "b.sqlite"
    run_paper(tiny_run, "a", replay=(START, END), db=a, market=market)
    run_paper(tiny_run, "b", replay=(START, END), db=b, market=other)
    da, db_ = _rows(a, "decisions", "date, targets"), _rows(b, "decisions", "date, targets")
    n = [d for d, _ in da].index("2006-08-15") + 1
    assert da[:n] == db_[:n]  # every decision up to the bar: the same
    ea, eb = _rows(a, "equity", "equity"), _rows(b, "equity", "equity")
    assert ea[:n] == eb[:n] and ea[n:] != eb[n:]  # after it the other prices count
    c = tmp_path / "c.sqlite"
    for end in ("2006-07-20", "2006-08-15", END):  # three invocations
        run_paper(tiny_run, "c", replay=(START, end), db=c, market=market)
    cols = "step, date, cash, units, equity, benchmark"
    assert _rows(c, "equity", cols) == _rows(a, "equity", cols)
    assert _rows(c, "decisions", "step, date, targets") == _rows(a, "decisions", "step, date, targets")


def _paper(run: Path, db: Path, delay: float) -> subprocess.Popen[str]:
    env = {**os.environ, DELAY_ENV: str(delay)}
    cmd = [sys.executable, "-m", "tradea3c", "paper", str(run), "--account", "k", "--db", str(db)]
    cmd += ["--replay", START, END, "--capital", "1000"]
    return subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_rows(db: Path, n: int, proc: subprocess.Popen[str], timeout: float = 60.0) -> int:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        assert proc.poll() is None, proc.communicate()
        if db.exists():
            try:
                got = len(_rows(db, "equity", "step"))
            except sqlite3.OperationalError:  # the schema is being created
                got = 0
            if got >= n:
                return got
        time.sleep(0.05)
    raise AssertionError(f"the ledger did not reach {n} rows")


def test_sigkill_mid_replay_then_rerun_loses_and_duplicates_nothing(
    tiny_run: Path, market: Market, tmp_path: Path
) -> None:
    """SIGKILL a real ``tradea3c paper --replay`` inside step transactions (the step-delay hook sleeps
    between a step's inserts and its commit), several times at random points; a second invocation
    meanwhile is refused in one line; the rerun completes a ledger equal to an uninterrupted one."""
    ref = tmp_path / "ref.sqlite"
    run_paper(tiny_run, "ref", capital=1000.0, replay=(START, END), db=ref, market=market)
    db = tmp_path / "k.sqlite"
    rng = random.Random(0)
    seen = 0
    for _ in range(3):
        proc = _paper(tiny_run, db, delay=0.15)
        seen = _wait_rows(db, seen + 2, proc)
        if seen == 2:  # once: another invocation while this one runs is turned away
            busy = subprocess.run(
                [sys.executable, "-m", "tradea3c", "paper", str(tiny_run), "--account", "k", "--db", str(db),
                 "--replay", START, END],
                cwd=ROOT, capture_output=True, text=True, timeout=120,
            )  # fmt: skip
            assert busy.returncode == 2 and busy.stderr.strip().count("\n") == 0, busy.stderr
            assert "in use by another" in busy.stderr
        time.sleep(rng.uniform(0.0, 0.3))  # somewhere inside a step's transaction, or between two
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        con = connect(db)
        check_ledger(con)  # consistent after every kill: whole steps only
        con.close()
        seen = len(_rows(db, "equity", "step"))
    assert 0 < seen < len(_rows(ref, "equity", "step"))
    done = _paper(tiny_run, db, delay=0.0)
    out, err = done.communicate(timeout=120)
    assert done.returncode == 0, err
    cols = "step, date, cash, units, held, equity, cost, traded, benchmark"
    assert _rows(db, "equity", cols) == _rows(ref, "equity", cols)
    assert _rows(db, "decisions", "step, date, targets") == _rows(ref, "decisions", "step, date, targets")
    fills = "step, ticker, date, side, quantity, price, cost"
    assert _rows(db, "fills", fills) == _rows(ref, "fills", fills)
