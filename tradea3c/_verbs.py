"""The verbs at the top level: ``tradea3c.train``, ``tradea3c.study`` and ``tradea3c.signal``
(``tradea3c.load_market`` is `tradea3c.data.load_market` itself; ``tradea3c.backtest`` is the
callable `tradea3c.backtest` package).

Each is a thin wrapper over the library call the CLI command of that name makes, with the command's
option names as keyword arguments (``--data-dir`` is ``data_dir``, ``--set`` is ``set``, ``--quiet``
is ``quiet``); ``market`` also takes a `Market` object, used as is. ``import tradea3c`` stays cheap:
this module imports the heavy layers only when a verb is called.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tradea3c.a3c import TrainResult
    from tradea3c.data.market import Market
    from tradea3c.experiment import StrategyConfig
    from tradea3c.experiment.signal import Signal
    from tradea3c.experiment.study import StudyResult


log = logging.getLogger(__name__)


def _toml(value: object) -> str:
    """A value as the TOML text `apply_overrides` parses (strings and paths quoted)."""
    if isinstance(value, str | Path):
        value = str(value)
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return str(value)


KEYS = {
    "market": "market.source",
    "data_dir": "market.data_dir",
    "train_end": "split.train_end",
    "val_end": "split.val_end",
    "steps": "a3c.total_steps",
    "workers": "a3c.workers",
    "mode": "a3c.mode",
    "backend": "a3c.backend",
    "address": "a3c.address",
    "seed": "a3c.seed",
    "membership": "market.membership",
    "on_exit": "market.on_exit",
}
"""Keyword -> the strategy field it sets, as the CLI's flags do (``--steps`` is ``a3c.total_steps``)."""


def _strategy(
    strategy: str | Path | StrategyConfig | None,
    overrides: Sequence[str],
    base: Path | None = None,
    choose: bool = True,
    **flags: object,
) -> StrategyConfig:
    """The strategy (a name, a TOML path, a `StrategyConfig`; else ``base`` if it exists, else the
    built-in default) with the ``flags`` that are given (not None), then the ``--set`` lines."""
    from tradea3c.config import apply_overrides
    from tradea3c.experiment import StrategyConfig, load_strategy
    from tradea3c.experiment.choose import default_strategy, describe_choice

    chosen = None
    if isinstance(strategy, StrategyConfig):
        cfg = strategy
    elif strategy is not None:
        cfg = load_strategy(strategy)
    elif base is not None and base.is_file():
        cfg = load_strategy(base)
    else:  # the market decides, as on the command line (`tradea3c.experiment.choose`)
        source = flags.get("market")
        cfg, chosen = default_strategy(source if choose else None, flags.get("data_dir"))  # type: ignore[arg-type]
    given = [f"{KEYS[key]}={_toml(value)}" for key, value in flags.items() if value is not None]
    cfg = apply_overrides(cfg, [*given, *overrides])
    if chosen is not None:
        log.info(describe_choice(str(flags["market"]), chosen, cfg))
    return cfg


def _market(market: str | Sequence[str] | Market | None) -> tuple[str | None, Market | None]:
    """``market`` as the ``market.source`` flag (a name or tickers) or as data to use as is."""
    if market is None or isinstance(market, str):
        return market, None
    if isinstance(market, Sequence):
        return ",".join(market), None
    return None, market


def train(
    strategy: str | Path | StrategyConfig | None = None,
    *,
    market: str | Sequence[str] | Market | None = None,
    steps: int | None = None,
    workers: int | None = None,
    mode: str | None = None,
    backend: str | None = None,
    address: str | None = None,
    seed: int | None = None,
    data_dir: str | Path | None = None,
    membership: str | Path | None = None,
    on_exit: str | None = None,
    set: Sequence[str] = (),  # noqa: A002 - the CLI's --set
    out: str | Path | None = None,
    resume: bool = False,
    overwrite: bool = False,
    quiet: bool = False,
) -> TrainResult:
    """Train A3C on a strategy, as ``tradea3c train`` does (`tradea3c.experiment.train_strategy`).

    ``strategy``: a name (``strategies/NAME.toml``, yours first, else shipped), a TOML path or a
    `StrategyConfig`; default: the built-in demo strategy (the embedded GOOGL market), or on
    ``resume`` the run's own ``strategy.toml``. ``market``: a market name or tickers (overrides the
    strategy's ``market.source``) or a `Market` to train on as is. ``steps`` (global env steps),
    ``workers``, ``mode`` (``"a3c"``/``"a2c"``), ``backend`` (``"local"``/``"ray"``), ``address``,
    ``seed``, ``data_dir``, ``membership`` and ``on_exit`` are shorthands for their strategy fields;
    ``set`` takes ``--set`` lines (``["a3c.lr=3e-4"]``). With ``market`` naming several assets and no
    ``strategy``, the market chooses the per-asset strategy (`tradea3c.experiment.choose`).
    ``out``: the run directory (default ``runs/<strategy>-<time>``); ``resume`` continues it
    from its ``latest.pt``; a folder holding a run is refused without ``resume`` or ``overwrite``
    (replace its run files). ``quiet``: no live progress display.
    """
    from tradea3c.experiment import train_strategy
    from tradea3c.experiment.train import STRATEGY_FILE, default_run_dir

    source, data = _market(market)
    saved = Path(out) / STRATEGY_FILE if resume and out is not None else None
    cfg = _strategy(
        strategy, set, saved, market=source, data_dir=data_dir, steps=steps, workers=workers, mode=mode,
        backend=backend, address=address, seed=seed, membership=membership, on_exit=on_exit,
    )  # fmt: skip
    run_dir = Path(out) if out is not None else default_run_dir(cfg)
    return train_strategy(cfg, run_dir, resume=resume, overwrite=overwrite, progress=not quiet, market=data)


def study(
    strategy: str | Path | StrategyConfig | None = None,
    *,
    market: str | Sequence[str] | Market | None = None,
    mode: str = "cross-sectional",
    seeds: Sequence[int] = (0, 1, 2),
    steps: int | None = None,
    train_end: str | None = None,
    val_end: str | None = None,
    folds: int = 0,
    costs: Sequence[float] = (0.0, 5.0, 10.0, 25.0),
    trials: int = 0,
    holdout: float = 0.2,
    backend: str | None = None,
    address: str | None = None,
    data_dir: str | Path | None = None,
    membership: str | Path | None = None,
    set: Sequence[str] = (),  # noqa: A002 - the CLI's --set
    out: str | Path | None = None,
    quiet: bool = False,
) -> StudyResult:
    """Does the strategy beat buy-and-hold? Train it on every ticker of a universe and score each out of
    sample, as ``tradea3c study`` does (`tradea3c.experiment.study.run_study`, then ``study.html``).

    ``mode``: ``"cross-sectional"`` (one agent over the universe, ``holdout`` of the tickers never
    seen in training), ``"per-ticker"`` or ``"portfolio"`` (one portfolio agent per seed on the
    whole universe); ``seeds`` per configuration; ``costs``: the cost sweep
    (flat bps per side); ``trials``: configurations tried so far (deflated Sharpe); ``folds``: anchored
    walk-forward folds instead of ``train_end``/``val_end``. ``market``, ``steps``, ``backend``,
    ``address``, ``data_dir`` and ``set`` as for `train`. ``out``: the study folder (default
    ``studies/<strategy>-<market>-<mode>``); the same call resumes an interrupted study there.
    """
    from tradea3c.experiment.study import StudySpec, run_study
    from tradea3c.experiment.study_report import write_html

    if mode not in ("per-ticker", "cross-sectional", "portfolio"):
        raise ValueError(f"mode {mode!r}: use per-ticker, cross-sectional or portfolio")
    if folds < 0 or (folds and (train_end or val_end)):
        raise ValueError(f"folds {folds}: give folds >= 1 or train_end/val_end, not both")
    source, data = _market(market)
    cfg = _strategy(
        strategy, set, choose=mode == "portfolio", market=source, data_dir=data_dir, train_end=train_end,
        val_end=val_end, steps=steps, backend=backend, address=address, membership=membership,
    )  # fmt: skip
    levels = tuple(float(c) for c in costs)
    spec = StudySpec(cfg, mode, tuple(seeds), levels, holdout, trials, folds)  # type: ignore[arg-type]
    folder = Path(out) if out is not None else _study_dir(cfg, mode)
    result = run_study(spec, folder, market=data, progress=not quiet)
    write_html(result, folder / "study.html")
    return result


def _study_dir(cfg: StrategyConfig, mode: str) -> Path:
    return Path("studies") / f"{cfg.name}-{cfg.market.source.replace(',', '_')[:40]}-{mode}"


def signal(
    runs: str | Path | Sequence[str | Path],
    *,
    date: str | None = None,
    capital: float | None = None,
    positions: str | Path | None = None,
    data_dir: str | Path | None = None,
    max_age_days: int = 4,
    start: str | None = None,
) -> Signal:
    """What a run (several: their ensemble) holds next session and the orders to get there, as
    ``tradea3c signal`` does (`tradea3c.experiment.signal.compute_signal`): ``date`` (default: the
    last cached bar, which must be at most ``max_age_days`` business days old), ``capital`` (cash,
    default 100,000) or ``positions`` (a ``ticker,quantity`` CSV with an optional ``cash`` row),
    ``data_dir`` and ``start`` (the base bar of the policy's own track) as the command's options."""
    from tradea3c.experiment.signal import compute_signal

    return compute_signal(
        runs, date=date, capital=capital, positions=positions, data_dir=data_dir,
        max_age_days=max_age_days, start=start,
    )  # fmt: skip
