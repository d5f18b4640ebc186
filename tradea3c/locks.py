"""Exclusive folder locks: one process per run folder, study folder or cache at a time.

The lock is an OS file lock (`filelock`), so the kernel releases it when its holder dies, even by
SIGKILL: a stale lock file never blocks a later run. The holder's PID is written next to it so
that the process turned away can say who holds the folder.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

from filelock import FileLock, Timeout

LOCK_FILE = ".tradea3c.lock"
OWNER_FILE = ".tradea3c.lock.pid"
LOCK_FILES = (LOCK_FILE, OWNER_FILE)
"""File names a locked folder holds besides its content (not part of a run or a study)."""


class FolderLockedError(ValueError):
    """Another live process holds the folder (one line: which folder, which PID, what to do)."""


def _holder(folder: Path) -> str:
    try:
        pid = (folder / OWNER_FILE).read_text().strip()
    except OSError:
        pid = ""
    return f"PID {pid}" if pid.isdigit() else "another process"


@contextlib.contextmanager
def folder_lock(folder: str | Path, what: str, fix: str) -> Iterator[None]:
    """Hold ``folder`` (created if missing) exclusively; raise `FolderLockedError` at once when a
    live process holds it: ``{folder} is in use by PID N ({what}); {fix}``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    lock = FileLock(folder / LOCK_FILE, timeout=0)
    try:
        lock.acquire()
    except Timeout:
        raise FolderLockedError(f"{folder} is in use by {_holder(folder)} ({what}); {fix}") from None
    try:
        with contextlib.suppress(OSError):
            (folder / OWNER_FILE).write_text(f"{os.getpid()}\n")
        yield
    finally:
        with contextlib.suppress(OSError):
            (folder / OWNER_FILE).unlink()
        lock.release()


def check_free(folder: str | Path, what: str, fix: str) -> None:
    """Raise `FolderLockedError` if a live process holds ``folder`` (creates nothing): so that a busy
    folder is reported as busy before anything else is said about its content."""
    if (Path(folder) / LOCK_FILE).is_file():
        with folder_lock(folder, what, fix):
            pass
