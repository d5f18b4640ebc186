"""``tradea3c.experiment.ledger``: the paper ledger is append-only, consistent step by step, one
invocation at a time, and refuses to continue another account (kills and replays:
tests/experiment/test_paper.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from tradea3c.data.synthetic import planted_signal_market
from tradea3c.experiment.ledger import (
    LedgerBusyError,
    LedgerError,
    check_ledger,
    connect,
    default_db,
    ledger_lock,
)
from tradea3c.experiment.paper import run_paper

START, END = "2006-07-07", "2006-09-29"


def test_ledger_is_append_only_and_refuses_another_account(tiny_run: Path, tmp_path: Path) -> None:
    db, market = tmp_path / "a.sqlite", planted_signal_market(2000)
    run_paper(tiny_run, "a", replay=(START, "2006-07-20"), db=db, market=market, capital=1000.0)
    con = connect(db)
    for sql in ("UPDATE equity SET equity = 0", "DELETE FROM decisions", "UPDATE account SET value = '1'"):
        with pytest.raises(sqlite3.DatabaseError, match="append-only"):
            con.execute(sql)
    check_ledger(con)
    con.close()
    with pytest.raises(LedgerError, match="started with 1000"):
        run_paper(tiny_run, "a", replay=(START, END), db=db, market=market, capital=5.0)
    with pytest.raises(LedgerError, match="the account started on 2006-07-07"):
        run_paper(tiny_run, "a", replay=("2006-07-12", END), db=db, market=market)
    with ledger_lock(db), pytest.raises(LedgerBusyError, match="in use by another `tradea3c paper`"):
        run_paper(tiny_run, "a", replay=(START, END), db=db, market=market)
    assert default_db(tiny_run, "acct") == tiny_run.resolve().parent / "paper" / "acct.sqlite"


def test_a_gap_in_the_steps_is_reported_and_in_sample_is_labelled(tiny_runs, tmp_path: Path) -> None:
    db, market = tmp_path / "a.sqlite", planted_signal_market(2000)
    rep = run_paper(tiny_runs(0), "a", replay=("2006-06-01", "2006-06-09"), db=db, market=market)
    assert any(w.startswith("in-sample: the account starts on 2006-06-01") for w in rep.warnings)
    with pytest.raises(LedgerError, match="this account trades"):
        run_paper(tiny_runs(1), "a", replay=("2006-06-01", END), db=db, market=market)
    con = connect(db)
    con.execute("INSERT INTO decisions VALUES (99, '2007-01-01', 'x', 0, '{}', 1.0)")  # a hand edit
    with pytest.raises(LedgerError, match="do not line up step by step"):
        check_ledger(con)
    con.close()


def test_a_retrained_checkpoint_is_another_account(tiny_run: Path, tmp_path: Path) -> None:
    import shutil

    run = tmp_path / "run"
    shutil.copytree(tiny_run, run)
    db, market = tmp_path / "a.sqlite", planted_signal_market(2000)
    run_paper(run, "a", replay=(START, "2006-07-14"), db=db, market=market)
    (run / "best.pt").write_bytes((run / "best.pt").read_bytes() + b"\0")  # not the same file any more
    with pytest.raises(LedgerError, match="changed since the account started"):
        run_paper(run, "a", replay=(START, END), db=db, market=market)
