"""CLI: demo commands (filled in by the stage that owns them)."""

from __future__ import annotations

import typer


def demo() -> None:
    raise typer.Exit(2)
