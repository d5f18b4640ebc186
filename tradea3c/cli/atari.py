"""CLI: `tradea3c atari train | eval | benchmark` (the A3C engine on ale-py Atari games)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from tradea3c.cli._fail import RUN_FAILED, fail

atari_app = typer.Typer(no_args_is_help=True)


@atari_app.command("train")
def train(
    game: Annotated[
        str, typer.Option(help="Game: Pong, Breakout, BeamRider, Qbert, Seaquest, SpaceInvaders, ...")
    ] = "Pong",
    workers: Annotated[int, typer.Option(help="Worker processes (0 = number of cores).")] = 0,
    frames: Annotated[
        int, typer.Option(help="Training budget in emulator frames (agent steps x 4).")
    ] = 10_000_000,
    out: Annotated[Path | None, typer.Option(help="Run directory (default: runs/atari-<game>).")] = None,
    resume: Annotated[bool, typer.Option("--resume", help="Continue --out from its latest.pt.")] = False,
    preset: Annotated[
        str, typer.Option(help="paper (A3C FF, 1 env/worker, shared RMSProp) | fast (16 envs/worker, Adam).")
    ] = "paper",
    envs_per_worker: Annotated[int | None, typer.Option(help="Emulators per worker (batched).")] = None,
    emulator: Annotated[
        str, typer.Option(help="vector (ale-py AtariVectorEnv) | gym (AtariPreprocessing wrappers).")
    ] = "vector",
    backend: Annotated[
        str,
        typer.Option(help="local (worker processes on this machine) | ray (worker actors on a Ray cluster)."),
    ] = "local",
    address: Annotated[
        str,
        typer.Option(help="Ray cluster address: auto | HOST:PORT (default: a private local Ray instance)."),
    ] = "",
    arch: Annotated[str, typer.Option(help="a3c (paper CNN) | nature (Nature-DQN CNN).")] = "a3c",
    lstm: Annotated[bool, typer.Option("--lstm", help="Add an LSTM(256) after the CNN (A3C LSTM).")] = False,
    overrides: Annotated[
        list[str] | None,
        typer.Option(
            "--set",
            help="Override a setting: engine keys on top of the preset (--set a3c.lr=1e-3 "
            "--set a3c.t_max=20 --set a3c.optimizer=rmsprop) or run keys (--set eval_max_frames=54000).",
        ),
    ] = None,
    eval_every: Annotated[int, typer.Option(help="Frames between evaluations (0 = final only).")] = 1_000_000,
    eval_episodes: Annotated[int, typer.Option(help="Games per periodic evaluation.")] = 8,
    eval_max_frames: Annotated[
        int, typer.Option(help="Cap on one periodic evaluation game (frames).")
    ] = 27_000,
    checkpoint_every_s: Annotated[float, typer.Option(help="Seconds between latest.pt checkpoints.")] = 180.0,
    stop_at: Annotated[
        float | None, typer.Option(help="Stop once an evaluation's mean score reaches this.")
    ] = None,
    seed: Annotated[int, typer.Option(help="Master seed.")] = 0,
    quiet: Annotated[bool, typer.Option("--quiet", help="No live progress display.")] = False,
) -> None:
    """Train A3C on an Atari game; prints the run directory and the final evaluation."""
    from dataclasses import replace

    from tradea3c.atari import AtariTrainConfig, train_atari
    from tradea3c.config import ConfigError, apply_overrides

    cfg = AtariTrainConfig(
        game=game,
        frames=frames,
        preset=preset,
        workers=workers,
        envs_per_worker=envs_per_worker,
        emulator=emulator,
        arch=arch,
        lstm=lstm,
        seed=seed,
        eval_every_frames=eval_every,
        eval_episodes=eval_episodes,
        eval_max_frames=eval_max_frames,
        checkpoint_every_s=checkpoint_every_s,
        stop_at_score=stop_at,
    )
    run_dir = out or Path("runs") / f"atari-{game.lower()}"
    if resume and not (run_dir / "latest.pt").is_file():
        raise fail(f"--resume: {run_dir}/latest.pt not found")
    engine = [f'backend="{backend}"', f'address="{address}"']
    engine += [o.removeprefix("a3c.") for o in overrides or [] if o.startswith("a3c.")]
    own = [o for o in overrides or [] if not o.startswith("a3c.")]
    from tradea3c.a3c import LearnerError, WorkerError

    try:
        cfg = replace(apply_overrides(cfg, own), a3c=tuple(engine))  # engine keys: checked in a3c_config
        result = train_atari(cfg, run_dir, resume=resume, progress=not quiet)
    except (ConfigError, ValueError, FileNotFoundError, ImportError) as exc:
        raise fail(str(exc)) from None
    except (WorkerError, LearnerError) as exc:
        raise fail(str(exc).splitlines()[0], code=RUN_FAILED) from None
    ev = result.last_eval or {}
    typer.echo(
        f"run {result.run_dir}: {result.status}, {result.global_step * 4:,} frames in {result.wall_s:.0f} s "
        f"({result.steps_per_s * 4:,.0f} frames/s); last eval score {ev.get('score', float('nan')):.2f}, "
        f"best {result.best_metric}"
    )


@atari_app.command("eval")
def evaluate(
    checkpoint: Annotated[
        Path, typer.Argument(help="best.pt / latest.pt of an Atari run (or its run directory).")
    ],
    episodes: Annotated[int, typer.Option(help="Games to play.")] = 30,
    noop_starts: Annotated[
        bool, typer.Option("--noop-starts/--no-noop-starts", help="Up to 30 random no-ops at each start.")
    ] = True,
    greedy: Annotated[
        bool | None,
        typer.Option(
            "--greedy/--sample",
            help="Argmax actions, or sample the policy (default: argmax for a value-based run, "
            "sampled for A3C/A2C, as in training's evaluations).",
        ),
    ] = None,
    seed: Annotated[int, typer.Option(help="Seed of the evaluation games.")] = 1_000_003,
    max_frames: Annotated[int, typer.Option(help="Cap on one game's length in frames.")] = 108_000,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the scores as JSON to stdout (nothing else there).")
    ] = False,
) -> None:
    """Play full games with a checkpoint; reports mean/median/min/max score."""
    from tradea3c.atari import evaluate_checkpoint
    from tradea3c.cli.backtest import echo_json

    if checkpoint.is_dir():
        checkpoint = checkpoint / ("best.pt" if (checkpoint / "best.pt").is_file() else "latest.pt")
    try:
        res = evaluate_checkpoint(
            checkpoint,
            episodes=episodes,
            noop_starts=noop_starts,
            greedy=greedy,
            seed=seed,
            max_episode_frames=max_frames,
        )
    except (ValueError, FileNotFoundError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        echo_json(res)
        return
    typer.echo(
        f"{res['game']} {checkpoint}: {episodes} games ({'no-op starts' if noop_starts else 'no no-ops'}, "
        f"{'greedy' if res['greedy'] else 'sampled'}): mean {res['score']:.2f}  median {res['median']:.2f}  "
        f"min {res['min']:.0f}  max {res['max']:.0f}  policy entropy {res['entropy']:.2f} nats "
        f"(uniform {res['uniform_entropy']:.2f})"
    )


@atari_app.command("benchmark")
def benchmark(
    games: Annotated[
        str,
        typer.Option(
            help="Comma-separated games and/or named sets: atari57 (the standard 57 games), atari5 "
            "(BattleZone, DoubleDunk, NameThisGame, Phoenix, Qbert), paper6 (Pong, Breakout, BeamRider, "
            "Qbert, Seaquest, SpaceInvaders)."
        ),
    ] = "paper6",
    frames: Annotated[int, typer.Option(help="Training frames per game.")] = 10_000_000,
    out: Annotated[Path, typer.Option(help="Output folder: benchmark.md/.json, curves, runs/<Game>.")] = Path(
        "runs/atari-benchmark"
    ),
    workers: Annotated[int, typer.Option(help="Worker processes (0 = number of cores).")] = 0,
    preset: Annotated[str, typer.Option(help="paper | fast (see `atari train --help`).")] = "fast",
    envs_per_worker: Annotated[int | None, typer.Option(help="Emulators per worker.")] = None,
    eval_episodes: Annotated[
        int, typer.Option(help="Games in each final evaluation (of best.pt and of latest.pt).")
    ] = 30,
    eval_every: Annotated[
        int, typer.Option(help="Frames between periodic evaluations (learning curve).")
    ] = 1_000_000,
    quiet: Annotated[bool, typer.Option("--quiet", help="No live progress display.")] = False,
    resume: Annotated[
        bool, typer.Option("--resume", help="Keep finished games, continue unfinished ones from latest.pt.")
    ] = False,
) -> None:
    """Train + evaluate each game; writes a markdown + JSON score table and a learning curve per game.
    Each game is scored twice: best.pt (best periodic evaluation) and its final weights (latest.pt)."""
    from tradea3c.atari import AtariTrainConfig
    from tradea3c.atari.benchmark import run_benchmark
    from tradea3c.atari.reference_scores import resolve_games

    try:
        names = resolve_games(games)
    except ValueError as exc:
        raise fail(f"--games: {exc}") from None
    base = AtariTrainConfig(
        preset=preset,
        workers=workers,
        envs_per_worker=envs_per_worker,
        eval_every_frames=eval_every,
        eval_episodes=min(eval_episodes, 8),
    )
    try:
        run_benchmark(
            names,
            frames,
            out,
            base=base,
            eval_episodes=eval_episodes,
            progress=not quiet,
            resume=resume,
        )
    except (ValueError, FileNotFoundError, ImportError) as exc:
        raise fail(str(exc)) from None
    typer.echo(f"table: {out / 'benchmark.md'}")
    typer.echo((out / "benchmark.md").read_text())


@atari_app.command("report")
def report(
    run_dirs: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Atari run directories (finished or still running). One: its curve and progress summary; "
            "several: one line per game and the Atari-5 estimate of the 57-game median."
        ),
    ] = None,
    png: Annotated[Path | None, typer.Option(help="Learning-curve PNG to write.")] = None,
    summary: Annotated[Path | None, typer.Option(help="Progress summary JSON to write.")] = None,
    target: Annotated[float | None, typer.Option(help="Draw a target score line on the curve.")] = None,
    game: Annotated[
        str | None,
        typer.Option(
            help="Game, for the time-to-score milestones (default: from the run, else its folder name)."
        ),
    ] = None,
    benchmark_json: Annotated[
        Path | None,
        typer.Option(
            "--benchmark",
            help="A benchmark.json of `atari benchmark`: its games' final scores count for Atari-5.",
        ),
    ] = None,
    score_from: Annotated[
        str, typer.Option(help="A run directory's score for the Atari-5 estimate: last | best periodic eval.")
    ] = "last",
) -> None:
    """Learning curve and progress summary of a run; with several runs (or --benchmark), the Atari-5
    estimate of the 57-game median human-normalised score, or which of its five games are missing."""
    from tradea3c.atari.atari5 import report_lines
    from tradea3c.atari.benchmark import collect_scores

    run_dirs = list(run_dirs or [])
    if not run_dirs and benchmark_json is None:
        raise fail("give a run directory (or several, or --benchmark benchmark.json)")
    if len(run_dirs) == 1:
        _report_one(run_dirs[0], png, summary, target, game)
    elif png is not None or summary is not None or target is not None or game is not None:
        raise fail("--png, --summary, --target and --game need exactly one run directory")
    if len(run_dirs) > 1 or benchmark_json is not None:
        for run_dir in run_dirs:
            if not (run_dir / "metrics.csv").is_file():
                raise fail(f"{run_dir} has no metrics.csv")
        if benchmark_json is not None and not benchmark_json.is_file():
            raise fail(f"--benchmark: {benchmark_json} not found")
        try:
            scores = collect_scores(run_dirs, benchmark_json, score_from)
        except (ValueError, KeyError) as exc:
            raise fail(str(exc)) from None
        for line in report_lines(scores):
            typer.echo(line)


def _report_one(
    run_dir: Path, png: Path | None, summary: Path | None, target: float | None, game: str | None
) -> None:
    """Learning curve (score vs frames and vs wall time) and a progress summary of one run."""
    import tomllib

    from tradea3c.atari.benchmark import milestones_for, plot_learning_curve, run_summary
    from tradea3c.atari.reference_scores import references

    if not (run_dir / "metrics.csv").is_file():
        raise fail(f"{run_dir} has no metrics.csv")
    engine = (
        json.loads((run_dir / "summary.json").read_text()) if (run_dir / "summary.json").is_file() else None
    )
    if game is None:
        game = (engine or {}).get("extra", {}).get("game")
        game = game or (run_dir.name if run_dir.name in references()["games"] else None)
    info = run_summary(run_dir, milestones_for(game))
    info["game"] = game
    if (run_dir / "config.toml").is_file():
        info["config"] = tomllib.loads((run_dir / "config.toml").read_text())
    if engine is not None:
        info["engine_summary"] = engine
    else:
        info["status"] = "running (no summary.json yet; numbers are from metrics.csv / eval.csv)"
    if png is not None:
        mode = info.get("config", {}).get("mode", "a3c")
        method = {"nstep_q": "n-step Q", "onestep_q": "one-step Q", "onestep_sarsa": "one-step Sarsa"}
        title = f"{method.get(mode, mode.upper())} (tradea3c) on {run_dir.name}"
        plot_learning_curve(run_dir, png, title, target)
        typer.echo(f"wrote {png}")
    text = json.dumps(info, indent=2, default=str)
    if summary is not None:
        summary.parent.mkdir(parents=True, exist_ok=True)
        summary.write_text(text + "\n")
        typer.echo(f"wrote {summary}")
    else:
        typer.echo(text)
