"""CLI: train commands (filled in by the stage that owns them)."""

from __future__ import annotations

import typer


def train() -> None:
    raise typer.Exit(2)
