"""Where the CLI shows library events: the ``tradea3c`` loggers (INFO and up) as plain lines on
stderr through one rich handler, attached once by the app's callback (`show_library_events`).

The library only logs (``logging.getLogger(__name__)`` per module: a universe member left out, an
Atari game finished, a worker restarted); a library caller decides where that goes, the CLI
decides here. stderr keeps stdout for the data of ``--json``. ``--quiet`` turns off live progress
displays, not these lines.
"""

from __future__ import annotations

import logging
from typing import Any

from rich.console import Console
from rich.logging import RichHandler

LOGGER = "tradea3c"


class _LineHandler(RichHandler):
    """A `RichHandler` that prints each message as it is, one line (no time/level/path columns,
    no wrapping at the console width; highlighted on a terminal)."""

    def render(self, *, record: logging.LogRecord, traceback: Any, message_renderable: Any) -> Any:
        if traceback is not None:
            return super().render(record=record, traceback=traceback, message_renderable=message_renderable)
        return message_renderable


def show_library_events(level: int = logging.INFO) -> None:
    """Show the ``tradea3c`` loggers' records at ``level`` and up on stderr (idempotent: one handler
    however often the app runs in one process, as under typer's CliRunner)."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level)
    if any(isinstance(h, _LineHandler) for h in logger.handlers):
        return
    console = Console(stderr=True, soft_wrap=True)
    logger.addHandler(
        _LineHandler(
            level,
            console=console,
            show_time=False,
            show_level=False,
            show_path=False,
            markup=False,
            rich_tracebacks=False,
        )
    )
