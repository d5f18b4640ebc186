"""`tradea3c atari benchmark`: train + evaluate several games, write a markdown/JSON table and curves.

For each game: [`train_atari`][tradea3c.atari.train.train_atari] into ``<out>/runs/<Game>``, then
[`evaluate_checkpoint`][tradea3c.atari.evaluate.evaluate_checkpoint] (no-op starts) on ``best.pt`` --
the checkpoint of the best periodic evaluation, picked on a few noisy games, so its score is
biased upwards -- and on ``latest.pt``, the final weights (`final_evaluations`); both go in the
table (``score`` and ``final_score``). The human-normalised score
``(score - random) / (human - random)`` uses the DQN Nature 2015 no-op
references from ``references.json`` (Wang et al. 2016's for the 8 games DQN Nature lacks), and the
A3C paper's published score next to it.

Reference scores, normalisation and the named game sets live in `tradea3c.atari.reference_scores`.
"""

from __future__ import annotations

import csv
import json
import logging
import math
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from tradea3c.atari.envs import FRAME_SKIP
from tradea3c.atari.reference_scores import human_normalized, ref_value, references
from tradea3c.atomic import atomic_write_text

log = logging.getLogger(__name__)

MILESTONES = (-15.0, -10.0, 0.0, 10.0, 15.0, 18.0, 20.0)  # Pong's score scale (-21..21)
HUMAN_FRACTIONS = (0.25, 0.5, 1.0, 2.0, 4.0, 8.0)  # other games: milestones as human-normalised levels


def run_game(run_dir: str | Path) -> str | None:
    """The game of an Atari run directory: from its summary.json (finished runs), else its folder name
    if that is one of the 57 games (``runs/atari-benchmark/runs/Breakout``); None if unknown."""
    run_dir = Path(run_dir)
    if (run_dir / "summary.json").is_file():
        game = json.loads((run_dir / "summary.json").read_text()).get("extra", {}).get("game")
        if game:
            return str(game)
    return {g.lower(): g for g in references()["games"]}.get(run_dir.name.lower())


def milestones_for(game: str | None) -> tuple[float, ...]:
    """Score milestones for time-to-score: Pong's fixed list, else the scores at 25%, 50%, 100%,
    200%, 400% and 800% human-normalised (raw scores differ by orders of magnitude between games)."""
    rnd, hum = (ref_value(game, "random"), ref_value(game, "human")) if game else (None, None)
    if game == "Pong" or rnd is None or hum is None:
        return MILESTONES
    return tuple(round(rnd + f * (hum - rnd), 1) for f in HUMAN_FRACTIONS)


def _read_csv(path: Path) -> list[dict[str, float]]:
    if not path.is_file():
        return []
    with path.open() as fh:
        rows = []
        for row in csv.DictReader(fh):
            out = {}
            for k, v in row.items():
                try:
                    out[k] = float(v)
                except (TypeError, ValueError):
                    out[k] = math.nan
            rows.append(out)
        return rows


def run_summary(run_dir: str | Path, milestones: tuple[float, ...] = MILESTONES) -> dict[str, Any]:
    """Progress of an Atari run from its CSVs (works while it is still running).

    Frames so far, wall time, frames/s, best evaluation score, and for each score milestone the
    first evaluation reaching it (frames and wall seconds; the eval's wall time is when it
    finished, so the training that produced it happened somewhat earlier); ``time_to_train_return``
    does the same for the mean return of the last 100 training episodes (clipped rewards, one
    episode per life: equal to the game score only for games like Pong without lives/big rewards).
    """
    run_dir = Path(run_dir)
    train = _read_csv(run_dir / "metrics.csv")
    evals = _read_csv(run_dir / "eval.csv")
    last = train[-1] if train else {}
    wall = float(last.get("wall_s", math.nan))
    steps = int(last.get("global_step", 0) or 0)
    best = max(evals, key=lambda r: r.get("score", -math.inf)) if evals else None
    reached = {}
    for m in milestones:
        hit = next((r for r in evals if r.get("score", -math.inf) >= m), None)
        reached[f"{m:g}"] = (
            None
            if hit is None
            else {
                "frames": int(hit["global_step"]) * FRAME_SKIP,
                "wall_s": round(hit["wall_s"], 1),
                "wall_min": round(hit["wall_s"] / 60, 1),
                "score": hit["score"],
            }
        )
    train_reached = {}
    for m in milestones:
        hit = next((r for r in train if r.get("mean_return", -math.inf) >= m), None)
        train_reached[f"{m:g}"] = (
            None
            if hit is None
            else {
                "frames": int(hit["global_step"]) * FRAME_SKIP,
                "wall_s": round(hit["wall_s"], 1),
                "wall_min": round(hit["wall_s"] / 60, 1),
            }
        )
    return {
        "run_dir": str(run_dir),
        "frames": steps * FRAME_SKIP,
        "agent_steps": steps,
        "wall_s": wall,
        "wall_min": round(wall / 60, 1) if math.isfinite(wall) else None,
        "frames_per_s": round(steps * FRAME_SKIP / wall, 1) if wall and math.isfinite(wall) else None,
        "agent_steps_per_s": round(steps / wall, 1) if wall and math.isfinite(wall) else None,
        "evaluations": len(evals),
        "best_eval": None
        if best is None
        else {
            "score": best["score"],
            "frames": int(best["global_step"]) * FRAME_SKIP,
            "wall_s": round(best["wall_s"], 1),
            "episodes": best.get("episodes"),
        },
        "last_eval": None
        if not evals
        else {
            "score": evals[-1]["score"],
            "frames": int(evals[-1]["global_step"]) * FRAME_SKIP,
            "wall_s": round(evals[-1]["wall_s"], 1),
        },
        "time_to_score": reached,
        "time_to_train_return": train_reached,
        "last_train_row": last,
    }


def plot_learning_curve(
    run_dir: str | Path, png: str | Path, title: str | None = None, target: float | None = None
) -> Path:
    """Evaluation score (and training episode return) vs frames and vs wall-clock time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run_dir, png = Path(run_dir), Path(png)
    train = _read_csv(run_dir / "metrics.csv")
    evals = _read_csv(run_dir / "eval.csv")
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True)
    for ax, xkey, scale, label in (
        (axes[0], "global_step", FRAME_SKIP / 1e6, "frames (millions)"),
        (axes[1], "wall_s", 1 / 60, "wall-clock minutes"),
    ):
        if train:
            ax.plot(
                [r[xkey] * scale for r in train],
                [r["mean_return"] for r in train],
                color="0.6",
                lw=1,
                label="training episodes (last 100, clipped, per life)",
            )
        if evals:
            ax.plot(
                [r[xkey] * scale for r in evals],
                [r["score"] for r in evals],
                "o-",
                color="C0",
                lw=2,
                ms=4,
                label="evaluation mean score (full games)",
            )
            ax.fill_between(
                [r[xkey] * scale for r in evals],
                [r["min"] for r in evals],
                [r["max"] for r in evals],
                color="C0",
                alpha=0.15,
                label="evaluation min-max",
            )
        if target is not None:
            ax.axhline(target, color="C3", ls="--", lw=1, label=f"target {target:g}")
        ax.set_xlabel(label)
        ax.grid(alpha=0.3)
    axes[0].set_ylabel("score")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.suptitle(title or run_dir.name)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=110)
    plt.close(fig)
    return png


def _fmt(x: Any, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "-"
    if isinstance(x, float):
        return f"{x:,.{digits}f}"
    return str(x)


def write_table(
    rows: list[dict[str, Any]], out_dir: str | Path, meta: dict[str, Any] | None = None
) -> tuple[Path, Path]:
    """Write ``benchmark.md`` and ``benchmark.json`` from per-game result rows."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    js = out_dir / "benchmark.json"
    js.write_text(json.dumps({"meta": meta or {}, "games": rows}, indent=2, default=str) + "\n")
    lines = [
        "| Game | Frames | Wall (min) | best.pt score (mean +- std, n) | Median | Human-normalised "
        "| Final weights, latest.pt (mean +- std, n) | Final human-normalised "
        "| Random | Human | A3C FF 1 day (paper, human starts) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def pct(x: Any) -> str:
        return "-" if x is None else f"{100 * x:.1f}%"

    for r in rows:
        final = "-"
        if r.get("final_score") is not None:
            final = (
                f"{_fmt(r['final_score'])} +- {_fmt(r.get('final_std'))} "
                f"(n={int(r.get('final_episodes') or 0)})"
            )
        lines.append(
            f"| {r['game']} | {r['frames']:,} | {_fmt(r.get('wall_min'))} | "
            f"{_fmt(r['score'])} +- {_fmt(r.get('std'))} (n={int(r.get('episodes') or 0)}) "
            f"| {_fmt(r.get('median'))} | {pct(r.get('human_normalized'))} "
            f"| {final} | {pct(r.get('final_human_normalized'))} "
            f"| {_fmt(r.get('random'))} | {_fmt(r.get('human'))} | "
            f"{_fmt(r.get('a3c_paper'))} |"
        )
    lines += [
        "",
        "best.pt is the checkpoint of the best periodic evaluation (a few games each, so picked on "
        "noise as well as skill: its score is biased upwards); latest.pt holds the final weights, "
        "evaluated the same way (same games, same no-op starts). A run without periodic evaluations "
        "has no best.pt: both columns are latest.pt's. "
        "Scores: mean over evaluation games with up to 30 no-op starts, full games (no life-loss terminals), "
        "unclipped rewards, policy sampled. Human-normalised = (score - random) / (human - random) with the "
        "DQN Nature 2015 (Extended Data Table 2) random/human references (Wang et al. 2016 for games that "
        "table lacks); the A3C column is the paper's "
        "Table S3 under human starts (a different condition). Sources and check status: "
        "tradea3c/atari/references.json.",
    ]
    md = out_dir / "benchmark.md"
    md.write_text("\n".join(lines) + "\n")
    return md, js


def game_row(
    game: str,
    frames: int,
    evaluation: dict[str, Any],
    wall_s: float | None = None,
    run_dir: str | None = None,
    curve: str | None = None,
    final: dict[str, Any] | None = None,
    checkpoint: str = "best.pt",
) -> dict[str, Any]:
    """One table row: ``evaluation`` of ``checkpoint`` (``score``, ``median``, ...) and, from
    ``final`` (the evaluation of the final weights, latest.pt; None: not evaluated), the same
    statistics as ``final_score``, ``final_median``, ... and ``final_human_normalized``."""
    score = float(evaluation["score"])
    fin = final or {}
    final_score = None if final is None else float(fin["score"])
    return {
        "game": game,
        "frames": int(frames),
        "wall_min": None if wall_s is None else round(wall_s / 60, 1),
        "score": score,
        "median": evaluation.get("median"),
        "min": evaluation.get("min"),
        "max": evaluation.get("max"),
        "std": evaluation.get("std"),
        "episodes": evaluation.get("episodes"),
        "human_normalized": human_normalized(game, score),
        "checkpoint": checkpoint,
        "final_score": final_score,
        "final_median": fin.get("median"),
        "final_min": fin.get("min"),
        "final_max": fin.get("max"),
        "final_std": fin.get("std"),
        "final_episodes": fin.get("episodes"),
        "final_human_normalized": None if final_score is None else human_normalized(game, final_score),
        "random": ref_value(game, "random"),
        "human": ref_value(game, "human"),
        "a3c_paper": ref_value(game, "a3c_ff_1day"),
        "run_dir": run_dir,
        "curve": curve,
    }


def final_evaluations(
    best: str | Path | None,
    latest: str | Path,
    *,
    episodes: int = 30,
    evaluate: Any = None,
) -> tuple[dict[str, Any], dict[str, Any], str]:
    """The final evaluations of a finished run: ``(of best.pt, of latest.pt, name of the first)``,
    each ``episodes`` games with no-op starts (`evaluate_checkpoint`'s fixed seed: the same starts
    for both). Without a ``best`` checkpoint (no periodic evaluation ran) latest.pt is evaluated
    once and stands for both. ``evaluate`` replaces `evaluate_checkpoint` (tests)."""
    if evaluate is None:
        from tradea3c.atari.evaluate import evaluate_checkpoint as evaluate
    final = evaluate(latest, episodes=episodes, noop_starts=True)
    if best is None or Path(best) == Path(latest):
        return final, final, Path(latest).name
    return evaluate(best, episodes=episodes, noop_starts=True), final, Path(best).name


def run_benchmark(
    games: list[str],
    frames: int,
    out_dir: str | Path,
    *,
    base: Any = None,
    eval_episodes: int = 30,
    progress: bool = True,
    resume: bool = False,
) -> list[dict[str, Any]]:
    """Train and evaluate each game in turn; returns the rows written to the table.

    ``resume``: a game whose run finished its budget keeps its run and final evaluation
    (``final_eval.json``); an unfinished one continues from its ``latest.pt``. Without it, an
    existing run is refused before anything starts (one line). Each game's progress is logged
    (INFO, on this module's logger; the CLI shows it). Each finished game is evaluated twice,
    best.pt and the final weights in latest.pt (`final_evaluations`), both in its row."""
    from tradea3c.atari.evaluate import evaluate_checkpoint
    from tradea3c.atari.train import AtariTrainConfig, train_atari

    out_dir = Path(out_dir)
    base = base or AtariTrainConfig()
    started = [g for g in games if (out_dir / "runs" / g / "latest.pt").is_file()]
    if started and not resume:
        raise ValueError(
            f"{out_dir} already holds runs of {', '.join(started)}: pass --resume to continue them, "
            "or choose another --out"
        )
    rows: list[dict[str, Any]] = []
    settings = {
        "frames_per_game": frames,
        "preset": base.preset,
        "workers": base.workers,
        "eval_episodes": eval_episodes,
    }
    for game in games:
        cfg = replace(base, game=game, frames=frames)
        run_dir = out_dir / "runs" / game
        cached = run_dir / "final_eval.json"
        if resume and cached.is_file():
            row = json.loads(cached.read_text())
            log.info(f"[{game}] finished earlier: score {row['score']:.1f}")
            rows.append(row)
            write_table(rows, out_dir, settings)  # the table follows the cached rows too
            continue
        again = resume and (run_dir / "latest.pt").is_file()
        log.info(f"[{game}] {'continuing' if again else 'training'} {frames:,} frames -> {run_dir}")
        result = train_atari(cfg, run_dir, resume=again, progress=progress)
        if result.status != "completed":
            done = result.global_step * FRAME_SKIP
            log.info(f"[{game}] {result.status} at {done:,} frames; --resume continues it")
            break
        evaluation, final, which = final_evaluations(
            result.best_checkpoint,
            result.latest_checkpoint,
            episodes=eval_episodes,
            evaluate=evaluate_checkpoint,
        )
        curve = plot_learning_curve(run_dir, out_dir / f"{game}_learning_curve.png", f"A3C on {game}")
        row = game_row(
            game,
            result.global_step * FRAME_SKIP,
            evaluation,
            result.elapsed_s,
            str(run_dir),
            curve.name,
            final=final,
            checkpoint=which,
        )
        rows.append(row)
        atomic_write_text(cached, json.dumps(row, default=str) + "\n")
        write_table(rows, out_dir, settings)
        log.info(
            f"[{game}] score {row['score']:.1f} ({which}, human-normalised {row['human_normalized']}); "
            f"final weights {row['final_score']:.1f} (human-normalised {row['final_human_normalized']})"
        )
    return rows


def collect_scores(
    run_dirs: Sequence[str | Path] = (),
    benchmark_json: str | Path | None = None,
    score_from: str = "last",
) -> dict[str, dict[str, Any]]:
    """Each game's score from a ``benchmark.json`` (its final evaluation of ``best.pt``; the final
    weights' score, ``final_score``, is in the same rows) and/or run
    directories (the ``last`` or ``best`` periodic evaluation in ``eval.csv``, see `run_summary`).

    Returns ``{game: {"score", "source", "how"}}``; ``score`` is None for a run without an
    evaluation yet. A run directory given for a game that is also in the benchmark JSON wins.
    """
    if score_from not in ("last", "best"):
        raise ValueError(f"score_from must be 'last' or 'best', got {score_from!r}")
    out: dict[str, dict[str, Any]] = {}
    if benchmark_json is not None:
        rows = json.loads(Path(benchmark_json).read_text()).get("games", [])
        for row in rows:
            n = row.get("episodes")
            out[row["game"]] = {
                "score": float(row["score"]),
                "source": str(benchmark_json),
                "how": "final evaluation" + ("" if n is None else f", {int(n)} games"),
            }
    for run_dir in run_dirs:
        game = run_game(run_dir)
        if game is None:
            raise ValueError(
                f"cannot tell the game of {run_dir}: no summary.json names it and its folder name is no game"
            )
        info = run_summary(run_dir)
        ev = info["last_eval"] if score_from == "last" else info["best_eval"]
        out[game] = {
            "score": None if ev is None else float(ev["score"]),
            "source": str(run_dir),
            "how": f"{score_from} periodic evaluation"
            + ("" if ev is None else f" at {ev['frames']:,} frames"),
        }
    return out
