"""The paper-trading ledger: an append-only SQLite file (standard library `sqlite3`), its
transactions, its one-invocation lock, its consistency check and its report (`PaperReport`).

Tables (triggers refuse UPDATE and DELETE): ``account`` (key/value, written once at inception),
``decisions`` (step, date, targets), ``fills`` (one row per traded ticker and step), ``equity``
(step, date, cash, units, equity, closes, benchmark). Step ``k`` is bar ``inception + k``. WAL
journal and full sync: a committed step survives a kill, an uncommitted one is rolled back. What
writes the steps: `tradea3c.experiment.paper`.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradea3c.experiment.signal import SignalError

SCHEMA = """
CREATE TABLE IF NOT EXISTS account (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS decisions (
    step INTEGER PRIMARY KEY, date TEXT NOT NULL UNIQUE, recorded_at TEXT NOT NULL,
    catch_up INTEGER NOT NULL, targets TEXT NOT NULL, model_equity REAL NOT NULL);
CREATE TABLE IF NOT EXISTS fills (
    step INTEGER NOT NULL, ticker TEXT NOT NULL, date TEXT NOT NULL, decided_step INTEGER NOT NULL,
    side TEXT NOT NULL, quantity REAL NOT NULL, price REAL NOT NULL, notional REAL NOT NULL,
    cost REAL NOT NULL, units_after REAL NOT NULL, PRIMARY KEY (step, ticker));
CREATE TABLE IF NOT EXISTS equity (
    step INTEGER PRIMARY KEY, date TEXT NOT NULL UNIQUE, cash REAL NOT NULL, units TEXT NOT NULL,
    held TEXT NOT NULL, equity REAL NOT NULL, cost REAL NOT NULL, traded REAL NOT NULL,
    close TEXT NOT NULL, benchmark REAL NOT NULL, recorded_at TEXT NOT NULL);
"""
TABLES = ("account", "decisions", "fills", "equity")


class LedgerError(SignalError):
    """A user-facing ledger problem (another account's runs, a broken ledger): one line."""


class LedgerBusyError(LedgerError):
    """Another invocation is writing this ledger."""


def default_db(runs: str | Path | Sequence[str | Path], account: str) -> Path:
    """``<folder holding the (first) run>/paper/<account>.sqlite``: ``runs/demo`` ->
    ``runs/paper/<account>.sqlite``."""
    first = Path(runs) if isinstance(runs, str | Path) else Path(list(runs)[0])
    run_dir = first.parent if first.is_file() else first
    return run_dir.resolve().parent / "paper" / f"{account}.sqlite"


def now() -> str:
    return pd.Timestamp.now("UTC").isoformat(timespec="seconds")


def day(x: Any) -> str:
    return str(pd.Timestamp(x).date())


# ---------------------------------------------------------------------------- ledger
def connect(path: Path) -> sqlite3.Connection:
    """Open (creating) a ledger: WAL journal, full sync, manual transactions, append-only tables."""
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path, timeout=30.0, isolation_level=None)
    con.execute("PRAGMA journal_mode=WAL")
    con.execute("PRAGMA synchronous=FULL")
    con.executescript(SCHEMA)
    for table in TABLES:
        for op in ("UPDATE", "DELETE"):
            con.execute(
                f"CREATE TRIGGER IF NOT EXISTS {table}_no_{op.lower()} BEFORE {op} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'the paper ledger is append-only'); END"
            )
    return con


@contextlib.contextmanager
def transaction(con: sqlite3.Connection) -> Iterator[None]:
    """``BEGIN IMMEDIATE`` (waits for another writer) ... ``COMMIT``; rolled back on any error."""
    con.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextlib.contextmanager
def ledger_lock(path: Path) -> Iterator[None]:
    """One invocation per ledger: an OS file lock (released by the kernel if its holder dies)."""
    from filelock import FileLock, Timeout

    path.parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(str(path) + ".lock", timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise LedgerBusyError(
            f"{path} is in use by another `tradea3c paper` run; wait for it to finish and run again"
        ) from None
    try:
        yield
    finally:
        lock.release()


def read_meta(con: sqlite3.Connection) -> dict[str, Any]:
    return {k: json.loads(v) for k, v in con.execute("SELECT key, value FROM account")}


def last_step(con: sqlite3.Connection) -> sqlite3.Row | None:
    con.row_factory = sqlite3.Row
    row = con.execute("SELECT * FROM equity ORDER BY step DESC LIMIT 1").fetchone()
    con.row_factory = None
    return row


def check_ledger(con: sqlite3.Connection) -> None:
    """Every step 0..K has exactly one equity row and one decision, dates strictly increasing."""
    eq = con.execute("SELECT step, date FROM equity ORDER BY step").fetchall()
    dec = con.execute("SELECT step, date FROM decisions ORDER BY step").fetchall()
    steps = [s for s, _ in eq]
    if steps != list(range(len(steps))) or dec != eq or [d for _, d in eq] != sorted({d for _, d in eq}):
        raise LedgerError(
            "the ledger's equity and decision rows do not line up step by step; it was edited by hand "
            "or written by another version: start a new --account"
        )


# ----------------------------------------------------------------------------- report
@dataclass(frozen=True, eq=False)
class PaperReport:
    """The account after an invocation: equity and benchmark since inception, positions at the
    last close, the recorded decision for the next session."""

    account: str
    db: Path
    runs: list[str]
    inception: str
    date: str
    capital: float
    equity: float
    benchmark: float
    steps_added: int
    positions: pd.DataFrame  # ticker, units, price, value, weight
    next_targets: dict[str, float]
    curve: pd.DataFrame  # date -> equity, benchmark, cost
    warnings: list[str] = field(default_factory=list)

    @property
    def total_return(self) -> float:
        return self.equity / self.capital - 1.0

    @property
    def benchmark_return(self) -> float:
        return self.benchmark / self.capital - 1.0

    @property
    def excess_return(self) -> float:
        """The account's return since inception minus the benchmark's."""
        return self.total_return - self.benchmark_return

    def to_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "db": str(self.db),
            "runs": self.runs,
            "inception": self.inception,
            "date": self.date,
            "capital": self.capital,
            "equity": self.equity,
            "benchmark": self.benchmark,
            "total_return": self.total_return,
            "benchmark_return": self.benchmark_return,
            "excess_return": self.excess_return,
            "steps_added": self.steps_added,
            "positions": self.positions.to_dict(orient="records"),
            "next_targets": self.next_targets,
            "curve": [
                {"date": d, **{k: float(v) for k, v in row.items()}} for d, row in self.curve.iterrows()
            ],
            "warnings": self.warnings,
        }


def read_report(
    con: sqlite3.Connection, account: str, db: Path, steps_added: int, warnings: list[str]
) -> PaperReport:
    """The report of a ledger as it stands (reads only)."""
    meta = read_meta(con)
    rows = con.execute(
        "SELECT date, equity, benchmark, cost, units, close FROM equity ORDER BY step"
    ).fetchall()
    if not rows:
        raise LedgerError(f"{db}: the ledger is empty; run `tradea3c paper` to start it")
    curve = pd.DataFrame(
        [(d, e, b, c) for d, e, b, c, _, _ in rows], columns=["date", "equity", "benchmark", "cost"]
    ).set_index("date")
    last = rows[-1]
    units = np.asarray(json.loads(last[4]), dtype=np.float64)
    tickers = list(meta["tickers"])
    dec = con.execute("SELECT targets FROM decisions ORDER BY step DESC LIMIT 1").fetchone()
    price = np.asarray(json.loads(last[5]), dtype=np.float64)
    value = units * price
    positions = pd.DataFrame(
        {"ticker": tickers, "units": units, "price": price, "value": value, "weight": value / last[1]}
    )
    return PaperReport(
        account=account,
        db=db,
        runs=list(meta["runs"]),
        inception=meta["inception"],
        date=last[0],
        capital=float(meta["capital"]),
        equity=float(last[1]),
        benchmark=float(last[2]),
        steps_added=steps_added,
        positions=positions,
        next_targets=json.loads(dec[0]) if dec else {},
        curve=curve,
        warnings=warnings,
    )
