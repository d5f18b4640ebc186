"""Running Ray: a scenario of ``ray_scenarios.py`` in a private network namespace (loopback only)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def ray_scenario(name: str, out: Path, timeout: int = 540) -> dict[str, Any]:
    """Run ``ray_scenarios.py NAME OUT`` under ``unshare -n`` (Ray then binds to 127.0.0.1 only) and
    return the ``OUT/result.json`` it writes. Tests that call it are marked ``ray``."""
    cmd = f"ip link set lo up; exec {sys.executable} {HERE / 'ray_scenarios.py'} {name} {out}"
    done = subprocess.run(["unshare", "-n", "sh", "-c", cmd], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-4000:]
    return json.loads((out / "result.json").read_text())
