"""Options shared by several commands (one help text, one spelling)."""

from __future__ import annotations

from typing import Annotated

import typer

BACKEND_HELP = "local (worker processes on this machine) | ray (worker actors on a Ray cluster)."
ADDRESS_HELP = "Ray cluster address: auto | HOST:PORT (default: a private local Ray instance)."

Backend = Annotated[str | None, typer.Option(help=BACKEND_HELP)]
Address = Annotated[str | None, typer.Option(help=ADDRESS_HELP)]
