"""`run_study`: does the agent beat the baselines, out of sample, after costs? One call answers it.

A study trains a strategy on a universe and scores every policy on the test range (after the
validation end) against buy-and-hold, the rule baselines and cash, at the strategy's costs and at
each level of a cost sweep:

* ``per-ticker``: one agent per (ticker, seed), each trained on that ticker's own history;
* ``cross-sectional``: one single-asset agent per seed trained over the universe's tickers (each
  episode draws its ticker), scored on every ticker, including held-out tickers it never saw;
* ``portfolio``: one portfolio agent per seed trained on the whole universe (the strategy's
  ``portfolio`` env and model), scored as one row against the portfolio baselines (`portfolio`).

The test range follows the strategy's validation end, or, with ``folds``, each anchored
walk-forward fold tests on its own block (one row per ticker and fold).

Per ticker, the seeds' checkpoints also form an ensemble (averaged action probabilities; averaged
Q-values for the value-based methods). Every (ticker, seed[, fold]) run is a normal run directory
under ``<out>/runs``, and every score is cached next to it, so a study is resumable: re-running it
skips finished runs, and an interrupted one loses at most the run in flight (an unfinished run
directory is trained again from scratch).

The package by job: `types` (spec, rows, result), `runs` (cuts, run strategies, training),
`scoring` (backtests of one ticker, cached), `aggregation` (the answer across tickers, the
deflated Sharpe); `run_study` here drives them. Every public name is importable from here.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from tradea3c.atomic import atomic_write_json
from tradea3c.backtest import BacktestError
from tradea3c.config import ConfigError, dump_toml, from_dict
from tradea3c.data.market import Market
from tradea3c.data.spec import load_market_spec
from tradea3c.experiment.preflight import PreflightError
from tradea3c.experiment.study.aggregation import aggregate, study_dsr
from tradea3c.experiment.study.portfolio import PORTFOLIO, score_portfolio
from tradea3c.experiment.study.runs import Window, holdout, run_strategy, train_run, windows
from tradea3c.experiment.study.scoring import cash_stats, score, ticker_row, unlisted_members
from tradea3c.experiment.study.types import (
    CASH,
    ENSEMBLE,
    POLICY,
    RESULT_FILE,
    SCORE_FILE,
    SPEC_FILE,
    Mode,
    StudyResult,
    StudySpec,
    TickerResult,
    row_label,
    ticker_label,
)
from tradea3c.locks import folder_lock

__all__ = [
    "CASH",
    "ENSEMBLE",
    "POLICY",
    "RESULT_FILE",
    "SCORE_FILE",
    "SPEC_FILE",
    "Mode",
    "StudyResult",
    "StudySpec",
    "TickerResult",
    "Window",
    "cash_stats",
    "row_label",
    "run_study",
    "study_dsr",
    "windows",
]


def _check_spec(out: Path, spec: StudySpec) -> None:
    path = out / SPEC_FILE
    if path.is_file():
        try:  # parsed, so that fields added by a later version (with their defaults) still match
            before = from_dict(StudySpec, json.loads(path.read_text())).key()
        except (ConfigError, ValueError):
            before = None
        if before != spec.key():
            raise ValueError(
                f"{out} holds a study with another spec ({path}); use a new --out or delete that folder"
            )
    else:
        atomic_write_json(path, spec.key())
        (out / "strategy.toml").write_text(dump_toml(spec.strategy))


def run_study(
    spec: StudySpec,
    out: str | Path,
    *,
    market: Market | None = None,
    progress: bool = True,
) -> StudyResult:
    """Train and score every run of ``spec`` under ``out`` (resumable); see the module docstring.
    ``out`` is locked while the study runs: the same study started twice is turned away."""
    out = Path(out)
    market = market if market is not None else load_market_spec(spec.strategy.market)
    if market.n_assets < 1:
        raise ValueError(f"market {spec.strategy.market.source!r} has no tickers; fetch them first")
    cuts = windows(spec, market)
    if not spec.folds:
        spec = replace(spec, strategy=replace(spec.strategy, split=cuts[0].split))
    with folder_lock(
        out, "a study", "wait for it to finish (re-running it later resumes it), or pass another --out"
    ):
        return _run_locked(spec, out, market, cuts, progress)


def _run_locked(
    spec: StudySpec, out: Path, market: Market, cuts: list[Window], progress: bool
) -> StudyResult:
    from rich.progress import Progress

    _check_spec(out, spec)
    tickers = list(market.tickers)
    held = holdout(tickers, spec.holdout) if spec.mode == "cross-sectional" else []
    seen = [t for t in tickers if t not in held]
    skipped: dict[str, str] = {}
    runs: dict[tuple[str, int], list[Path]] = {}
    n_train = len(cuts) * len(spec.seeds) * (len(tickers) if spec.mode == "per-ticker" else 1)
    n_score = len(cuts) * (1 if spec.mode == "portfolio" else len(tickers))
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("study: training", total=n_train + n_score)
        for w in cuts:
            if spec.mode == "portfolio":
                paths = [out / "runs" / w.run_name(PORTFOLIO, s) for s in spec.seeds]
                for seed, run in zip(spec.seeds, paths, strict=True):
                    train_run(
                        run_strategy(spec, PORTFOLIO, tickers, seed, w, "portfolio"), run, w.market(market)
                    )
                    bar.advance(task)
                runs[(PORTFOLIO, w.fold)] = paths
                continue
            if spec.mode == "cross-sectional":
                whole = w.market(market)
                gone = unlisted_members(whole, seen, spec.strategy.env, w.split.resolve(whole))
                skipped.update({ticker_label(t, w.fold): why for t, why in gone.items()})
                members = [t for t in seen if t not in gone]
                xs = [out / "runs" / w.run_name("xs", s) for s in spec.seeds]
                for seed, run in zip(spec.seeds, xs, strict=True):
                    if members:
                        train_run(
                            run_strategy(spec, "xs", members, seed, w), run, w.market(market.select(members))
                        )
                    bar.advance(task)
                runs.update({(t, w.fold): xs for t in tickers if members and t not in gone})
                continue
            for t in tickers:
                paths = [out / "runs" / w.run_name(t, s) for s in spec.seeds]
                try:
                    for seed, run in zip(spec.seeds, paths, strict=True):
                        train_run(run_strategy(spec, t, [t], seed, w), run, w.market(market.select(t)))
                        bar.advance(task)
                    runs[(t, w.fold)] = paths
                except PreflightError as exc:
                    skipped[ticker_label(t, w.fold)] = str(exc)
                    bar.advance(task, len(spec.seeds))
        bar.update(task, description="study: scoring")
        rows, fold_dates = [], {}
        for w in cuts:
            if spec.mode == "portfolio":
                try:
                    s = score_portfolio(runs[(PORTFOLIO, w.fold)], w.market(market), spec.costs_bps)
                except BacktestError as exc:
                    skipped[ticker_label(PORTFOLIO, w.fold)] = str(exc)
                else:
                    rows.append(ticker_row(PORTFOLIO, True, s, w.fold))
                    fold_dates.setdefault(w.fold, s["dates"])
                bar.advance(task)
                continue
            for t in tickers:
                if (t, w.fold) in runs:
                    try:
                        s = score(runs[(t, w.fold)], w.market(market), t, spec.costs_bps)
                    except BacktestError as exc:
                        skipped[ticker_label(t, w.fold)] = str(exc)
                    else:
                        rows.append(ticker_row(t, t not in held, s, w.fold))
                        fold_dates.setdefault(w.fold, s["dates"])
                bar.advance(task)
    dates = [d for i, ds in enumerate(fold_dates.values()) for d in (ds if i == 0 else ds[1:])]
    result = StudyResult(
        {**spec.key(), "trials": spec.n_trials},
        rows,
        skipped,
        aggregate(rows, spec.costs_bps),
        study_dsr(rows, len(spec.seeds), spec.n_trials),
        dates,
    )
    atomic_write_json(out / RESULT_FILE, result.to_json())
    return result
