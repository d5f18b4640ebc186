"""The study's training runs: its cuts (`Window`: the date split or walk-forward folds), the
strategy of each (ticker, seed[, fold]) run, held-out tickers, and training that skips a finished
run, continues an interrupted one (Ctrl-C, SIGTERM: it kept its latest.pt) and trains any other
unfinished one (killed, failed) again from scratch."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

import numpy as np

from tradea3c.a3c.trainer import Terminated
from tradea3c.data.market import Market
from tradea3c.experiment.strategy import SplitSpec, StrategyConfig
from tradea3c.experiment.study.types import StudySpec
from tradea3c.experiment.train import train_strategy
from tradea3c.experiment.walkforward import fold_bounds


def _run_status(run: Path) -> str | None:
    try:
        return str(json.loads((run / "summary.json").read_text())["status"])
    except (OSError, ValueError, KeyError):
        return None


def _run_done(run: Path) -> bool:
    return _run_status(run) in ("completed", "stopped")


def train_run(strategy: StrategyConfig, run: Path, market: Market) -> None:
    """Train unless finished. An interrupted run (Ctrl-C, SIGTERM) continues from its latest.pt; any
    other unfinished directory (a killed or failed run) is trained again from scratch. A run that
    is interrupted now interrupts the study: `KeyboardInterrupt` (`Terminated` for SIGTERM)."""
    status = _run_status(run)
    if status in ("completed", "stopped"):
        return
    resume = status == "interrupted" and (run / "latest.pt").is_file()
    if run.exists() and not resume:
        shutil.rmtree(run)
    result = train_strategy(strategy, run, resume=resume, progress=False, market=market)
    if result.status == "interrupted":
        raise Terminated() if result.signal == "SIGTERM" else KeyboardInterrupt()


@dataclass(frozen=True)
class Window:
    """One train/validation/test cut: the study's date split (fold 0) or a walk-forward fold."""

    fold: int
    split: SplitSpec
    test_end: int | None
    """Last test bar (None: the end of the data)."""

    def run_name(self, name: str, seed: int) -> str:
        return f"{name}-f{self.fold}-s{seed}" if self.fold else f"{name}-s{seed}"

    def market(self, market: Market) -> Market:
        """The bars this window may use at all (its test range ends the market)."""
        return market if self.test_end is None else market.take(slice(0, self.test_end + 1))


def windows(spec: StudySpec, market: Market) -> list[Window]:
    """The study's cuts: its date split, or ``spec.folds`` anchored walk-forward folds."""
    if not spec.folds:
        split = spec.strategy.split.resolve(market)
        return [Window(0, SplitSpec(split.train_end, split.val_end), None)]
    day = lambda i: str(np.datetime_as_string(market.dates[i], unit="D"))  # noqa: E731
    bounds = fold_bounds(market.n_bars, spec.folds)  # a fold too short for the strategy: pre-flight skips it
    return [
        Window(k, SplitSpec(day(b.train_end), day(b.val_end)), b.test_end) for k, b in enumerate(bounds, 1)
    ]


def run_strategy(
    spec: StudySpec,
    name: str,
    tickers: list[str],
    seed: int,
    window: Window,
    env_kind: Literal["market", "portfolio"] = "market",
) -> StrategyConfig:
    """The strategy of one run: the spec's, on ``tickers`` (the one-asset env, or the portfolio env
    of a portfolio study), with ``seed`` and the window's split."""
    base = spec.strategy
    return replace(
        base,
        name=f"{base.name}-{window.run_name(name, seed)}",
        split=window.split,
        market=replace(base.market, source=",".join(tickers), max_tickers=None),
        env_kind=env_kind,
        a3c=replace(base.a3c, seed=seed),
    )


def holdout(tickers: list[str], share: float) -> list[str]:
    """Every round(1/share)-th ticker by name, starting with the last of each group (deterministic)."""
    if share <= 0:
        return []
    step = max(int(round(1 / share)), 2)
    ordered = sorted(tickers)
    return [t for i, t in enumerate(ordered) if i % step == step - 1]
