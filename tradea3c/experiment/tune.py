"""`tune`: a hyperparameter search that counts its own trials (the library behind `tradea3c tune`).

Optuna's TPE sampler (seeded) proposes values for the strategy fields named in a search-space TOML
(the ``--set`` dotted paths; `tradea3c.experiment.search_space`); each trial is a normal run folder
(`train_strategy`) under ``DIR/trials/trial-NNNN``, scored by its best validation Sharpe only (the
test range is never read), and pruned (median rule) on the validation evaluations the trainer
makes anyway. The search lives in ``sqlite:///DIR/tune.sqlite`` (study name = the strategy's
name): a killed search resumes to the same total, and ``optuna-dashboard`` reads it. The result is
``DIR/best.toml`` (a strategy carrying ``tuning.trials = N``, so backtests and studies of it
deflate their Sharpe by every trial), ``DIR/trials.csv`` and a `TuneResult`. See docs/tuning.md.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tradea3c.atomic import atomic_write_text
from tradea3c.config import ConfigError, apply_overrides, dump_toml, to_dict
from tradea3c.data.market import Market
from tradea3c.experiment.search_space import SearchSpace, decoded, load_space, overrides
from tradea3c.experiment.strategy import StrategyConfig, TuningInfo
from tradea3c.experiment.train import check_out_folder, differences, holds_run, train_strategy
from tradea3c.locks import folder_lock

if TYPE_CHECKING:
    import optuna

log = logging.getLogger(__name__)

STORAGE_FILE, BEST_FILE, TRIALS_FILE, TRIALS_DIR = "tune.sqlite", "best.toml", "trials.csv", "trials"
RUNTIME_KEYS = ("a3c.workers", "a3c.backend", "a3c.address", "a3c.worker_restarts", "market.data_dir")
"""Strategy fields a resumed search may change (where trials run, not what they learn)."""


@dataclass(frozen=True)
class TuneResult:
    """What a search found; every trial (and the files) under ``out``."""

    out: Path
    study: str
    storage: str
    n_trials: int
    """Trials recorded (complete, pruned and failed; a killed trial retried counts once): the N
    that `best_file` carries as ``tuning.trials`` into backtests and studies."""
    best_trial: int
    best_value: float
    """The best trial's best validation Sharpe (annualised)."""
    best_params: dict[str, Any]
    best_run: Path
    best_file: Path
    trials_csv: Path
    rows: list[dict[str, Any]]
    """One per trial: trial, state, value, each parameter, evaluations, steps, run, counted."""


def storage_url(out: str | Path) -> str:
    return f"sqlite:///{Path(out).resolve() / STORAGE_FILE}"


def _check_same_search(study: optuna.Study, strategy: StrategyConfig, space: SearchSpace, out: Path) -> None:
    """A resumed search must search the same thing: refuse another strategy or space (one line)."""
    mine = json.loads(json.dumps(to_dict(strategy)))
    saved = study.user_attrs.get("strategy")
    if saved is None:
        study.set_user_attr("strategy", mine)
        study.set_user_attr("space", space.as_data())
        return
    changed = [k for k in differences(saved, mine) if k not in RUNTIME_KEYS]
    if space.as_data() != study.user_attrs.get("space"):
        changed.insert(0, f"the search space ({space.source})")
    if changed:
        raise ConfigError(
            f"{out / STORAGE_FILE} holds a search with other settings ({', '.join(changed[:4])}"
            f"{' ...' * (len(changed) > 4)}); resume with the same --strategy, --space and --steps, or "
            "pass another --out"
        )


def _retry_stale(study: optuna.Study) -> None:
    """Trials a killed or interrupted search left running: marked failed and their parameters queued
    again, so the retry is the same configuration and is counted once."""
    from optuna.trial import TrialState

    retried = list(study.user_attrs.get("retried", []))
    for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,)):
        study.tell(t.number, state=TrialState.FAIL)
        retried.append(t.number)
        study.enqueue_trial(t.params, skip_if_exists=False)
        log.info(f"trial {t.number} was cut short by an earlier stop; its configuration runs again")
    study.set_user_attr("retried", retried)


def counted(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The trials that count (every finished trial, but not a killed one that was run again)."""
    from optuna.trial import TrialState

    retried = set(study.user_attrs.get("retried", []))
    done = (TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)
    return [t for t in study.get_trials(deepcopy=False, states=done) if t.number not in retried]


def tune(
    strategy: StrategyConfig,
    space: SearchSpace | str | Path,
    out: str | Path,
    *,
    trials: int,
    timeout: float | None = None,
    market: Market | None = None,
    seed: int = 0,
    progress: bool = True,
) -> TuneResult:
    """Search ``space`` around ``strategy`` until the study in ``out`` holds ``trials`` trials (a
    resumed search runs only the rest) or ``timeout`` seconds passed; each trial trains
    ``strategy`` with its parameters into ``out/trials/trial-NNNN`` and is scored by its best
    validation Sharpe. ``seed`` seeds the TPE sampler (trials train with the strategy's
    ``a3c.seed``). ``market``: the market to train on (default: the strategy's, loaded once).
    Writes ``out/best.toml`` and ``out/trials.csv``; raises `ConfigError` (one line) on bad input
    or when no trial completed."""
    if trials < 1:
        raise ConfigError(f"--trials {trials}: a search runs at least 1 trial")
    if timeout is not None and not timeout > 0:
        raise ConfigError(f"--timeout {timeout}: give seconds > 0 (or leave it out: no time limit)")
    out = Path(out)
    check_out_folder(out)
    if isinstance(space, str | Path):
        space = load_space(space, strategy)
    with folder_lock(out, "tuning", "wait for it to finish, or pass another --out"):
        return _tune_locked(strategy, space, out, trials, timeout, market, seed, progress)


def _tune_locked(
    strategy: StrategyConfig,
    space: SearchSpace,
    out: Path,
    trials: int,
    timeout: float | None,
    market: Market | None,
    seed: int,
    progress: bool,
) -> TuneResult:
    import optuna
    from rich.progress import Progress

    from tradea3c.data.spec import load_market_spec

    optuna.logging.set_verbosity(optuna.logging.ERROR)  # our own one line per trial instead
    storage = storage_url(out)
    trial_root = out / TRIALS_DIR
    if not (out / STORAGE_FILE).exists() and trial_root.is_dir() and any(trial_root.iterdir()):
        raise ConfigError(
            f"{trial_root} holds trials of a search whose {STORAGE_FILE} is gone; pass another --out"
        )
    study = optuna.create_study(
        storage=storage,
        study_name=strategy.name,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=1),
        load_if_exists=True,
    )
    _check_same_search(study, strategy, space, out)
    if study.trials:  # a resumed sampler, seeded afresh, would propose the first trials' values again
        study.sampler = optuna.samplers.TPESampler(seed=seed + len(study.trials))
    _retry_stale(study)
    market = market if market is not None else load_market_spec(strategy.market)
    todo = trials - len(counted(study))

    def objective(trial: optuna.Trial) -> float:
        try:
            return run_trial(trial)
        except ConfigError as exc:  # a combination the strategy refuses: this trial fails, the search goes on
            log.warning(f"trial {trial.number}: failed ({exc})")
            raise

    def run_trial(trial: optuna.Trial) -> float:
        params = {p.key: p.suggest(trial) for p in space.params}
        info = TuningInfo(trials=trials, study=strategy.name, storage=storage, trial=trial.number)
        cfg = replace(apply_overrides(strategy, overrides(params)), tuning=info)
        run_dir = trial_root / f"trial-{trial.number:04d}"
        trial.set_user_attr("run", str(run_dir))
        if holds_run(run_dir):
            raise ConfigError(f"{run_dir} already holds a run; pass another --out")
        evals: list[float] = []

        def should_stop(metrics: dict[str, float]) -> bool:
            sharpe = float(metrics.get("sharpe", math.nan))
            evals.append(sharpe if math.isfinite(sharpe) else -math.inf)
            trial.report(max(evals), len(evals) - 1)  # the running best: what the objective is
            return trial.should_prune()

        result = train_strategy(cfg, run_dir, progress=False, market=market, should_stop=should_stop)
        value = math.nan if result.best_metric is None else float(result.best_metric)
        trial.set_user_attr("evaluations", len(evals))
        trial.set_user_attr("steps", int(result.global_step))
        trial.set_user_attr("value", value)
        if result.status == "interrupted":  # Ctrl-C / SIGTERM: this configuration runs again on resume
            study.set_user_attr("retried", [*study.user_attrs.get("retried", []), trial.number])
            study.enqueue_trial(dict(trial.params), skip_if_exists=False)
            raise KeyboardInterrupt
        shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
        if result.status == "stopped" and trial.should_prune():
            log.info(f"trial {trial.number}: pruned after {len(evals)} evaluations ({shown})")
            raise optuna.TrialPruned()
        if not math.isfinite(value):  # Optuna records a nan objective as a failed trial (counted)
            log.warning(f"trial {trial.number}: no finite validation Sharpe ({shown}); counted as failed")
        else:
            log.info(f"trial {trial.number}: best validation Sharpe {value:.3f} ({shown})")
        return value

    if todo > 0:
        log.info(f"tuning {strategy.name}: {todo} more trial(s) to {trials} in {storage}")
        with Progress(disable=not progress, transient=True) as bar:
            task = bar.add_task(f"tune {strategy.name}", total=todo)
            study.optimize(
                objective,
                n_trials=todo,
                timeout=timeout,
                catch=(ConfigError,),
                callbacks=[lambda _s, _t: bar.advance(task)],
            )
    return _write_results(study, strategy, space, out, storage)


def _write_results(
    study: optuna.Study, strategy: StrategyConfig, space: SearchSpace, out: Path, storage: str
) -> TuneResult:
    from optuna.trial import TrialState

    keep = {t.number for t in counted(study)}
    rows = []
    for t in study.get_trials(deepcopy=False):
        if t.state in (TrialState.RUNNING, TrialState.WAITING):
            continue
        value = t.user_attrs.get("value", t.value)
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name.lower(),
                "value": math.nan if value is None else float(value),
                **{p.key: t.params.get(p.key) for p in space.params},
                "evaluations": t.user_attrs.get("evaluations", 0),
                "steps": t.user_attrs.get("steps", 0),
                "run": t.user_attrs.get("run", ""),
                "counted": t.number in keep,
            }
        )
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(rows[0]) if rows else ["trial"], lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    atomic_write_text(out / TRIALS_FILE, buf.getvalue())
    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))]
    if not complete:
        raise ConfigError(
            f"no trial of {out} completed ({len(rows)} failed or pruned; see {out / TRIALS_FILE}); "
            "check the space and the budget (--steps), then rerun"
        )
    best = study.best_trial
    params = {p.key: decoded(p, best.params[p.key]) for p in space.params}
    info = TuningInfo(
        trials=len(keep), study=study.study_name, storage=storage, trial=best.number, value=best.value
    )
    chosen = replace(apply_overrides(strategy, overrides(params)), tuning=info)
    head = (
        f"# tradea3c tune: trial {best.number} of {len(keep)}, best validation Sharpe {best.value:.3f}\n"
        f"# (search: {storage}, study {study.study_name!r}). The test range was not looked at; every\n"
        f"# trial counts in the deflated Sharpe of a backtest or study of this strategy (tuning.trials).\n"
    )
    atomic_write_text(out / BEST_FILE, head + dump_toml(chosen))
    return TuneResult(
        out=out,
        study=study.study_name,
        storage=storage,
        n_trials=len(keep),
        best_trial=best.number,
        best_value=float(best.value),
        best_params=params,
        best_run=Path(best.user_attrs.get("run", "")),
        best_file=out / BEST_FILE,
        trials_csv=out / TRIALS_FILE,
        rows=rows,
    )
