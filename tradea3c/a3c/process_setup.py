"""Set-up shared by every process that runs a model: worker processes, Ray actors, the evaluator."""

from __future__ import annotations

from pathlib import Path

import torch


def configure_torch_for_worker() -> None:
    """One intra-op thread per worker (workers are the parallelism) and no denormal slowdown."""
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)


def name_process(name: str) -> None:
    """The OS-visible process name (``top``, ``ps -o comm``; Linux only, else a no-op)."""
    try:
        Path("/proc/self/comm").write_text(name[:15])
    except OSError:
        pass
