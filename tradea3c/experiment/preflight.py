"""Pre-flight: everything about a training run that can be known before its workers start.

A problem found here is one line naming the input and the fix, raised before the run directory
is created, so a refused run leaves nothing behind (instead of a worker's traceback minutes later).
"""

from __future__ import annotations

import pandas as pd

from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, EnvConfig
from tradea3c.envs.make import make_env
from tradea3c.envs.profiles import WorkerProfile


class PreflightError(ValueError):
    """A run that cannot work as configured (one line: the input and the fix)."""


def _day(x: object) -> str:
    return str(pd.Timestamp(x).date())  # type: ignore[arg-type]


def _storable(value: str, flag: str, span: str) -> None:
    """A date pandas can hold in nanoseconds (1677-09-22..2262-04-11); beyond it every comparison
    with the market's dates would wrap around silently."""
    try:
        day = pd.Timestamp(value)
    except (ValueError, OverflowError):
        raise PreflightError(f"{flag} {value} is not a date; use an ISO date inside {span}") from None
    if not pd.Timestamp.min <= day <= pd.Timestamp.max:
        raise PreflightError(
            f"{flag} {value} is out of range: dates must lie between {_day(pd.Timestamp.min.ceil('D'))} "
            f"and {_day(pd.Timestamp.max)}; set {flag} inside the market ({span})"
        )


def check_split(market: Market, split: DateSplit) -> None:
    """Training, validation and test ranges all hold bars of ``market`` (a run with no test range
    would train and only then find nothing to test on)."""
    span = f"{_day(market.dates[0])}..{_day(market.dates[-1])}"
    _storable(split.train_end, "--train-end", span)
    _storable(split.val_end, "--val-end", span)
    for name, flag in (("train", "--train-end"), ("val", "--val-end")):
        try:
            split.bounds(market, name)
        except ValueError:
            raise PreflightError(
                f"the {name} range (train <= {split.train_end} < val <= {split.val_end}) has no bars of "
                f"the market ({span}); set {flag} inside {span}"
            ) from None
    try:
        split.bounds(market, "test")
    except ValueError:
        raise PreflightError(
            f"--val-end {split.val_end} leaves no test range: the market ({span}) ends on or before it; "
            f"set --val-end before {_day(market.dates[-1])} so that bars remain to test on"
        ) from None


def check_training_run(
    market: Market, env_config: EnvConfig, split: DateSplit, profiles: tuple[WorkerProfile, ...]
) -> None:
    """Refuse what would only fail inside a worker or the evaluator: an empty market, a split with
    no bars, a training range too short for a profile's window and episode length, a validation
    range too short for the evaluation env. Builds each distinct env once (features included)."""
    if market.n_assets == 0 or market.n_bars < 2:
        raise PreflightError(f"market {market!r} has no data to train on; fetch or import it first")
    check_split(market, split)
    configs = {p.name: p.apply(env_config) for p in profiles} or {"": env_config}
    for name, cfg in configs.items():
        try:
            make_env(market, cfg, split, "train").close()
        except ValueError as exc:
            who = f"worker profile {name!r}: " if name else ""
            raise PreflightError(f"{who}{exc}") from None
    try:
        make_env(market, env_config.for_evaluation(), split, "val").close()
    except ValueError as exc:
        raise PreflightError(f"validation env: {exc}") from None
