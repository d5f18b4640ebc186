"""Folder locks (`tradea3c.locks`): one holder at a time, the holder named, released when it dies."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tradea3c.locks import OWNER_FILE, FolderLockedError, check_free, folder_lock

HOLD = """
import sys, time
from tradea3c.locks import folder_lock
with folder_lock(sys.argv[1], "a test", "wait"):
    print("held", flush=True)
    time.sleep(600)
"""


def test_a_second_holder_is_refused_naming_the_first(tmp_path: Path) -> None:
    with folder_lock(tmp_path / "f", "training", "pass another --out"):
        assert (tmp_path / "f" / OWNER_FILE).read_text().strip() == str(os.getpid())
        with pytest.raises(
            FolderLockedError, match=rf"f is in use by PID {os.getpid()} \(training\); pass another"
        ):
            check_free(tmp_path / "f", "training", "pass another --out")
    check_free(tmp_path / "f", "training", "pass another --out")  # released
    assert not (tmp_path / "f" / OWNER_FILE).exists()


def test_a_killed_holder_frees_the_folder(tmp_path: Path) -> None:
    proc = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with pytest.raises(FolderLockedError, match=f"PID {proc.pid}"):
            check_free(tmp_path, "a test", "wait")
    finally:
        proc.kill()
        proc.wait(timeout=30)
    deadline = time.monotonic() + 10
    while True:  # the kernel drops the lock with the process (its PID file stays behind: harmless)
        try:
            with folder_lock(tmp_path, "a test", "wait"):
                break
        except FolderLockedError:
            assert time.monotonic() < deadline
            time.sleep(0.1)
