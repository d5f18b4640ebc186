"""CLI: `tradea3c train` (thin: build a `StrategyConfig` from a file + flags, call `train_strategy`).

Every flag is a shorthand for a ``--set dotted.key=value`` override, and both go through the
config loader (`tradea3c.config.apply_overrides`), so types and names are checked in one place.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from tradea3c.cli._fail import RUN_FAILED, fail
from tradea3c.cli.options import Address, Backend, EnvsPerWorker, Membership, OnExit, Workers

if TYPE_CHECKING:
    from tradea3c.a3c import TrainResult
    from tradea3c.experiment import StrategyConfig


def resume_strategy(run_dir: Path, given: StrategyConfig, explicit: set[str]) -> StrategyConfig:
    """The run's saved strategy with this invocation's where-and-how-far (``RUNTIME_KEYS`` given
    explicitly); everything else the invocation says must equal the run's."""
    from tradea3c.config import ConfigError, to_dict
    from tradea3c.experiment import load_strategy
    from tradea3c.experiment.train import RUNTIME_KEYS, STRATEGY_FILE, differences, with_runtime

    file = run_dir / STRATEGY_FILE
    if not file.is_file():
        raise ConfigError(f"nothing to resume in {run_dir}: no {STRATEGY_FILE}; start a run without --resume")
    saved = load_strategy(file)
    mine = to_dict(given)
    for key in ("train_end", "val_end"):  # the run saved them resolved; unset means "the run's"
        if mine.get("split", {}).get(key) is None:
            mine.setdefault("split", {})[key] = to_dict(saved).get("split", {}).get(key)
    changed = [k for k in differences(to_dict(saved), mine) if k not in RUNTIME_KEYS]
    if changed:
        raise ConfigError(
            f"--resume would change {', '.join(changed[:4])}{' ...' * (len(changed) > 4)} of {run_dir} "
            f"(its {STRATEGY_FILE} holds the run's settings); resume with the same settings (only "
            "--steps, --workers, --backend, --address, --data-dir may change) or start a new run"
        )
    return with_runtime(saved, given, tuple(k for k in RUNTIME_KEYS if k in explicit))


def _toml_value(value: object) -> str:
    """A flag's value as the TOML text `apply_overrides` parses (strings quoted, so "1e3" stays text)."""
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


def train(
    market: Annotated[
        str | None,
        typer.Option(
            help="demo | signal | sp500 | dow30 | nasdaq100 | cached | tickers 'AAPL,MSFT' "
            "(overrides the strategy)."
        ),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            help="Strategy name (strategies/NAME.toml, yours first, else shipped) or a TOML path; "
            "default: the built-in demo strategy."
        ),
    ] = None,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set", help="Override any strategy field: --set a3c.lr=3e-4 --set env.window=60 (repeatable)."
        ),
    ] = None,
    workers: Workers = None,
    steps: Annotated[int | None, typer.Option(help="Training budget in global env steps.")] = None,
    envs_per_worker: EnvsPerWorker = None,
    mode: Annotated[
        str | None,
        typer.Option(
            help="a3c (Hogwild processes), a2c (synchronous), or the paper's value-based methods: "
            "nstep_q, onestep_q, onestep_sarsa."
        ),
    ] = None,
    backend: Backend = None,
    address: Address = None,
    train_end: Annotated[str | None, typer.Option(help="Last training date (ISO).")] = None,
    val_end: Annotated[
        str | None, typer.Option(help="Last validation date (ISO); later = test range.")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(help="Master seed: every worker, env and episode seed derives from it.")
    ] = None,
    max_tickers: Annotated[
        int | None, typer.Option(help="Use only the first N tickers of a universe.")
    ] = None,
    min_history: Annotated[
        int | None,
        typer.Option(help="Leave out universe members with fewer bars than this (reported by name)."),
    ] = None,
    data_dir: Annotated[
        Path | None,
        typer.Option("--data-dir", help="Cache folder (default: $TRADEA3C_DATA or ./data/cache)."),
    ] = None,
    membership: Membership = None,
    on_exit: OnExit = None,
    out: Annotated[Path | None, typer.Option(help="Run directory (default: runs/<name>-<time>).")] = None,
    resume: Annotated[
        bool, typer.Option("--resume", help="Continue --out (or the newest run) from its latest.pt.")
    ] = False,
    overwrite: Annotated[
        bool,
        typer.Option("--overwrite", help="Replace the run in --out (checkpoints too) instead of refusing."),
    ] = False,
    quiet: Annotated[bool, typer.Option("--quiet", help="No live progress display.")] = False,
) -> None:
    """Train an A3C agent; prints the run directory and the validation result."""
    from tradea3c.a3c import LearnerError, WorkerError
    from tradea3c.a3c.coordinator import CheckpointWriteError
    from tradea3c.config import ConfigError, apply_overrides
    from tradea3c.data import DataError
    from tradea3c.experiment import latest_run_dir, load_strategy, train_strategy
    from tradea3c.experiment.choose import default_strategy, describe_choice
    from tradea3c.experiment.train import STRATEGY_FILE, default_run_dir

    flags = {  # flag -> (strategy key, value)
        "market": ("market.source", market),
        "data-dir": ("market.data_dir", None if data_dir is None else str(data_dir)),
        "max-tickers": ("market.max_tickers", max_tickers),
        "min-history": ("market.min_history", min_history),
        "membership": ("market.membership", None if membership is None else str(membership)),
        "on-exit": ("market.on_exit", on_exit),
        "train-end": ("split.train_end", train_end),
        "val-end": ("split.val_end", val_end),
        "workers": ("a3c.workers", workers),
        "steps": ("a3c.total_steps", steps),
        "seed": ("a3c.seed", seed),
        "mode": ("a3c.mode", mode),
        "backend": ("a3c.backend", backend),
        "address": ("a3c.address", address),
        "envs-per-worker": ("envs_per_worker", envs_per_worker),
    }
    try:
        if resume and overwrite:
            raise ConfigError("--resume and --overwrite contradict each other: pass one of them")
        if resume and out is None:
            out = latest_run_dir()
            if out is None:
                raise ConfigError("--resume found no run with a latest.pt under runs/; pass --out RUN_DIR")
        saved = out / STRATEGY_FILE if resume and out is not None else None
        chosen = None
        if strategy:
            cfg = load_strategy(strategy)
        elif saved is not None and saved.is_file():  # on --resume, flags and --set apply to the run's own
            cfg = load_strategy(saved)
        else:  # the market decides: the per-asset policy for several assets, else the default
            cfg, chosen = default_strategy(market, data_dir)
        for flag, (key, value) in flags.items():
            if value is not None:
                try:
                    cfg = apply_overrides(cfg, [f"{key}={_toml_value(value)}"])
                except ConfigError as exc:  # name the flag the user typed, not its --set form
                    raise ConfigError(f"--{flag} {value}: {str(exc).partition(': ')[2]}") from None
        cfg = apply_overrides(cfg, overrides or [])
        if chosen is not None and market is not None:
            typer.echo(describe_choice(market, chosen, cfg), err=True)
        if resume and out is not None:
            explicit = {key for flag, (key, value) in flags.items() if value is not None}
            cfg = resume_strategy(out, cfg, explicit)
        run_dir = out or default_run_dir(cfg)
        result = train_strategy(cfg, run_dir, resume=resume, overwrite=overwrite, progress=not quiet)
    except (ConfigError, DataError, ValueError, FileNotFoundError, ImportError) as exc:
        raise fail(str(exc)) from None
    except (WorkerError, LearnerError, CheckpointWriteError) as exc:
        raise fail(str(exc).splitlines()[0], code=RUN_FAILED) from None
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
    if result.status == "interrupted":  # the shell's codes: 128 + SIGTERM (15) or SIGINT (2)
        raise typer.Exit(143 if getattr(result, "signal", None) == "SIGTERM" else 130)
