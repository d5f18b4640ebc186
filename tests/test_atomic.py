"""tradea3c.atomic: writes that leave the previous file intact."""

from __future__ import annotations

from pathlib import Path

import pytest

from tradea3c.atomic import atomic_path, atomic_write_text


def test_atomic_write_keeps_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "f.txt"
    atomic_write_text(target, "old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("partial new content")
            raise RuntimeError("crash mid-write")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]  # temp file cleaned up


def test_atomic_write_gives_normal_permissions(tmp_path: Path) -> None:
    import os

    target = tmp_path / "report.html"
    atomic_write_text(target, "x")
    mask = os.umask(0)
    os.umask(mask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~mask
