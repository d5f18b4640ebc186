"""CLI: `tradea3c tune` (thin: build the strategy from a file + flags, call `tradea3c.experiment.tune`)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tradea3c.cli._fail import RUN_FAILED, fail

if TYPE_CHECKING:
    from tradea3c.experiment import TuneResult


def tune(
    strategy: Annotated[
        str, typer.Option(help="Strategy name (strategies/NAME.toml, yours or shipped) or a TOML path.")
    ],
    space: Annotated[
        Path,
        typer.Option(help='Search space TOML: one table per dotted key, e.g. ["a3c.lr"] low/high/log.'),
    ],
    trials: Annotated[int, typer.Option(help="Total trials in the search (a resumed one runs the rest).")],
    timeout: Annotated[
        float | None, typer.Option(help="Stop starting trials after this many seconds.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Search folder (default: tune/<strategy name>); rerun it to resume.")
    ] = None,
    market: Annotated[
        str | None, typer.Option(help="demo | signal | sp500 | tickers 'AAPL,MSFT' (overrides the strategy).")
    ] = None,
    steps: Annotated[
        int | None, typer.Option(help="Training budget of each trial (global env steps).")
    ] = None,
    seed: Annotated[
        int, typer.Option(help="Seed of the TPE sampler (trials train with the strategy's a3c.seed).")
    ] = 0,
    overrides: Annotated[
        list[str] | None,
        typer.Option("--set", help="Override any strategy field before the search: --set a3c.workers=1."),
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", help="No progress bar.")] = False,
) -> None:
    """Hyperparameter search (TPE, median pruning) on the validation Sharpe; every trial is counted
    and carried into the deflated Sharpe of the chosen configuration."""
    from tradea3c.a3c import LearnerError, WorkerError
    from tradea3c.a3c.coordinator import CheckpointWriteError
    from tradea3c.cli.train import _toml_value
    from tradea3c.config import ConfigError, apply_overrides
    from tradea3c.data import DataError
    from tradea3c.experiment import load_space, load_strategy
    from tradea3c.experiment import tune as run_tune

    if timeout is not None and not (math.isfinite(timeout) and timeout > 0):
        raise fail(f"--timeout {timeout}: give seconds > 0 (or leave it out: no time limit)")
    try:
        cfg = load_strategy(strategy)
        for flag, key, value in (("market", "market.source", market), ("steps", "a3c.total_steps", steps)):
            if value is not None:
                try:
                    cfg = apply_overrides(cfg, [f"{key}={_toml_value(value)}"])
                except ConfigError as exc:
                    raise ConfigError(f"--{flag} {value}: {str(exc).partition(': ')[2]}") from None
        cfg = apply_overrides(cfg, overrides or [])
        search = load_space(space, cfg)
        result = run_tune(
            cfg, search, out or Path("tune") / cfg.name, trials=trials, timeout=timeout, seed=seed,
            progress=not quiet,
        )  # fmt: skip
    except (ConfigError, DataError, ValueError, FileNotFoundError, ImportError) as exc:
        raise fail(str(exc)) from None
    except (WorkerError, LearnerError, CheckpointWriteError) as exc:
        raise fail(str(exc).splitlines()[0], code=RUN_FAILED) from None
    except KeyboardInterrupt:
        raise fail("interrupted; run the same command again to resume the search", code=130) from None
    print_result(result)


def print_result(result: TuneResult) -> None:
    """Every trial's parameters and score as a table, then the chosen configuration and its files."""
    from rich.console import Console
    from rich.table import Table

    con = Console()
    keys = [
        k
        for k in result.rows[0]
        if k not in ("trial", "state", "value", "evaluations", "steps", "run", "counted")
    ]
    t = Table(
        title=f"tune {result.study}: {result.n_trials} trials (validation Sharpe; test range untouched)"
    )
    for c in ("trial", "state", "val Sharpe", *keys, "evals"):
        t.add_column(c, justify="left" if c == "state" else "right")
    for r in result.rows:
        mark = "[bold green]" if r["trial"] == result.best_trial else ""
        values = [f"{v:.4g}" if isinstance(v, float) else str(v) for v in (r[k] for k in keys)]
        state = r["state"] + ("" if r["counted"] else " (retried)")
        t.add_row(f"{mark}{r['trial']}", state, f"{r['value']:.3f}", *values, str(r["evaluations"]))
    con.print(t)
    shown = ", ".join(f"{k}={v}" for k, v in result.best_params.items())
    typer.echo(f"best: trial {result.best_trial}, validation Sharpe {result.best_value:.3f} ({shown})")
    typer.echo(f"wrote {result.best_file} (tuning.trials = {result.n_trials}) and {result.trials_csv}")
    typer.echo(
        f"next: tradea3c train --strategy {result.best_file}, then backtest it once (its deflated Sharpe "
        f"uses N={result.n_trials}); browse: optuna-dashboard {result.storage}"
    )
