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
            help="FinRL 0.3.7 wheel to compare with (pip download finrl==0.3.7 --no-deps -d wheels); "
            "its env module is executed. Only this path is used, nothing is looked for: "
            "without it the FinRL row is skipped."
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

    if finrl_wheel is not None and not finrl_wheel.is_file():
        raise fail(f"FinRL wheel not found: {finrl_wheel}")
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


def _print_update_profile(universe: int, bars: int, k: int, widths: tuple[int, ...]) -> None:
    """`bench train --universe`'s second table: one worker, timed by phase in this process."""
    from tradea3c.bench.train.universe import profile_universe_update

    p = profile_universe_update(assets=universe, bars=bars, k=k, hidden=widths)
    _print_table(
        f"one worker's update, measured in this process (same env, model, K={k}; {p.threads} torch "
        f"thread as in a worker process), {p.updates} updates: FLOPs of the item networks' Linear "
        f"layers, forward + backward, {p.rows:,.0f} rows/update",
        ("measure", "value"),
        [
            ("env-steps/s (this worker alone)", f"{p.steps_per_s:,.0f}"),
            ("s per update", f"{p.seconds_per_update:.3f}"),
            *((f"share: {k_}", f"{v:.1%}") for k_, v in p.shares.items()),
            ("GFLOP per update", f"{p.gflop_per_update:.2f}"),
            ("update GFLOP/s (forward + backward + optimiser)", f"{p.update_gflop_s:.1f}"),
            (f"matmul 1024^3 GFLOP/s, {p.threads} thread", f"{p.matmul_gflop_s:.1f}"),
            ("update / matmul", f"{p.update_gflop_s / p.matmul_gflop_s:.0%}"),
            (f"matmul 1024^3 GFLOP/s, {p.process_threads} threads", f"{p.matmul_process_gflop_s:.1f}"),
            ("tall-skinny matmul, first layer's shape", f"{p.skinny_gflop_s:.1f}"),
            ("tall-skinny matmul, second layer's shape", f"{p.skinny_hidden_gflop_s:.1f}"),
        ],
        width=150,
    )


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
    phases: bool = typer.Option(
        True,
        "--phases/--no-phases",
        help="With --universe: also one worker's time by phase and the update's GFLOP/s vs matmul.",
    ),
    ray: bool = typer.Option(
        False,
        "--ray",
        help="Instead: the Ray backend (local instance; 2 nodes x 1 CPU) against the local one.",
    ),
) -> None:
    """Training env-steps/s: A3C (K=1, K=16), A2C mode, and stable-baselines3 A2C, same MLP and env;
    with --universe N, the per-asset portfolio policy on N assets (steps/s, peak memory, parameters;
    then one worker's time shares and its update's GFLOP/s against torch's matmul, same process);
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
        if phases:
            _print_update_profile(universe, bars, envs_per_worker, widths)
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


@bench_app.command("learn")
def learn_bench(
    tasks: str = typer.Option("signal,cartpole", help="Tasks, comma-separated: signal, cartpole."),
    seeds: int = typer.Option(3, help="Seeds per arm (0..N-1), interleaved: seed-major, arms in order."),
    cap: float = typer.Option(150.0, help="Wall-clock cap per run (s); a run past it is 'not reached'."),
    arms: str = typer.Option(
        "default,k1,a2c,sb3-a2c,sb3-ppo",
        help="Arms, comma-separated; NAME or NAME:key=value;... (ours: k, mode, t_max, lr, workers, "
        "steps; SB3: envs), e.g. 'default:k=1;t_max=20;lr=1e-3'; 'paper' = the paper's four "
        "methods (k1, nstep_q, onestep_q, onestep_sarsa: one env per worker).",
    ),
    eval_every: int = typer.Option(10_000, help="Env steps between greedy evaluations."),
    quality: Annotated[
        list[str] | None, typer.Option(help="Override a bar: TASK=VALUE (default signal=0.9, cartpole=475).")
    ] = None,
    sb3_envs: int = typer.Option(2, help="Envs in SB3's DummyVecEnv (default: our 2 workers' envs)."),
    sb3_threads: int = typer.Option(1, help="torch threads of the SB3 process (ours: 1 per process)."),
    json_path: Annotated[Path | None, typer.Option("--json", help="Write the raw rows here (JSON).")] = None,
) -> None:
    """Seconds until the greedy policy reaches a quality (90% of the oracle's log return on an unseen
    planted-signal market; CartPole-v1 mean return 475): our default strategy, its K=1, A2C and
    value-based variants against stable-baselines3 A2C and PPO (documented defaults), same process."""
    import json
    import os
    from dataclasses import asdict

    from tradea3c.bench.learn import (
        QUALITY,
        LearnRow,
        default_vs_sb3,
        parse_arms,
        run_learn_benchmark,
        summarize,
    )

    task_list = [t.strip() for t in tasks.split(",") if t.strip()]
    try:
        arm_list = parse_arms(arms)
        bars = {k: float(v) for k, v in (q.split("=", 1) for q in quality or [])}
    except ValueError as exc:
        raise fail(str(exc)) from None
    rows: list[LearnRow] = []

    def dump(row: LearnRow | None = None) -> None:
        if row is not None:
            rows.append(row)
            typer.echo(
                f"{row.task} {row.arm} seed {row.seed}: {'reached' if row.reached else 'not reached'} "
                f"({row.stop}) {row.seconds:.1f} s, {row.steps:,} steps, best {row.best:.3f}",
                err=True,
            )
        if json_path is not None:
            meta = {
                "tasks": task_list,
                "arms": [a.name for a in arm_list],
                "seeds": seeds,
                "cap": cap,
                "eval_every": eval_every,
                "quality": {**QUALITY, **bars},
                "sb3_envs": sb3_envs,
                "sb3_threads": sb3_threads,
                "cpus": os.cpu_count(),
            }
            json_path.write_text(json.dumps({"meta": meta, "rows": [asdict(r) for r in rows]}, indent=1))

    run_learn_benchmark(task_list, arm_list, seeds, cap, eval_every, bars, sb3_envs, sb3_threads, on_row=dump)
    summaries = summarize(rows)
    for task in task_list:
        got = [s for s in summaries if s.task == task]
        bar = {**QUALITY, **bars}[task]
        what = "fraction of the oracle's log return (unseen market)" if task == "signal" else "mean return"
        _print_table(
            f"{task}: seconds to {what} >= {bar:g}, cap {cap:g} s, {seeds} seeds "
            f"(our default / better SB3: {default_vs_sb3(summaries, task)})",
            ("arm", "seeds", "reached", "median s", "min-max s", "median env steps", "median best"),
            [
                (
                    s.arm,
                    str(s.seeds),
                    f"{s.reached}/{s.seeds}",
                    (">= " if s.lower_bound else "") + f"{s.median_s:.1f}",
                    f"{s.min_s:.1f}-{s.max_s:.1f}" + ("+" if s.reached < s.seeds else ""),
                    f"{s.median_steps:,.0f}",
                    f"{s.median_best:.3g}",
                )
                for s in got
            ],
            width=150,
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
