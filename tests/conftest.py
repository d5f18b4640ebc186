"""Shared fixtures and the capability markers.

Fixtures: no network, a throwaway cache, the shared DJIA-30 CSVs (skipped when absent).

Markers (``-m ray``, ``-m "not browser"``...): a test marked with a capability is skipped, with the
reason, where the machine lacks it; one place decides (`CAPABILITIES`). Tests that use the
``djia_dir`` fixture (or ``djia_market``) are marked ``shared_data`` automatically.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_LOOPBACK = ("127.0.0.1", "::1", "localhost")


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that opens a non-loopback connection (tests must never reach Yahoo)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else None  # unix sockets are local
        if host is not None and host not in _LOOPBACK:
            raise AssertionError(f"test tried to open a network connection to {address!r}")
        return real_connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", guarded)
    monkeypatch.setattr(socket, "getaddrinfo", _no_dns)


def _no_dns(host: object, *args: object, **kwargs: object) -> object:
    if host in _LOOPBACK or host is None:
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", 0))]
    raise AssertionError(f"test tried to resolve {host!r}")


def _has_ray_namespace() -> bool:
    """Ray installed and a private network namespace available (keeps Ray's traffic on loopback)."""
    if importlib.util.find_spec("ray") is None or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "sh", "-c", "ip link set lo up"], capture_output=True)
    return probe.returncode == 0


def _has_atari() -> bool:
    return all(importlib.util.find_spec(m) is not None for m in ("ale_py", "cv2"))


def _has_shared_data() -> bool:
    return (shared_dir() / "data" / "djia30").is_dir()


CAPABILITIES: dict[str, tuple[Callable[[], object], str]] = {
    "ray": (_has_ray_namespace, "needs Ray and a private network namespace (unshare -n, root)"),
    "atari": (_has_atari, 'needs ale-py and opencv (pip install -e ".[atari]")'),
    "browser": (lambda: shutil.which("chromium"), "needs chromium on PATH (apt-get install -y chromium)"),
    "shared_data": (_has_shared_data, "needs ../shared/data/djia30 (or $TRADEA3C_SHARED)"),
}


@functools.cache
def has(capability: str) -> bool:
    return bool(CAPABILITIES[capability][0]())


def run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    """Headless Chromium (from PATH) with ``args``, offline and with a throwaway profile (tests that
    call it are marked ``browser``)."""
    cmd = [
        shutil.which("chromium") or "chromium",
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if "djia_dir" in getattr(item, "fixturenames", ()):
            item.add_marker("shared_data")
        for name, (_, reason) in CAPABILITIES.items():
            if item.get_closest_marker(name) is not None and not has(name):
                item.add_marker(pytest.mark.skip(reason=reason))


def descendants(pid: int) -> dict[int, str]:
    """Live (not zombie) descendants of ``pid`` with their OS process names."""
    import psutil

    out: dict[int, str] = {}
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return out
    for child in children:
        try:
            if child.status() != psutil.STATUS_ZOMBIE:
                out[child.pid] = child.name()
        except psutil.NoSuchProcess:
            continue
    return out


def alive(pid: int) -> bool:
    """The process exists and is not a zombie."""
    import psutil

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def signal_strategy(tmp_path: Path, extra: str = "", checkpoint_every: int = 1000) -> Path:
    """The shipped planted-signal strategy (``signal.toml``), written to ``tmp_path`` with a checkpoint
    every ``checkpoint_every`` steps, no TensorBoard and ``extra`` lines added to its ``[a3c]`` table."""
    from tradea3c.resources import shipped_dir

    path = tmp_path / "s.toml"
    text = shipped_dir().joinpath("signal.toml").read_text()
    head = f"[a3c]\ncheckpoint_every = {checkpoint_every}\ntensorboard = false\n{extra}"
    path.write_text(text.replace("[a3c]\n", head))
    return path


def train_tiny(run_dir: Path, strategy: str = "signal", seed: int = 0, steps: int = 1000, **a3c: Any) -> Path:
    """A tiny run of a shipped strategy: one worker (in-process, bit-reproducible), ``steps`` steps,
    validation every ``steps // 2``, no TensorBoard; ``a3c`` overrides more `A3CConfig` fields."""
    from dataclasses import replace

    from tradea3c.experiment import load_strategy, train_strategy

    cfg = load_strategy(strategy)
    tiny = {"workers": 1, "total_steps": steps, "tensorboard": False, "seed": seed, "eval_every": steps // 2}
    train_strategy(replace(cfg, a3c=replace(cfg.a3c, **{**tiny, **a3c})), run_dir, progress=False)
    return run_dir


@pytest.fixture(scope="session")
def tiny_runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[int], Path]:
    """``tiny_runs(seed)``: the planted-signal strategy trained tiny (`train_tiny`) with that seed, once
    per session and seed, shared by every test that only reads it (backtests, reports, ensembles)."""
    root, runs = tmp_path_factory.mktemp("tiny-signal"), {}

    def get(seed: int = 0) -> Path:  # the run directory is named s<seed>
        if seed not in runs:
            runs[seed] = train_tiny(root / f"s{seed}", seed=seed)
        return runs[seed]

    return get


@pytest.fixture(scope="session")
def tiny_run(tiny_runs: Callable[[int], Path]) -> Path:
    """The shared tiny planted-signal run, seed 0 (read it, never write into it)."""
    return tiny_runs(0)


def shared_dir() -> Path:
    env = os.environ.get("TRADEA3C_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def djia_dir() -> Path:
    d = shared_dir() / "data" / "djia30"
    if not d.is_dir():
        pytest.skip(f"shared DJIA-30 data not found at {d}")
    return d


@functools.cache
def _djia(directory: Path, tickers: tuple[str, ...]) -> object:
    from tradea3c.data import load_csv_market

    return load_csv_market(directory, tickers=list(tickers))


@pytest.fixture
def djia_market(djia_dir: Path) -> Callable[[list[str]], object]:
    """``djia_market(["AAPL", "JPM"])``: those members of the shared DJIA-30 CSVs as a `Market`
    (loaded once per session and ticker set; the test is skipped where the data is absent)."""
    return lambda tickers: _djia(djia_dir, tuple(tickers))


@pytest.fixture
def tmp_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("TRADEA3C_DATA", str(d))
    return d
