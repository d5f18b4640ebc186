"""Provenance (``tradea3c.backtest.provenance``): the git commit of the tree, or "not in git"."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tradea3c.backtest.provenance import NOT_IN_GIT, git_commit

ROOT = Path(__file__).resolve().parents[2]


def test_git_commit_or_not_in_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    if shutil.which("git") and (ROOT / ".git").exists():
        commit, tree = git_commit(ROOT)
        assert re.fullmatch(r"[0-9a-f]{40}( \+ uncommitted changes)?", commit) and Path(tree) == ROOT
    assert git_commit(tmp_path / "run", None) == (NOT_IN_GIT, "") or _inside_git(tmp_path)
    monkeypatch.setattr("tradea3c.backtest.provenance.shutil.which", lambda name: None)
    assert git_commit(ROOT) == (NOT_IN_GIT, "")


def _inside_git(path: Path) -> bool:  # a tmp dir inside some git work tree (unusual)
    return any((p / ".git").exists() for p in [path, *path.parents])
