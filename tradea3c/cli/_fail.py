"""The one way a CLI command fails on bad input or a failed run: one line on stderr, an exit code."""

from __future__ import annotations

import typer

USAGE = 2
"""Exit code for bad input (a wrong flag value, a missing file): nothing was started."""
RUN_FAILED = 1
"""Exit code for a run that started and failed (a worker error, a full disk)."""


def fail(message: str, code: int = USAGE) -> typer.Exit:
    """Print ``error: <message>`` on stderr and return the ``typer.Exit`` to raise."""
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)
