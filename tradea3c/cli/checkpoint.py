"""CLI: `tradea3c checkpoint upgrade` (a thin wrapper over `tradea3c.a3c.checkpoint.upgrade_checkpoint`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from tradea3c.cli._fail import fail

checkpoint_app = typer.Typer(no_args_is_help=True)


@checkpoint_app.command("upgrade")
def upgrade(
    path: Annotated[
        Path, typer.Argument(help="A FORMAT 1 checkpoint, or a run directory (its best.pt and latest.pt).")
    ],
    trust_pickle: Annotated[
        bool,
        typer.Option(
            "--trust-pickle",
            help="Required: reading an old checkpoint unpickles it, which runs any code it contains. "
            "Pass it only for checkpoints you produced yourself.",
        ),
    ] = False,
) -> None:
    """Convert old (FORMAT 1, pickle) checkpoints to FORMAT 2 (plain data, loaded with weights_only).

    Each file is upgraded in place; its original bytes are kept next to it as NAME.v1.pt."""
    from tradea3c.a3c.checkpoint import CheckpointError
    from tradea3c.a3c.checkpoint.upgrade import upgrade_checkpoint

    files = [path / n for n in ("best.pt", "latest.pt") if (path / n).is_file()] if path.is_dir() else [path]
    if not files:
        raise fail(f"{path}: no best.pt or latest.pt in this run directory")
    if not trust_pickle:
        raise fail(
            f"{path}: upgrading unpickles the old checkpoint, which runs any code it contains; "
            "re-run with --trust-pickle only if you produced it yourself"
        )
    for file in files:
        try:
            res = upgrade_checkpoint(file, trust_pickle=True)
        except (CheckpointError, OSError) as exc:
            raise fail(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None
        if res.upgraded:
            typer.echo(f"upgraded {res.path} to FORMAT 2; original kept at {res.original}")
        else:
            typer.echo(f"{res.path} already is FORMAT 2; left as is")
