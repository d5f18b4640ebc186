"""Paper trading: a forward test of a policy in an append-only SQLite ledger, one bar at a time.

Each step handles one new bar ``b`` (step ``k``: bar ``inception + k``), in one transaction
(``BEGIN IMMEDIATE``): the order recorded at the previous bar is filled at ``b`` from the ledger's
own account (`tradea3c.envs.execution.fill_bar`: the backtester's fill price, costs, listings and
halts; fractional units, like the backtest), the account is marked at ``b``'s close next to the
benchmark (the backtest's first baseline: buy-and-hold, or equal-weight buy-and-hold, from the
inception bar at the same costs), and the decision for the next session is computed on the market
cut after ``b`` (`tradea3c.experiment.signal.policy_track`) and recorded. A decision is therefore
written before its fill's bar is in the ledger's market: the ledger cannot look ahead. Bars that
arrived while no invocation ran are caught up in order (their decisions are flagged
``catch_up``); ``replay`` runs the same steps over cached history.

The ledger (tables, transactions, lock, report) is `tradea3c.experiment.ledger`. A kill at any
point loses at most the step in flight (its transaction is rolled back); the next invocation
continues from the last committed step. A second invocation on the same ledger while one runs is
refused in one line (`LedgerBusyError`).

Test hook: ``TRADEA3C_PAPER_STEP_DELAY=SECONDS`` sleeps inside each step's transaction, after its
rows are written and before the commit (so a test can kill a replay mid-transaction).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradea3c.backtest.baselines import baselines
from tradea3c.backtest.engine import LoadedPolicy, resolve_checkpoint
from tradea3c.data.market import Market
from tradea3c.envs.config import MarketEnvConfig
from tradea3c.envs.execution import cost_rates, fill_bar, fill_prices, mark
from tradea3c.experiment.ledger import (
    LedgerBusyError,
    LedgerError,
    PaperReport,
    check_ledger,
    connect,
    day,
    default_db,
    last_step,
    ledger_lock,
    now,
    read_meta,
    read_report,
    transaction,
)
from tradea3c.experiment.signal import (
    DEFAULT_CAPITAL,
    MAX_AGE_DAYS,
    base_bar,
    check_fresh,
    check_universe,
    executed_target,
    load_runs,
    policy_track,
    signal_market,
)

__all__ = ["DELAY_ENV", "LedgerBusyError", "LedgerError", "PaperReport", "default_db", "run_paper"]

DELAY_ENV = "TRADEA3C_PAPER_STEP_DELAY"
DRIFT_TOL = 1e-9


# ------------------------------------------------------------------------------ steps
@dataclass(frozen=True, eq=False)
class _Context:
    pol: LoadedPolicy
    market: Market  # every bar the invocation may use (up to the replay's end)
    lo: int  # inception bar
    capital: float

    @property
    def mode(self) -> str:
        return "on_change" if isinstance(self.pol.env_config, MarketEnvConfig) else "always"


def _decide(ctx: _Context, bar: int) -> tuple[np.ndarray, float, np.ndarray]:
    """(targets decided at bars lo..bar, the model's own equity at ``bar`` (per unit), the model's
    equity path) on the market cut after ``bar``."""
    curve, _ = policy_track(ctx.pol, ctx.market, ctx.lo, bar)
    return np.asarray(curve.targets, dtype=np.float64), float(curve.equity[bar - ctx.lo]), curve.equity


def _insert_decision(
    con: sqlite3.Connection,
    ctx: _Context,
    step: int,
    bar: int,
    targets: np.ndarray,
    eq: float,
    catch_up: bool,
) -> None:
    tickers = ctx.market.tickers
    con.execute(
        "INSERT INTO decisions VALUES (?, ?, ?, ?, ?, ?)",
        (
            step,
            day(ctx.market.dates[bar]),
            now(),
            int(catch_up),
            json.dumps(dict(zip(tickers, targets[step].tolist(), strict=True))),
            eq * ctx.capital,
        ),
    )


def _digest(path: str) -> str:
    """sha256 of a checkpoint file: a retrained run is another policy, not the same account."""
    import hashlib

    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:16]


def _inception(con: sqlite3.Connection, ctx: _Context, runs: list[str], catch_up: bool) -> None:
    m = ctx.market
    cfg = ctx.pol.env_config
    meta = {
        "runs": runs,
        "checkpoints": [_digest(r) for r in runs],
        "tickers": list(m.tickers),
        "capital": ctx.capital,
        "inception": day(m.dates[ctx.lo]),
        "created": now(),
        "env_kind": ctx.pol.kind,
        "fill": cfg.fill,
        "latency": int(cfg.latency),
        "costs": {k: float(v) for k, v in vars(cfg.costs).items()},
        "schema": 1,
    }
    targets, eq, _ = _decide(ctx, ctx.lo)
    zeros = json.dumps([0.0] * m.n_assets)
    with transaction(con):
        con.executemany("INSERT INTO account VALUES (?, ?)", [(k, json.dumps(v)) for k, v in meta.items()])
        con.execute(
            "INSERT INTO equity VALUES (0, ?, ?, ?, ?, ?, 0.0, 0.0, ?, ?, ?)",
            (
                day(m.dates[ctx.lo]),
                ctx.capital,
                zeros,
                zeros,
                ctx.capital,
                json.dumps(m.close[ctx.lo].tolist()),
                ctx.capital,
                now(),
            ),  # fmt: skip
        )
        _insert_decision(con, ctx, 0, ctx.lo, targets, eq, catch_up)
        _delay()


def _delay() -> None:
    delay = float(os.environ.get(DELAY_ENV, "0") or 0)
    if delay > 0:
        time.sleep(delay)


def _step(con: sqlite3.Connection, ctx: _Context, catch_up: bool) -> float:
    """Fill, mark and decide at the bar after the ledger's last one, in one transaction; returns
    the gap between the ledger's equity and the model's own track (relative)."""
    m = ctx.market
    with transaction(con):
        prev = last_step(con)
        assert prev is not None
        k = int(prev["step"]) + 1
        b = ctx.lo + k
        if b >= m.n_bars or day(m.dates[b - 1]) != prev["date"]:
            raise LedgerError(
                f"the ledger's last bar {prev['date']} is not in the market any more (revised "
                "history?); start a new --account"
            )
        cut = m.take(slice(0, b + 1))
        cfg = ctx.pol.env_config
        targets, model_eq, _ = _decide(ctx, b)
        execute = executed_target(ctx.pol, targets, k - 1)
        units0 = np.asarray(json.loads(prev["units"]), dtype=np.float64)
        held0 = np.asarray(json.loads(prev["held"]), dtype=np.float64)
        price = fill_prices(cut, cfg.fill)[b]
        rate = cost_rates(cut, cfg.costs)[b]
        units, cash, held, traded, cost, _ = fill_bar(
            cut, b, units0, float(prev["cash"]), held0, execute, price, rate, ctx.mode
        )
        equity = float(mark(units, cash, cut.close[b]))
        bench = baselines(
            cut, ctx.lo, k, cfg.costs, fill=cfg.fill, latency=cfg.latency,
            initial_equity=ctx.capital, rules=[], risk=(), vol_target=None,
        )[0].equity[-1]  # fmt: skip
        date = day(m.dates[b])
        for j, t in enumerate(m.tickers):
            dq = float(units[j] - units0[j])
            if dq != 0.0:
                con.execute(
                    "INSERT INTO fills VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (k, t, date, k - 1 - cfg.latency, "buy" if dq > 0 else "sell", abs(dq), float(price[j]),
                     abs(dq) * float(price[j]), float(rate[j]) * abs(dq) * float(price[j]), float(units[j])),
                )  # fmt: skip
        con.execute(
            "INSERT INTO equity VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (k, date, float(cash), json.dumps(units.tolist()), json.dumps(np.asarray(held).tolist()),
             equity, float(cost), float(traded), json.dumps(cut.close[b].tolist()), float(bench), now()),
        )  # fmt: skip
        _insert_decision(con, ctx, k, b, targets, model_eq, catch_up)
        _delay()
    return abs(equity / ctx.capital - model_eq) / max(abs(model_eq), 1.0)


# ------------------------------------------------------------------------------- entry
def run_paper(
    runs: str | Path | Sequence[str | Path],
    account: str,
    *,
    capital: float | None = None,
    replay: tuple[str, str] | None = None,
    db: str | Path | None = None,
    data_dir: str | Path | None = None,
    max_age_days: int = MAX_AGE_DAYS,
    market: Market | None = None,
    today: str | pd.Timestamp | None = None,
) -> PaperReport:
    """Bring the paper account ``account`` of ``runs`` (several: their ensemble) up to date: fill,
    mark and decide at every bar after its last one, one transaction each (module doc).

    A new account starts at the last cached bar (``replay=(START, END)``: at the first bar on/after
    START, and steps only up to END) with ``capital`` in cash (default 100,000). ``db``: the ledger
    (default `default_db`). Without ``replay`` the data must be fresh (`check_fresh`, ``max_age_days``,
    ``today``). ``market``: use this market instead of loading the runs' (tests)."""
    if not account or not all(c.isalnum() or c in "-_." for c in account):
        raise LedgerError(f"--account {account!r}: use letters, digits, '-', '_' or '.'")
    pol, members = load_runs(runs)
    paths = [runs] if isinstance(runs, str | Path) else list(runs)
    run_ids = [str(resolve_checkpoint(p).resolve()) for p in paths]
    path = Path(db) if db is not None else default_db(runs, account)
    if market is None:
        market = signal_market(pol, data_dir, members)
    else:
        for p in [pol, *members]:
            check_universe(p, market)
    if replay is not None:
        start, end = replay
        e = pd.Timestamp(end)
        market = market.take(
            slice(0, int(np.searchsorted(market.dates, np.datetime64(e, "ns"), side="right")))
        )
    else:
        start = None
        check_fresh(market, today, max_age_days, "--replay START END for past sessions")
    if market.n_bars < 2:
        raise LedgerError("the market has fewer than 2 bars up to the replay's end; pick a later END")
    warnings: list[str] = []
    added = 0
    with ledger_lock(path):
        con = connect(path)
        try:
            meta = read_meta(con)
            if not meta:
                lo = base_bar(pol, market, start, market.n_bars - 1) if replay else market.n_bars - 1
                ctx = _Context(pol, market, lo, float(capital if capital is not None else DEFAULT_CAPITAL))
                _inception(con, ctx, run_ids, catch_up=replay is not None)
                meta = read_meta(con)
            else:
                _check_account(meta, run_ids, capital, market, replay)
            check_ledger(con)
            lo = int(np.searchsorted(market.dates, np.datetime64(pd.Timestamp(meta["inception"]), "ns")))
            if lo >= market.n_bars or day(market.dates[lo]) != meta["inception"]:
                raise LedgerError(f"the account's inception bar {meta['inception']} is not in the market")
            ctx = _Context(pol, market, lo, float(meta["capital"]))
            val_end = np.datetime64(pd.Timestamp(pol.split.val_end), "ns")
            if lo + 1 < market.n_bars and market.dates[lo + 1] <= val_end:
                warnings.append(
                    f"in-sample: the account starts on {meta['inception']}, inside the checkpoint's "
                    f"training/validation data (val_end {pol.split.val_end})"
                )
            prev = last_step(con)
            todo = market.n_bars - 1 - (lo + int(prev["step"]))  # type: ignore[index]
            gap = 0.0
            for i in range(todo):
                gap = max(gap, _step(con, ctx, catch_up=replay is not None or i < todo - 1))
                added += 1
            if gap > DRIFT_TOL:
                warnings.append(
                    f"the ledger's equity and the policy's own track on today's data differ by {gap:.1e}: "
                    "the data changed since earlier bars were recorded (the ledger keeps what it recorded)"
                )
            return read_report(con, account, path, added, warnings)
        finally:
            con.close()


def _check_account(
    meta: dict[str, Any],
    run_ids: list[str],
    capital: float | None,
    market: Market,
    replay: tuple[str, str] | None,
) -> None:
    if meta.get("runs") != run_ids:
        raise LedgerError(
            f"this account trades {', '.join(meta.get('runs', []))}; pass the same runs or use "
            "another --account"
        )
    changed = [r for r, d in zip(run_ids, meta.get("checkpoints", []), strict=False) if _digest(r) != d]
    if changed:
        raise LedgerError(
            f"{changed[0]} changed since the account started (retrained or resumed?): the ledger "
            "would mix two policies; use another --account"
        )
    if capital is not None and float(capital) != float(meta["capital"]):
        raise LedgerError(
            f"--capital {capital:g}: the account started with {meta['capital']:g}; leave --capital out "
            "(it applies to a new account only) or use another --account"
        )
    if list(market.tickers) != list(meta["tickers"]):
        raise LedgerError("the market's tickers differ from the account's; use another --account")
    if replay is not None:
        s = pd.Timestamp(replay[0])
        first = int(np.searchsorted(market.dates, np.datetime64(s, "ns"), side="left"))
        if first >= market.n_bars or day(market.dates[first]) != meta["inception"]:
            raise LedgerError(
                f"--replay {replay[0]}: the account started on {meta['inception']}; replay from that date "
                "to continue it, or use another --account"
            )
