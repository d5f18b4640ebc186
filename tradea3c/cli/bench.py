"""CLI: benchmarks (`bench env`, ...): each command calls one library function and prints a table."""

from __future__ import annotations

import typer

bench_app = typer.Typer(no_args_is_help=True)


def _print_table(
    title: str, columns: tuple[str, ...], rows: list[tuple[str, ...]], width: int | None = None
) -> None:
    """One rich table: the first column left-aligned (names), the others right-aligned (numbers)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title)
    for i, col in enumerate(columns):
        table.add_column(col, justify="left" if i == 0 else "right")
    for row in rows:
        table.add_row(*row)
    Console(width=width).print(table)


@bench_app.command("env")
def env(
    steps: int = typer.Option(20_000, help="Env-steps per timed run."),
    repeats: int = typer.Option(5, help="Interleaved repeats; medians are reported."),
    window: int = typer.Option(30, help="Observation window (bars), same for both envs."),
) -> None:
    """Steps/s of our MarketEnv and vector env (K=1,16,64) vs gym-anytrading stocks-v0, same process."""
    from tradea3c.bench.env import run_env_benchmark

    rows = run_env_benchmark(steps=steps, repeats=repeats, window=window)
    _print_table(
        f"env stepping, demo GOOGL, window {window}, median of {repeats} interleaved runs",
        ("env", "K", "env-steps/s", "x gym-anytrading"),
        [(r.name, str(r.num_envs), f"{r.steps_per_s:,.0f}", f"{r.ratio:.2f}") for r in rows],
    )


@bench_app.command("train")
def train_bench(
    steps: int = typer.Option(100_000, help="Env-steps each candidate trains for."),
    workers: int = typer.Option(2, help="A3C worker processes (and SB3's torch threads)."),
    sb3_envs: int = typer.Option(16, help="Envs in SB3's DummyVecEnv."),
) -> None:
    """Training env-steps/s: A3C (K=1, K=16), A2C mode, and stable-baselines3 A2C, same MLP and env."""
    from tradea3c.bench.train import run_train_benchmark

    rows = run_train_benchmark(steps=steps, workers=workers, sb3_envs=sb3_envs)
    sb3 = rows[-1].steady_steps_per_s
    _print_table(
        f"training throughput, demo GOOGL MarketEnv, MLP 64x64, t_max 20, {steps:,} steps each",
        ("trainer", "envs", "steps", "wall s", "env-steps/s", "x SB3 A2C", "after start-up", "x SB3"),
        [
            (
                r.name,
                str(r.envs),
                f"{r.steps:,}",
                f"{r.wall_s:.1f}",
                f"{r.steps_per_s:,.0f}",
                f"{r.ratio:.2f}",
                f"{r.steady_steps_per_s:,.0f}",
                f"{r.steady_steps_per_s / sb3:.2f}",
            )
            for r in rows
        ],
        width=140,
    )


@bench_app.command("atari")
def atari_bench(
    game: str = typer.Option("Pong", help="Atari game."),
    env_steps: int = typer.Option(20_000, help="Agent steps per raw env-stepping row."),
    train_steps: int = typer.Option(60_000, help="Agent steps of the training row (fast preset)."),
    workers: int = typer.Option(2, help="A3C worker processes."),
    num_envs: int = typer.Option(16, help="Envs in the AtariVectorEnv rows."),
    paper: bool = typer.Option(True, "--paper/--no-paper", help="Also time the paper preset (RMSProp)."),
) -> None:
    """Atari (ale-py) agent-steps/s and frames/s: A3C training on N workers next to raw env stepping."""
    from tradea3c.atari.bench import run_atari_benchmark

    rows = run_atari_benchmark(game, env_steps, train_steps, workers, num_envs, paper)
    _print_table(
        f"Atari {game}: agent steps/s and frames/s (frame skip 4)",
        ("what", "envs", "agent steps", "wall s", "agent-steps/s", "after warm-up", "frames/s"),
        [
            (
                r.name,
                str(r.envs),
                f"{r.steps:,}",
                f"{r.wall_s:.1f}",
                f"{r.steps_per_s:,.0f}",
                f"{r.steady_steps_per_s:,.0f}",
                f"{r.frames_per_s:,.0f}",
            )
            for r in rows
        ],
        width=150,
    )
