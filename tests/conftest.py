"""Shared fixtures: no network, a throwaway cache, the shared DJIA-30 CSVs (skipped when absent)."""

from __future__ import annotations

import os
import socket
from pathlib import Path

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


def shared_dir() -> Path:
    env = os.environ.get("TRADEA3C_SHARED")
    return Path(env) if env else Path(__file__).resolve().parents[2] / "shared"


@pytest.fixture
def djia_dir() -> Path:
    d = shared_dir() / "data" / "djia30"
    if not d.is_dir():
        pytest.skip(f"shared DJIA-30 data not found at {d}")
    return d


@pytest.fixture
def tmp_data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    d = tmp_path / "cache"
    monkeypatch.setenv("TRADEA3C_DATA", str(d))
    return d
