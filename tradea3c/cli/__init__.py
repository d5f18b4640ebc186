"""`tradea3c` command line: thin typer commands over library functions (one call each).

Heavy imports (torch, pandas) happen inside commands so `tradea3c --help` stays fast.
``tradea3c --version`` prints ``tradea3c X.Y.Z``. Shell completion (bash, zsh, fish, PowerShell):
``tradea3c --install-completion [SHELL]`` adds it to the shell's startup file,
``tradea3c --show-completion SHELL`` prints the script, as does ``_TRADEA3C_COMPLETE=source_bash
tradea3c`` (``source_zsh``, ``source_fish``; typer's order, not click's ``bash_source``).
``--json`` (backtest, walkforward, atari eval): the data as JSON on stdout, everything else on
stderr; ``--json-out PATH`` writes it to a file. Library events (logged by the library) are shown
as lines on stderr (`tradea3c.cli._logging`); a failed command prints one ``error: ...`` line
(`tradea3c.cli._fail`).
"""

from __future__ import annotations

from typing import Annotated

import typer

from tradea3c.cli import atari, backtest, bench, checkpoint, data, demo, study, train
from tradea3c.cli import paper as paper_cli
from tradea3c.cli import signal as signal_cli
from tradea3c.cli import tune as tune_cli

app = typer.Typer(
    name="tradea3c",
    help="A3C for stock trading: fetch data, build market envs, train, backtest.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        from tradea3c._version import __version__

        typer.echo(f"tradea3c {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    """A3C for stock trading: fetch data, build market envs, train, backtest."""
    from tradea3c.cli._logging import show_library_events

    show_library_events()


app.command("fetch", help="Download daily OHLCV (yfinance) or import CSVs / the demo market into the cache.")(
    data.fetch
)
app.add_typer(data.data_app, name="data", help="Inspect the local data cache: list, validate.")
app.command(
    "demo", help="The offline quick start: demo market -> summary -> train -> backtest -> tear sheet."
)(demo.demo)
app.command("train", help="Train an A3C agent on a market (defaults: embedded demo market, a few minutes).")(
    train.train
)
app.command("backtest", help="Backtest a run out of sample vs baselines, costs included; HTML tear sheet.")(
    backtest.backtest
)
app.command(
    "study", help="Does it beat buy-and-hold? Train on every ticker of a universe, score out of sample."
)(study.study)
app.command("walkforward", help="Walk-forward: train on each fold's past, test on its future.")(
    backtest.walkforward
)
app.command(
    "tune", help="Hyperparameter search on the validation Sharpe that counts its trials (deflated Sharpe)."
)(tune_cli.tune)
app.command("signal", help="What a trained policy holds next session, and the orders to get there.")(
    signal_cli.signal
)
app.command("paper", help="Paper-trade a policy in a ledger: fill, mark, record the next decision.")(
    paper_cli.paper
)
app.add_typer(atari.atari_app, name="atari", help="A3C on Atari (ale-py): train, eval, benchmark.")
app.add_typer(checkpoint.checkpoint_app, name="checkpoint", help="Checkpoint tools: upgrade old files.")
app.add_typer(
    bench.bench_app, name="bench", help="Benchmarks, reported as ratios against baselines run in-process."
)


def main() -> None:  # pragma: no cover - console entry point
    app()
