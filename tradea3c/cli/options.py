"""Options shared by several commands (one help text, one spelling)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

import typer

BACKEND_HELP = "local (worker processes on this machine) | ray (worker actors on a Ray cluster)."
ADDRESS_HELP = "Ray cluster address: auto | HOST:PORT (default: a private local Ray instance)."

Backend = Annotated[str | None, typer.Option(help=BACKEND_HELP)]
Address = Annotated[str | None, typer.Option(help=ADDRESS_HELP)]

MEMBERSHIP_HELP = (
    "Index membership over time: a CSV (ticker,start,end) or 'pit' (the universe's point-in-time "
    "source: pitindex for sp500); default: pit where there is one, else today's members."
)
ON_EXIT_HELP = "A holding that leaves the index: sell (at the next fill) | hold (until the next rebalance)."

Membership = Annotated[str | None, typer.Option(help=MEMBERSHIP_HELP)]
OnExit = Annotated[str | None, typer.Option(help=ON_EXIT_HELP)]


def _at_least_one(flag: str, also: Callable[[int, str], None] | None = None):  # noqa: ANN202
    """A typer callback refusing ``flag`` values below 1 in one line, exit 2; ``also(value, flag)``
    may refuse more (a ValueError whose text is the line)."""

    def check(value: int | None) -> int | None:
        from tradea3c.cli._fail import fail

        if value is None:
            return value
        if value < 1:
            raise fail(f"{flag} {value}: {flag} must be >= 1 (leave it out for the default)")
        if also is not None:
            try:
                also(value, flag)
            except ValueError as exc:
                raise fail(str(exc)) from None
        return value

    return check


def _k_cap(value: int, flag: str) -> None:
    from tradea3c.experiment.strategy import check_envs_per_worker  # heavy: only when the flag is given

    check_envs_per_worker(value, flag)


WORKERS_HELP = "Worker processes, >= 1 (default: the strategy's; its 0 = number of cores)."
ENVS_PER_WORKER_HELP = "K perturbed replays per worker (vector env), 1..4096."

Workers = Annotated[int | None, typer.Option(help=WORKERS_HELP, callback=_at_least_one("--workers"))]
EnvsPerWorker = Annotated[
    int | None,
    typer.Option(help=ENVS_PER_WORKER_HELP, callback=_at_least_one("--envs-per-worker", _k_cap)),
]
