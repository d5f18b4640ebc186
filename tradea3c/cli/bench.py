"""CLI: benchmarks (`bench env`, ...): each command calls one library function and prints a table."""

from __future__ import annotations

import typer

bench_app = typer.Typer(no_args_is_help=True)


@bench_app.command("env")
def env(
    steps: int = typer.Option(20_000, help="Env-steps per timed run."),
    repeats: int = typer.Option(5, help="Interleaved repeats; medians are reported."),
    window: int = typer.Option(30, help="Observation window (bars), same for both envs."),
) -> None:
    """Steps/s of our MarketEnv and vector env (K=1,16,64) vs gym-anytrading stocks-v0, same process."""
    from rich.console import Console
    from rich.table import Table

    from tradea3c.bench.env import run_env_benchmark

    rows = run_env_benchmark(steps=steps, repeats=repeats, window=window)
    table = Table(title=f"env stepping, demo GOOGL, window {window}, median of {repeats} interleaved runs")
    table.add_column("env")
    table.add_column("K", justify="right")
    table.add_column("env-steps/s", justify="right")
    table.add_column("x gym-anytrading", justify="right")
    for r in rows:
        table.add_row(r.name, str(r.num_envs), f"{r.steps_per_s:,.0f}", f"{r.ratio:.2f}")
    Console().print(table)
