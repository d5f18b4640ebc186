"""CLI: `tradea3c train` (thin: build a `StrategyConfig` from a file + flags, call `train_strategy`)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from tradea3c.a3c import TrainResult


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def train(
    market: Annotated[
        str | None,
        typer.Option(
            help="demo | signal | sp500 | dow30 | nasdaq100 | cached | tickers 'AAPL,MSFT' "
            "(overrides the strategy)."
        ),
    ] = None,
    strategy: Annotated[
        Path | None, typer.Option(help="Strategy TOML (see strategies/); default: built-in demo strategy.")
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes (default: number of cores).")] = None,
    steps: Annotated[int | None, typer.Option(help="Training budget in global env steps.")] = None,
    envs_per_worker: Annotated[
        int | None, typer.Option(help="K perturbed replays per worker (vector env).")
    ] = None,
    mode: Annotated[str | None, typer.Option(help="a3c (Hogwild processes) or a2c (synchronous).")] = None,
    train_end: Annotated[str | None, typer.Option(help="Last training date (ISO).")] = None,
    val_end: Annotated[
        str | None, typer.Option(help="Last validation date (ISO); later = test range.")
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Master seed (worker i uses seed + i).")] = None,
    max_tickers: Annotated[
        int | None, typer.Option(help="Use only the first N tickers of a universe.")
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Cache folder (default: $TRADEA3C_DATA or ./data/cache)."),
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default: runs/<name>-<time>).")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue --out (or the newest run) from its latest.pt.")
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No live progress display.")] = False,
) -> None:
    """Train an A3C agent; prints the run directory and the validation result."""
    from tradea3c.config import ConfigError
    from tradea3c.data import DataError
    from tradea3c.experiment import StrategyConfig, latest_run_dir, load_strategy, train_strategy
    from tradea3c.experiment.train import default_run_dir

    try:
        cfg = load_strategy(strategy) if strategy else StrategyConfig()
        mspec, split, a3c = cfg.market, cfg.split, cfg.a3c
        if market is not None:
            mspec = replace(mspec, source=market)
        if data_dir is not None:
            mspec = replace(mspec, data_dir=str(data_dir))
        if max_tickers is not None:
            mspec = replace(mspec, max_tickers=max_tickers)
        if train_end is not None:
            split = replace(split, train_end=train_end)
        if val_end is not None:
            split = replace(split, val_end=val_end)
        a3c_over = {
            k: v
            for k, v in {"workers": workers, "total_steps": steps, "seed": seed, "mode": mode}.items()
            if v is not None
        }
        if mode is not None and mode not in ("a3c", "a2c"):
            raise ConfigError(f"--mode {mode!r}: use a3c or a2c")
        a3c = replace(a3c, **a3c_over)
        cfg = replace(cfg, market=mspec, split=split, a3c=a3c)
        if envs_per_worker is not None:
            cfg = replace(cfg, envs_per_worker=envs_per_worker)
        if resume and out is None:
            out = latest_run_dir()
            if out is None:
                raise ConfigError("--resume found no run with a latest.pt under runs/; pass --out RUN_DIR")
        run_dir = out or default_run_dir(cfg)
        result = train_strategy(cfg, run_dir, resume=resume, progress=not quiet, log=typer.echo)
    except (ConfigError, DataError, ValueError, FileNotFoundError) as exc:
        raise _fail(str(exc)) from None
    print_result(result)


def print_result(result: TrainResult) -> None:
    """Two lines: what the run did, and how its greedy policy scored on the validation range."""
    ev = result.last_eval or {}
    typer.echo(
        f"run {result.run_dir}: {result.status}, {result.global_step:,} steps in {result.wall_s:.0f} s "
        f"({result.steps_per_s:,.0f} steps/s), {result.episodes} episodes"
    )
    if ev:
        typer.echo(
            f"validation (greedy): Sharpe {ev.get('sharpe', float('nan')):.2f}, "
            f"return {ev.get('total_return', float('nan')):+.1%} vs buy-and-hold "
            f"{ev.get('buy_hold_return', float('nan')):+.1%}; best Sharpe {result.best_metric:.2f} "
            f"at step {result.best_step:,} -> {result.best_checkpoint}"
        )
    if result.status == "interrupted":
        raise typer.Exit(130)
