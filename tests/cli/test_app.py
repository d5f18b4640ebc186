"""The ``tradea3c`` app (``tradea3c.cli``): ``--version`` and shell completion."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner


def test_version() -> None:
    from tradea3c._version import __version__
    from tradea3c.cli import app

    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout == f"tradea3c {__version__}\n"


def test_shell_completion_script(monkeypatch: pytest.MonkeyPatch) -> None:
    from tradea3c.cli import app

    # typer's switch for naming the shell instead of detecting it (detection fails with no parent shell)
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    res = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="tradea3c")
    assert res.exit_code == 0, res.output
    assert "_tradea3c_completion()" in res.stdout and "_TRADEA3C_COMPLETE=complete_bash" in res.stdout
    exe = Path(sys.executable).parent / "tradea3c"
    if exe.exists():  # the installed console script, through the environment variable
        env = {"_TRADEA3C_COMPLETE": "source_bash", "PATH": str(exe.parent)}
        out = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0 and "_tradea3c_completion()" in out.stdout, out.stderr
