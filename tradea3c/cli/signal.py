"""CLI: ``tradea3c signal`` (what to hold next session, and the orders) over
`tradea3c.experiment.signal.compute_signal`.

``--json``: the signal as JSON on stdout and nothing else (the table goes to stderr); ``--csv
PATH``: the orders table. Every refusal (stale data, tickers missing from the cache, another
universe, a checkpoint that is not a tradea3c run) is one ``error: ...`` line, exit 2, and nothing
is written.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tradea3c.cli._fail import fail
from tradea3c.cli.backtest import JSON_HELP, check_output, echo_json

if TYPE_CHECKING:
    from tradea3c.experiment.signal import Signal

RUNS_HELP = "Run directory (uses best.pt) or checkpoint; several with --ensemble."
ENSEMBLE_HELP = "Average the runs (2+ seeds or folds) into one policy, as backtest --ensemble."
DATA_DIR_HELP = "Cache folder to read the bars from (default: the run's, else $TRADEA3C_DATA or data/cache)."
MAX_AGE_HELP = "Refuse data whose last bar is more than this many business days old (holidays tolerated)."
START_HELP = "Base bar of the policy's own track (default: the checkpoint's val_end, as backtest)."


def check_runs(runs: list[Path], ensemble: bool) -> None:
    """Several runs need --ensemble, and --ensemble needs several runs (one line each)."""
    if len(runs) > 1 and not ensemble:
        raise fail(
            f"{len(runs)} runs given: pass --ensemble to average them into one policy, or pass one run"
        )
    if ensemble and len(runs) < 2:
        raise fail("--ensemble needs 2 or more runs (seeds or walk-forward folds)")


def print_signal(sig: Signal, *, err: bool = False) -> None:
    """The target weights and the orders as a rich table (on stderr if ``err``)."""
    from rich.console import Console
    from rich.table import Table

    con = Console(stderr=err)
    colour = "red" if sig.label == "in-sample" else "green"
    title = (
        f"signal for the session after {sig.date.date()} (fill at the {sig.fill}, "
        f"track from {sig.start.date()}, [{colour}]{sig.label}[/])"
    )
    t = Table(title=title)
    for c in (
        "ticker",
        "target",
        "side",
        "quantity",
        "price",
        "notional",
        "est. cost",
        "weight now",
        "after",
    ):
        t.add_column(c, justify="left" if c in ("ticker", "side") else "right")
    for r in sig.orders.itertuples(index=False):
        t.add_row(
            r.ticker,
            f"{r.target_weight:.2%}",
            r.side,
            f"{r.quantity:,d}",
            f"{r.price:,.2f}",
            f"{r.notional:,.2f}",
            f"{r.est_cost:,.2f}",
            f"{r.weight_before:.2%}",
            f"{r.weight_after:.2%}",
        )
    con.print(t)
    con.print(
        f"equity {sig.equity:,.2f} at the close of {sig.date.date()}; cash after the orders "
        f"{sig.cash_after:,.2f}; estimated cost {sig.est_cost:,.2f}"
    )
    if sig.latency:
        con.print(
            f"latency {sig.latency}: the next fill executes the decision of {sig.latency} bar(s) earlier"
        )
    con.print(f"policy: {sig.run}")
    for w in sig.warnings:
        con.print(f"[red]warning:[/] {w}")


def signal(
    runs: Annotated[list[Path], typer.Argument(help=RUNS_HELP)],
    ensemble: Annotated[bool, typer.Option("--ensemble", help=ENSEMBLE_HELP)] = False,
    date: Annotated[
        str | None, typer.Option(help="Decide at the bar of this date (default: the last cached bar).")
    ] = None,
    capital: Annotated[
        float | None, typer.Option(help="Cash of the account to size the orders (default 100000).")
    ] = None,
    positions: Annotated[
        Path | None,
        typer.Option(help="CSV of current holdings: ticker,quantity (a 'cash' row holds the cash)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help=JSON_HELP)] = False,
    csv: Annotated[
        Path | None, typer.Option("--csv", help="Write the orders table to this CSV file.")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help=DATA_DIR_HELP)] = None,
    max_age_days: Annotated[int, typer.Option(help=MAX_AGE_HELP)] = 4,
    start: Annotated[str | None, typer.Option(help=START_HELP)] = None,
) -> None:
    """The policy's target weights for the next session and the orders to get there."""
    from tradea3c.backtest import BacktestError
    from tradea3c.config import ConfigError
    from tradea3c.data import DataError
    from tradea3c.experiment.signal import compute_signal

    check_runs(runs, ensemble)
    check_output(csv, "--csv")
    if capital is not None and not capital > 0:
        raise fail(f"--capital {capital:g}: give the account's cash, > 0")
    try:
        sig = compute_signal(
            runs,
            date=date,
            capital=capital,
            positions=positions,
            data_dir=data_dir,
            start=start,
            max_age_days=max_age_days,
        )
    except (BacktestError, ConfigError, DataError) as exc:
        raise fail(str(exc)) from None
    if csv is not None:
        from tradea3c.atomic import atomic_write_text

        csv.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(csv, sig.orders.to_csv(index=False))
    print_signal(sig, err=as_json)
    if csv is not None:
        typer.echo(f"wrote {csv}", err=as_json)
    if as_json:
        echo_json(sig.to_dict())
