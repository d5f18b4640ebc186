"""CLI: data commands (filled in by the stage that owns them)."""

from __future__ import annotations

import typer

data_app = typer.Typer(no_args_is_help=True)


def fetch() -> None:
    raise typer.Exit(2)
