"""CLI: bench commands (filled in by the stage that owns them)."""

from __future__ import annotations

import typer

bench_app = typer.Typer(no_args_is_help=True)
