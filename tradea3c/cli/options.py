"""Options shared by several commands (one help text, one spelling)."""

from __future__ import annotations

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
