"""The reproducibility block of a report: code version, package versions, data, command line.

``git``: the commit (``+ uncommitted changes`` when tracked files differ from it) of the git work
tree holding the run directory, else of the one holding the current directory, else
``"not in git"`` (also when git is not installed). Git is only read (``GIT_OPTIONAL_LOCKS=0``: no
index refresh is written).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("tradea3c", "torch", "numpy", "pandas", "gymnasium", "quantstats")
NOT_IN_GIT = "not in git"


def _git(args: list[str], where: Path) -> str | None:
    try:
        out = subprocess.run(
            ["git", "-C", str(where), *args],
            capture_output=True,
            text=True,
            timeout=10,
            env={**os.environ, "GIT_OPTIONAL_LOCKS": "0", "GIT_TERMINAL_PROMPT": "0"},
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def git_commit(*dirs: str | Path | None) -> tuple[str, str]:
    """``(commit description, work tree)`` of the first of ``dirs`` inside a git work tree, or
    ``("not in git", "")``."""
    if shutil.which("git") is None:
        return NOT_IN_GIT, ""
    for d in dirs:
        if d is None:
            continue
        where = Path(d).resolve()
        while not where.is_dir() and where != where.parent:
            where = where.parent
        top = _git(["rev-parse", "--show-toplevel"], where)
        head = _git(["rev-parse", "HEAD"], where) if top else None
        if top and head:
            dirty = _git(["status", "--porcelain", "--untracked-files=no"], where)
            return head + (" + uncommitted changes" if dirty else ""), top
    return NOT_IN_GIT, ""


def package_versions(names: tuple[str, ...] = PACKAGES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def command_line(argv: list[str] | None = None) -> str:
    """The process's command line, the program as its file name (``tradea3c backtest ...``)."""
    argv = list(sys.argv if argv is None else argv)
    if argv:
        argv[0] = Path(argv[0]).name
    return shlex.join(argv)


def provenance(run_dir: str | Path | None, fingerprint: str, command: str | None = None) -> dict[str, Any]:
    """The reproducibility block: git, package versions, the data fingerprint, the command line."""
    commit, tree = git_commit(run_dir, Path.cwd())
    return {
        "git": commit,
        "git_work_tree": tree,
        "packages": package_versions(),
        "python": sys.version.split()[0],
        "data_fingerprint": fingerprint,
        "command": command if command is not None else command_line(),
    }
