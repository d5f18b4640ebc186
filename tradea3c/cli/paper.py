"""CLI: ``tradea3c paper`` (a paper-trading ledger, one step per new bar) over
`tradea3c.experiment.paper.run_paper`.

Run it after each ``tradea3c fetch``: it fills the order recorded at the previous bar, marks the
account and records the next decision. ``--replay START END`` runs it over cached history.
``--json``: the account as JSON on stdout and nothing else.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tradea3c.cli._fail import fail
from tradea3c.cli.backtest import JSON_HELP, echo_json
from tradea3c.cli.signal import DATA_DIR_HELP, ENSEMBLE_HELP, MAX_AGE_HELP, RUNS_HELP, check_runs

if TYPE_CHECKING:
    from tradea3c.experiment.paper import PaperReport


def print_account(rep: PaperReport, *, err: bool = False) -> None:
    """Equity vs the benchmark since inception, positions, and the recorded next decision."""
    from rich.console import Console
    from rich.table import Table

    con = Console(stderr=err)
    con.print(
        f"paper account {rep.account} ({rep.db}): {rep.inception}..{rep.date}, "
        f"{rep.steps_added} new bar(s) recorded"
    )
    t = Table(title="since inception")
    for c in ("", "equity", "return"):
        t.add_column(c, justify="left" if not c else "right")
    t.add_row("account", f"{rep.equity:,.2f}", f"{rep.total_return:+.2%}")
    t.add_row("benchmark (buy-and-hold)", f"{rep.benchmark:,.2f}", f"{rep.benchmark_return:+.2%}")
    t.add_row("difference", f"{rep.equity - rep.benchmark:+,.2f}", f"{rep.excess_return:+.2%}")
    con.print(t)
    p = Table(title=f"positions at the close of {rep.date}")
    for c in ("ticker", "units", "price", "value", "weight", "next target"):
        p.add_column(c, justify="left" if c == "ticker" else "right")
    for r in rep.positions.itertuples(index=False):
        nxt = rep.next_targets.get(r.ticker, 0.0)
        p.add_row(
            r.ticker, f"{r.units:,.4f}", f"{r.price:,.2f}", f"{r.value:,.2f}", f"{r.weight:.2%}", f"{nxt:.2%}"
        )
    con.print(p)
    for w in rep.warnings:
        con.print(f"[red]warning:[/] {w}")


def paper(
    runs: Annotated[list[Path], typer.Argument(help=RUNS_HELP)],
    account: Annotated[str, typer.Option(help="Name of the paper account (its ledger file).")],
    ensemble: Annotated[bool, typer.Option("--ensemble", help=ENSEMBLE_HELP)] = False,
    capital: Annotated[
        float | None, typer.Option(help="Starting cash of a new account (default 100000).")
    ] = None,
    replay: Annotated[
        tuple[str, str] | None,
        typer.Option(help="Replay over cached history: START END (a new account starts at START)."),
    ] = None,
    db: Annotated[
        Path | None,
        typer.Option(help="The ledger (default: <folder of the run>/paper/<account>.sqlite)."),
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help=DATA_DIR_HELP)] = None,
    max_age_days: Annotated[int, typer.Option(help=MAX_AGE_HELP)] = 4,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
) -> None:
    """Paper-trade a policy: fill the last recorded order, mark the account, record the next one."""
    from tradea3c.backtest import BacktestError
    from tradea3c.config import ConfigError
    from tradea3c.data import DataError
    from tradea3c.experiment.paper import run_paper

    check_runs(runs, ensemble)
    if capital is not None and not capital > 0:
        raise fail(f"--capital {capital:g}: give the account's starting cash, > 0")
    if db is not None and db.is_dir():
        raise fail(f"--db {db}: is a folder; pass a file path, e.g. --db {db / (account + '.sqlite')}")
    try:
        rep = run_paper(
            runs, account, capital=capital, replay=replay, db=db, data_dir=data_dir, max_age_days=max_age_days
        )
    except (BacktestError, ConfigError, DataError) as exc:
        raise fail(str(exc)) from None
    print_account(rep, err=as_json)
    if as_json:
        echo_json(rep.to_dict())
