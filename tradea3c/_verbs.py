"""The four verbs at the top level: ``tradea3c.load_market``, ``train``, ``backtest``, ``study``.

Each is a thin wrapper over the library call the matching CLI command makes, with the CLI's
argument names; ``import tradea3c`` stays cheap because this module imports the heavy layers
only when a verb is called.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tradea3c.a3c import TrainResult
    from tradea3c.data import Market
    from tradea3c.experiment import StrategyConfig
    from tradea3c.experiment.study import StudyResult


def load_market(market: str | Sequence[str] = "demo", **kwargs: Any) -> Market:
    """A validated, aligned `Market` from the cache, a universe name or the embedded demo
    (``tradea3c.data.load_market``: ``data_dir``, ``start``, ``end``, ``max_tickers``, ``min_history``)."""
    from tradea3c.data import load_market as load

    return load(market, **kwargs)


def _strategy(strategy: str | Path | StrategyConfig | None, overrides: Sequence[str]) -> StrategyConfig:
    from tradea3c.config import apply_overrides
    from tradea3c.experiment import StrategyConfig, load_strategy

    if strategy is None:
        cfg = StrategyConfig()
    elif isinstance(strategy, StrategyConfig):
        cfg = strategy
    else:
        cfg = load_strategy(strategy)
    return apply_overrides(cfg, list(overrides))


def train(
    strategy: str | Path | StrategyConfig | None = None,
    out: str | Path | None = None,
    *,
    steps: int | None = None,
    set: Sequence[str] = (),  # noqa: A002 - the CLI's --set
    market: Market | None = None,
    resume: bool = False,
    progress: bool = True,
) -> TrainResult:
    """Train A3C on a strategy (a name, a TOML path or a `StrategyConfig`; default: the built-in
    default on the embedded demo market), as ``tradea3c train`` does. ``set`` takes the CLI's
    ``--set key=value`` overrides; ``out`` defaults to ``runs/<strategy>-<time>``."""
    from tradea3c.experiment import train_strategy
    from tradea3c.experiment.train import default_run_dir

    overrides = [*([f"a3c.total_steps={steps}"] if steps is not None else []), *set]
    cfg = _strategy(strategy, overrides)
    run_dir = Path(out) if out is not None else default_run_dir(cfg)
    return train_strategy(cfg, run_dir, resume=resume, progress=progress, market=market)


def study(
    strategy: str | Path | StrategyConfig | None = None,
    out: str | Path = "runs/study",
    *,
    set: Sequence[str] = (),  # noqa: A002 - the CLI's --set
    market: Market | None = None,
    progress: bool = True,
    **spec: Any,
) -> StudyResult:
    """Does the strategy beat buy-and-hold? Train and score it over a universe, as ``tradea3c study``
    does (``spec``: `StudySpec` fields such as ``mode``, ``seeds``, ``costs_bps``, ``folds``,
    ``trials``); resumable: the same call continues an interrupted study in ``out``."""
    from tradea3c.experiment.study import StudySpec, run_study

    return run_study(StudySpec(_strategy(strategy, set), **spec), out, market=market, progress=progress)
