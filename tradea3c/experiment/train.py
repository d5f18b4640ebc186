"""`train_strategy`: market + strategy -> an A3C run directory (the library behind `tradea3c train`)."""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from tradea3c.a3c import TrainResult, read_checkpoint, train
from tradea3c.atomic import atomic_write_text
from tradea3c.config import ConfigError, dump_toml, from_dict, to_dict
from tradea3c.data.market import Market
from tradea3c.data.spec import load_market_spec
from tradea3c.envs.config import env_config_to_dict
from tradea3c.experiment.factory import TradingEnvFactory, ValidationEvaluator
from tradea3c.experiment.preflight import check_training_run
from tradea3c.experiment.strategy import StrategyConfig, load_strategy
from tradea3c.locks import LOCK_FILES, check_free, folder_lock

STRATEGY_FILE = "strategy.toml"


RUNTIME_KEYS = (
    "a3c.total_steps",
    "a3c.workers",
    "a3c.backend",
    "a3c.address",
    "a3c.worker_restarts",
    "market.data_dir",
)
"""Where and how far a run goes: what a resume may change (what the run learns stays the run's)."""


def with_runtime(
    saved: StrategyConfig, given: StrategyConfig, keys: tuple[str, ...] = RUNTIME_KEYS
) -> StrategyConfig:
    """``saved`` with the ``keys`` (dotted, two levels) taken from ``given``."""
    out = saved
    for key in keys:
        section, name = key.split(".")
        part = replace(getattr(out, section), **{name: getattr(getattr(given, section), name)})
        out = replace(out, **{section: part})
    return out


RUN_FILES = (
    "latest.pt",
    "best.pt",
    STRATEGY_FILE,
    "config.toml",
    "metrics.csv",
    "eval.csv",
    "summary.json",
    "worker-error.txt",
    "tb",
)
"""What a run folder holds once training started (``--overwrite`` removes exactly these)."""

CHECKPOINTS = ("latest.pt", "best.pt")


def differences(saved: object, new: object, prefix: str = "") -> list[str]:
    """Dotted keys where two nested dicts differ."""
    if isinstance(saved, dict) and isinstance(new, dict):
        return [
            d
            for k in sorted(set(saved) | set(new))
            for d in differences(saved.get(k), new.get(k), f"{prefix}{k}.")
        ]
    return [] if saved == new else [prefix.rstrip(".")]


def holds_run(run_dir: Path) -> list[str]:
    """The run files already in ``run_dir`` (empty: a new or empty folder)."""
    return [name for name in RUN_FILES if (run_dir / name).exists()] if run_dir.is_dir() else []


def check_out_folder(run_dir: Path) -> None:
    """``run_dir`` can become a run folder: not a file, and its nearest existing folder writable."""
    if run_dir.exists() and not run_dir.is_dir():
        raise ConfigError(f"--out {run_dir} is a file, not a folder; pass a folder for the run")
    existing = next(p for p in (run_dir, *run_dir.parents) if p.exists())
    if not existing.is_dir():
        raise ConfigError(f"--out {run_dir}: {existing} is a file, not a folder; pass another --out")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(
            f"--out {run_dir}: {existing} is not writable; make it writable or pass another --out"
        )


def _refuse_existing(run_dir: Path) -> None:
    found = holds_run(run_dir)
    if found:
        raise ConfigError(
            f"--out {run_dir} already holds a run ({', '.join(found[:3])}); continue it with --resume, "
            "replace it with --overwrite, or pass another --out"
        )


def _check_resume_point(run_dir: Path, strategy: StrategyConfig, market: Market) -> None:
    """``latest.pt`` belongs to this run's market and settings (else one line, before anything runs)."""
    extra = read_checkpoint(run_dir / "latest.pt")["extra"]
    trained = extra.get("strategy") or {}
    source = trained.get("market", {}).get("source", strategy.market.source)
    names = [str(t) for t in extra.get("tickers") or market.tickers]
    if source != strategy.market.source:
        raise ConfigError(
            f"{run_dir}/latest.pt was trained on another market ({source!r}: {','.join(names[:5])}"
            f"{' ...' * (len(names) > 5)}) than {strategy.market.source!r}; resume with the run's own "
            "market or start a new run"
        )
    if names != list(market.tickers):
        gone, new = sorted(set(names) - set(market.tickers)), sorted(set(market.tickers) - set(names))
        raise ConfigError(
            f"the market's tickers changed since {run_dir} was trained ({len(names)} then, "
            f"{market.n_assets} now; gone: {','.join(gone[:5]) or '-'}, new: {','.join(new[:5]) or '-'}); "
            "start a new run instead of --resume"
        )
    if extra.get("market_fingerprint") != market.fingerprint:
        raise ConfigError(
            f"market data changed since {run_dir} was trained (fingerprint {extra.get('market_fingerprint')} "
            f"-> {market.fingerprint}); start a new run instead of --resume"
        )
    try:  # parsed, so that fields a later version added (with their defaults) still match
        trained = to_dict(from_dict(StrategyConfig, trained)) if trained else {}
    except (ConfigError, TypeError, ValueError):
        trained = {}
    if trained:
        mine = to_dict(strategy)
        changed = [k for k in differences(trained, mine) if k not in RUNTIME_KEYS]
        if changed:
            raise ConfigError(
                f"--resume would change {', '.join(changed[:4])}{' ...' * (len(changed) > 4)} of {run_dir} "
                f"(its latest.pt was trained with other settings than its {STRATEGY_FILE}); resume with "
                "the checkpoint's settings or start a new run"
            )


def _remove(run_dir: Path, names: tuple[str, ...], *, strict: bool) -> None:
    """Delete ``run_dir/<name>`` (file or folder) for each of ``names``; ``strict`` raises on failure."""
    for name in names:
        path = run_dir / name
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=not strict)
        elif strict and path.exists():
            path.unlink()
        elif not strict:
            path.unlink(missing_ok=True)


def _remove_run(run_dir: Path) -> None:
    """``--overwrite``: the run files go (checkpoints included); anything else in the folder stays."""
    _remove(run_dir, RUN_FILES, strict=True)


def _clean_failed_start(run_dir: Path, created: bool) -> None:
    """After a failure: a folder holding a checkpoint is kept whole; otherwise the files this start
    wrote go, and the folder too if this call created it and nothing else is in it."""
    if not run_dir.is_dir() or any((run_dir / name).exists() for name in CHECKPOINTS):
        return
    _remove(run_dir, (*RUN_FILES, *LOCK_FILES), strict=False)
    if created:
        _remove_empty(run_dir)  # only if empty: a file the user put there keeps the folder


_MADE_ROOTS: set[Path] = set()
"""Run roots (``runs/``) that `default_run_dir` created in this process."""


def _remove_empty(run_dir: Path) -> None:
    """Remove ``run_dir`` and a run root made for it, each only if empty (never a folder with content)."""
    for folder in (run_dir, run_dir.parent):
        if folder is run_dir or folder.resolve() in _MADE_ROOTS:
            with contextlib.suppress(OSError):
                folder.rmdir()


def default_run_dir(strategy: StrategyConfig, root: str | Path = "runs") -> Path:
    """``root/<name>-<date>-<time>``, created empty here so that two runs started in the same second
    get two folders (the second one ``...-2``)."""
    stem = Path(root) / f"{strategy.name}-{time.strftime('%Y%m%d-%H%M%S')}"
    if not Path(root).exists():
        Path(root).mkdir(parents=True, exist_ok=True)
        _MADE_ROOTS.add(Path(root).resolve())  # a failed start removes it again if left empty
    for n in range(1, 10_000):
        path = stem if n == 1 else stem.with_name(f"{stem.name}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        return path
    raise ConfigError(f"{root} already holds 10,000 runs named {stem.name}-N; pass --out")


def latest_run_dir(root: str | Path = "runs") -> Path | None:
    """Most recently modified run directory under ``root`` that has a ``latest.pt``."""
    runs = [p.parent for p in Path(root).glob("*/latest.pt")]
    return max(runs, key=lambda p: (p / "latest.pt").stat().st_mtime) if runs else None


def train_strategy(
    strategy: StrategyConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    overwrite: bool = False,
    progress: bool = True,
    market: Market | None = None,
    should_stop: Callable[[dict[str, float]], bool] | None = None,
) -> TrainResult:
    """Train on ``strategy`` into ``run_dir``; ``resume`` continues from ``run_dir/latest.pt`` with the
    run's saved strategy and refuses if the checkpoint belongs to another market, other data
    (fingerprint mismatch) or other settings. On resume only where and how far to run come from
    ``strategy`` (``a3c.total_steps``, ``workers``, ``backend``, ``address``, ``worker_restarts``,
    ``market.data_dir``); what to learn is the run's.

    A folder that already holds a run is refused unless ``resume`` (continue it) or ``overwrite``
    (replace its run files) is given, and the folder is locked for the whole call: a second process
    training into it is turned away with the holder's PID. If training fails before any checkpoint,
    the files this call wrote are removed again (and the folder, if this call created it); a folder
    holding ``latest.pt`` or ``best.pt`` is never removed.

    Checkpoints carry, as plain data, the market spec (in ``strategy``), the fingerprint and the
    resolved env config (``env``), so a backtest rebuilds the policy's env without the strategy.
    ``should_stop(metrics)`` is called after each validation evaluation (the engine's hook: True
    ends training early, status "stopped"); `tradea3c.experiment.tune` prunes trials with it."""
    run_dir = Path(run_dir)
    check_out_folder(run_dir)
    created = not run_dir.exists() or not any(run_dir.iterdir())  # (default_run_dir makes it empty)
    busy = ("training", "wait for it to finish, or pass another --out")
    try:
        if strategy.a3c.backend == "ray":
            from tradea3c.a3c.backends.ray import require_ray

            require_ray()  # one line before the market is loaded
        check_free(run_dir, *busy)
        if resume and not (run_dir / "latest.pt").is_file():
            raise ConfigError(f"nothing to resume in {run_dir}: no latest.pt; start a run without --resume")
        if not resume and not overwrite:
            _refuse_existing(run_dir)  # before the market is loaded (and again under the lock)
    except BaseException:
        if created and run_dir.is_dir():
            _remove_empty(run_dir)  # an empty folder made for this run; never one with content
        raise
    with folder_lock(run_dir, *busy):
        if not resume and not overwrite:
            _refuse_existing(run_dir)  # a run that appeared since the check above
        try:
            return _train_locked(strategy, run_dir, resume, overwrite, progress, market, should_stop)
        except BaseException:
            if not resume:
                _clean_failed_start(run_dir, created)
            raise


def _train_locked(
    strategy: StrategyConfig,
    run_dir: Path,
    resume: bool,
    overwrite: bool,
    progress: bool,
    market: Market | None,
    should_stop: Callable[[dict[str, float]], bool] | None = None,
) -> TrainResult:
    saved = run_dir / STRATEGY_FILE
    if resume:
        strategy = with_runtime(load_strategy(saved), strategy)
    market = market if market is not None else load_market_spec(strategy.market)
    if resume:
        _check_resume_point(run_dir, strategy, market)
    split = strategy.split.resolve(market)
    env_cfg = strategy.env_config(market)
    profiles = strategy.worker_profiles()
    model_factory = strategy.model_factory(market)
    check_training_run(market, env_cfg, split, profiles)  # before anything is written
    factory = TradingEnvFactory(market, env_cfg, split, profiles, strategy.a3c.seed, strategy.envs_per_worker)
    evaluator = ValidationEvaluator(market, env_cfg, split, "val")
    if overwrite and not resume:
        _remove_run(run_dir)  # only now: a refused start leaves the old run as it was
    resolved = replace(
        strategy, split=replace(strategy.split, train_end=split.train_end, val_end=split.val_end)
    )
    atomic_write_text(saved, dump_toml(resolved))
    extra = {
        "strategy": to_dict(resolved),
        "market_fingerprint": market.fingerprint,
        "tickers": list(market.tickers),
        "market_range": [str(market.start.date()), str(market.end.date())],
        "split": {"train_end": split.train_end, "val_end": split.val_end},
        "env": env_config_to_dict(env_cfg),
    }
    return train(
        factory,
        strategy.a3c,
        run_dir,
        model_factory=model_factory,
        evaluate_fn=evaluator,
        select_metric="sharpe",
        should_stop=should_stop,
        resume=resume,
        extra_metadata=extra,
        progress=progress,
    )
