"""`train_strategy`: market + strategy -> an A3C run directory (the library behind `tradea3c train`)."""

from __future__ import annotations

import shutil
import time
from dataclasses import replace
from pathlib import Path

from tradea3c.a3c import TrainResult, read_checkpoint, train
from tradea3c.atomic import atomic_write_text
from tradea3c.config import ConfigError, dump_toml, to_dict
from tradea3c.data.market import Market
from tradea3c.data.spec import load_market_spec
from tradea3c.envs.config import env_config_to_dict
from tradea3c.experiment.factory import TradingEnvFactory, ValidationEvaluator
from tradea3c.experiment.preflight import check_training_run
from tradea3c.experiment.strategy import StrategyConfig, load_strategy

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


def default_run_dir(strategy: StrategyConfig, root: str | Path = "runs") -> Path:
    return Path(root) / f"{strategy.name}-{time.strftime('%Y%m%d-%H%M%S')}"


def latest_run_dir(root: str | Path = "runs") -> Path | None:
    """Most recently modified run directory under ``root`` that has a ``latest.pt``."""
    runs = [p.parent for p in Path(root).glob("*/latest.pt")]
    return max(runs, key=lambda p: (p / "latest.pt").stat().st_mtime) if runs else None


def train_strategy(
    strategy: StrategyConfig,
    run_dir: str | Path,
    *,
    resume: bool = False,
    progress: bool = True,
    market: Market | None = None,
) -> TrainResult:
    """Train on ``strategy`` into ``run_dir``; ``resume`` continues from ``run_dir/latest.pt`` with the
    run's saved strategy and refuses if the market data changed (fingerprint mismatch). On resume
    only where and how far to run come from ``strategy`` (``a3c.total_steps``, ``workers``,
    ``backend``, ``address``, ``worker_restarts``, ``market.data_dir``); what to learn is the run's.
    A run directory this call created is removed again if training fails before its first
    checkpoint (a failed start leaves nothing behind).

    Checkpoints carry, as plain data, the market spec (in ``strategy``), the fingerprint and the
    resolved env config (``env``), so a backtest rebuilds the policy's env without the strategy."""
    run_dir = Path(run_dir)
    saved = run_dir / STRATEGY_FILE
    if strategy.a3c.backend == "ray":
        from tradea3c.a3c.backends.ray import require_ray

        require_ray()  # one line before the market is loaded
    if resume:
        if not (run_dir / "latest.pt").is_file():
            raise ConfigError(f"nothing to resume in {run_dir}: no latest.pt; start a run without --resume")
        strategy = with_runtime(load_strategy(saved), strategy)
    market = market if market is not None else load_market_spec(strategy.market)
    if resume:
        before = read_checkpoint(run_dir / "latest.pt")["extra"].get("market_fingerprint")
        if before != market.fingerprint:
            raise ConfigError(
                f"market data changed since {run_dir} was trained (fingerprint {before} -> "
                f"{market.fingerprint}); start a new run instead of --resume"
            )
    split = strategy.split.resolve(market)
    env_cfg = strategy.env_config(market)
    profiles = strategy.worker_profiles()
    model_factory = strategy.model_factory(market)
    check_training_run(market, env_cfg, split, profiles)  # before anything is written
    factory = TradingEnvFactory(market, env_cfg, split, profiles, strategy.a3c.seed, strategy.envs_per_worker)
    evaluator = ValidationEvaluator(market, env_cfg, split, "val")
    created = not run_dir.exists()
    run_dir.mkdir(parents=True, exist_ok=True)
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
    try:
        return train(
            factory,
            strategy.a3c,
            run_dir,
            model_factory=model_factory,
            evaluate_fn=evaluator,
            select_metric="sharpe",
            resume=resume,
            extra_metadata=extra,
            progress=progress,
        )
    except BaseException:
        if created and not (run_dir / "latest.pt").exists():
            shutil.rmtree(run_dir, ignore_errors=True)
        raise
