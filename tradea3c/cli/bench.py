"""CLI: benchmarks (`bench env`, ...): each command calls one library function and prints a table."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradea3c.cli._fail import fail

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
    portfolio: bool = typer.Option(
        True, "--portfolio/--no-portfolio", help="Also the portfolio rows (vs FinRL StockTradingEnv)."
    ),
    finrl_wheel: Annotated[
        Path | None,
        typer.Option(
            help="FinRL 0.3.7 wheel (pip download finrl==0.3.7 --no-deps -d wheels); default: "
            "$TRADEA3C_FINRL_WHEEL, else FinRL-0.3.7-*.whl in ./wheels or ../wheels. Absent: row skipped."
        ),
    ] = None,
    djia_dir: Annotated[
        Path | None,
        typer.Option(
            help="DJIA CSV folder; default: $TRADEA3C_DJIA_DIR, else ../shared/data/djia30. "
            "Absent: a synthetic market."
        ),
    ] = None,
    universe: int = typer.Option(500, help="Assets of the synthetic universe of the last vector row."),
    vector_k: int = typer.Option(16, help="K of the PortfolioVectorEnv rows."),
) -> None:
    """Steps/s of our MarketEnv and vector env (K=1,16,64) vs gym-anytrading stocks-v0, and of our
    PortfolioEnv / PortfolioVectorEnv vs FinRL's StockTradingEnv on 30 stocks, same process."""
    from tradea3c.bench.env import run_env_benchmark, run_portfolio_benchmark

    rows = run_env_benchmark(steps=steps, repeats=repeats, window=window)
    _print_table(
        f"env stepping, demo GOOGL, window {window}, median of {repeats} interleaved runs",
        ("env", "K", "env-steps/s", "x gym-anytrading"),
        [(r.name, str(r.num_envs), f"{r.steps_per_s:,.0f}", f"{r.ratio:.2f}") for r in rows],
    )
    if not portfolio:
        return
    res = run_portfolio_benchmark(
        steps=steps,
        repeats=repeats,
        vector_assets=universe,
        vector_k=vector_k,
        finrl_wheel=finrl_wheel,
        csv_dir=djia_dir,
    )
    _print_table(
        f"portfolio env stepping, {res.data}, dow30 settings (window 10, 7 features), "
        f"median of {repeats} interleaved runs",
        ("env", "assets", "K", "env-steps/s", "x FinRL"),
        [
            (
                r.name,
                str(r.n_assets),
                str(r.num_envs),
                f"{r.steps_per_s:,.0f}",
                "-" if r.ratio is None else f"{r.ratio:.1f}",
            )
            for r in res.rows
        ],
        width=120,
    )
    for note in res.notes:
        typer.echo(note)


@bench_app.command("train")
def train_bench(
    steps: int = typer.Option(100_000, help="Env-steps each candidate trains for."),
    workers: int = typer.Option(2, help="A3C worker processes (and SB3's torch threads)."),
    sb3_envs: int = typer.Option(16, help="Envs in SB3's DummyVecEnv."),
    universe: int = typer.Option(
        0, "--universe", help="Instead: a portfolio of N assets (synthetic) with the per-asset policy."
    ),
    bars: int = typer.Option(1500, help="Bars of the synthetic --universe market."),
    envs_per_worker: int = typer.Option(16, help="K of the --universe rows (PortfolioVectorEnv)."),
    hidden: str = typer.Option("64,64", help="Hidden widths of the --universe per-asset scorer."),
    ray: bool = typer.Option(
        False,
        "--ray",
        help="Instead: the Ray backend (local instance; 2 nodes x 1 CPU) against the local one.",
    ),
) -> None:
    """Training env-steps/s: A3C (K=1, K=16), A2C mode, and stable-baselines3 A2C, same MLP and env;
    with --universe N, the per-asset portfolio policy on N assets (steps/s, peak memory, parameters);
    with --ray, the Ray backend against the local backend and a projection to more workers."""
    from tradea3c.bench.train import run_train_benchmark, run_universe_train_benchmark

    if ray:
        _ray_bench(steps, workers)
        return

    if universe:
        widths = tuple(int(w) for w in hidden.split(",") if w.strip())
        urows = run_universe_train_benchmark(
            assets=universe, bars=bars, steps=steps, workers=workers, ks=(envs_per_worker,), hidden=widths
        )
        _print_table(
            f"portfolio training throughput, synthetic {universe}-asset changing universe, {bars} bars, "
            f"window 5, 4 features, per-asset {hidden.replace(',', 'x')}, t_max 20, {steps:,} steps",
            (
                "trainer",
                "assets",
                "envs",
                "steps",
                "wall s",
                "env-steps/s",
                "after start-up",
                "params",
                "peak MiB",
            ),
            [
                (
                    r.name,
                    str(r.assets),
                    str(r.envs),
                    f"{r.steps:,}",
                    f"{r.wall_s:.1f}",
                    f"{r.steps_per_s:,.0f}",
                    f"{r.steady_steps_per_s:,.0f}",
                    f"{r.params:,}",
                    f"{r.peak_mem_mb:,.0f}",
                )
                for r in urows
            ],
            width=150,
        )
        return
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


@bench_app.command("data")
def data_bench(
    tickers: int = typer.Option(500, help="Synthetic tickers written to a temporary cache."),
    bars: int = typer.Option(5040, help="Daily bars per ticker (5,040 = 20 years)."),
    repeats: int = typer.Option(3, help="Timed loads of each kind; medians are reported."),
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Time this existing cache instead (nothing written).")
    ] = None,
) -> None:
    """Seconds to write and to load a parquet cache of N tickers x B bars, in a fresh process
    (import + load) and warm, against the < 5 s target for 500 tickers x 20 years."""
    from tradea3c.bench.data import TARGET_S, TARGET_SIZE, DataBenchRow, run_data_benchmark

    def target(r: DataBenchRow) -> str:
        if not r.load:
            return ""
        if r.target_met is None:
            return f"n/a (< {TARGET_SIZE[0]} x {TARGET_SIZE[1]:,})"
        return "met" if r.target_met else "missed"

    from tradea3c.data.errors import DataError

    try:
        rows = run_data_benchmark(tickers=tickers, bars=bars, repeats=repeats, data_dir=data_dir)
    except DataError as exc:
        raise fail(str(exc)) from None
    what = (
        f"cache {data_dir}" if data_dir is not None else f"synthetic cache, {tickers} tickers x {bars:,} bars"
    )
    _print_table(
        f"data cache load, {what}, median of {repeats}",
        ("step", "seconds", "bars x tickers/s", f"target < {TARGET_S:g} s"),
        [
            (
                r.name,
                f"{r.seconds:.2f}",
                f"{r.bar_tickers_per_s:,.0f}",
                target(r),
            )
            for r in rows
        ],
        width=120,
    )


def _ray_bench(steps: int, workers: int) -> None:
    """`bench train --ray`: measured rows, then the projection table from the multi-node row."""
    import os
    import shutil
    import sys

    from tradea3c.a3c.backends.ray import require_ray
    from tradea3c.bench.train import project_ray_throughput, run_ray_train_benchmark
    from tradea3c.testing.ray_cluster import only_loopback

    try:
        require_ray()
    except ImportError as exc:
        raise fail(str(exc)) from None
    if (
        not only_loopback()
        and shutil.which("unshare")
        and os.geteuid() == 0
        and "TRADEA3C_NETNS" not in os.environ
    ):
        os.environ["TRADEA3C_NETNS"] = "1"  # once: never re-enter
        # Ray binds to the machine's interface address; in a private network namespace it stays on
        # loopback (the benchmark starts and stops real Ray nodes)
        os.execvp("unshare", ["unshare", "-n", "sh", "-c", 'ip link set lo up; exec "$0" "$@"', *sys.argv])
    rows = run_ray_train_benchmark(steps=steps, workers=workers)
    _print_table(
        f"Ray backend vs local backend, demo GOOGL MarketEnv, MLP 64x64, t_max 20, K=1, {steps:,} steps each "
        "(all on this machine)",
        (
            "trainer",
            "nodes",
            "env-steps/s",
            "after start-up",
            "x local",
            "grad B/upd",
            "weights B/upd",
            "compute ms",
            "round trip ms",
            "apply ms",
            "staleness mean/max",
        ),
        [
            (
                r.name,
                str(r.nodes),
                f"{r.steps_per_s:,.0f}",
                f"{r.steady_steps_per_s:,.0f}",
                f"{r.ratio:.2f}",
                f"{r.gradient_bytes:,}" if r.gradient_bytes else "-",
                f"{r.weights_bytes:,}" if r.weights_bytes else "-",
                f"{r.compute_s * 1e3:.2f}" if r.gradient_bytes else "-",
                f"{r.round_trip_s * 1e3:.2f}" if r.gradient_bytes else "-",
                f"{r.apply_s * 1e3:.2f}" if r.gradient_bytes else "-",
                f"{r.staleness_mean:.2f}/{r.staleness_max}" if r.gradient_bytes else "-",
            )
            for r in rows
        ],
        width=170,
    )
    cluster = rows[-1]
    _print_table(
        f"projection from the {cluster.name} row: 1 CPU per worker, 10 Gbit/s, 0.2 ms latency, one learner",
        ("workers", "env-steps/s", "bound by"),
        [
            (str(n), f"{sps:,.0f}", limit)
            for n, sps, limit in project_ray_throughput(cluster, steps_per_update=20)
        ],
        width=120,
    )
