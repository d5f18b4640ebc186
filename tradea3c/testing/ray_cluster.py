"""A real multi-node Ray cluster on one machine, for tests and benchmarks of the Ray backend.

Ray binds to the machine's interface address unless it sees nothing but loopback, so the callers
run inside a private network namespace (``unshare -n``); `only_loopback` tells them whether
they already are.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager


def only_loopback() -> bool:
    """True inside a private network namespace (no interface but ``lo``), where Ray stays on 127.0.0.1.
    (Asks the kernel for this namespace's interfaces; /sys/class/net shows the mounter's.)"""
    import socket

    try:
        return {name for _, name in socket.if_nameindex()} <= {"lo"}
    except OSError:
        return False


@contextmanager
def local_cluster(nodes: int = 2, cpus_per_node: int = 1, port: int = 0) -> Iterator[str]:
    """A real multi-node Ray cluster on this machine: ``ray start --head`` plus ``nodes - 1`` more
    ``ray start --address`` nodes, each with its own raylet and ``cpus_per_node`` CPUs; yields the
    head's address and stops every node on exit. For tests and benchmarks; run it inside a private
    network namespace (``unshare -n``, see docs/ray.md) so that Ray binds to loopback only."""
    import socket
    import subprocess
    import sys
    from pathlib import Path

    if not port:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
    ray_cli = str(Path(sys.executable).with_name("ray"))
    env = {**os.environ, "RAY_AUTH_MODE": os.environ.get("RAY_AUTH_MODE", "disabled")}
    common = ["--num-cpus", str(cpus_per_node), "--disable-usage-stats"]

    def run(*args: str) -> None:
        done = subprocess.run([ray_cli, *args], env=env, capture_output=True, text=True, timeout=120)
        if done.returncode:
            raise RuntimeError(f"ray {' '.join(args)} failed: {done.stderr.strip()[-500:]}")

    try:
        run("start", "--head", "--port", str(port), "--include-dashboard", "false", *common)
        for _ in range(nodes - 1):
            run("start", "--address", f"127.0.0.1:{port}", *common)
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray_cli, "stop", "--force"], env=env, capture_output=True, timeout=120)
