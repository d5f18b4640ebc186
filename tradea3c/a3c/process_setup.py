"""Set-up shared by every process that runs a model: worker processes, Ray actors, the evaluator."""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import torch


def configure_torch_for_worker() -> None:
    """One intra-op thread per worker (workers are the parallelism), no denormal slowdown, and
    freed memory kept for the next update (`retain_freed_memory`)."""
    torch.set_num_threads(1)
    torch.set_flush_denormal(True)
    retain_freed_memory()


_RETAINED = False


def retain_freed_memory() -> None:
    """Once per process (Linux, glibc): serve large blocks from the heap and keep freed memory.

    glibc maps every block over 32 MiB freshly and unmaps it when freed, so each [R, H] activation
    of a universe-scale update (~33 MB at 500 items x 320 observations) page-faults its 4 KiB pages
    again on every update: about as costly as the matmul that fills it. With a 1 GiB mmap and trim
    threshold the freed blocks are reused; the process keeps its peak heap instead of returning it.
    """
    global _RETAINED
    if _RETAINED:
        return
    _RETAINED = True
    if sys.platform != "linux":
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 1 << 30)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc (musl): nothing to tune
        pass


def name_process(name: str) -> None:
    """The OS-visible process name (``top``, ``ps -o comm``; Linux only, else a no-op)."""
    try:
        Path("/proc/self/comm").write_text(name[:15])
    except OSError:
        pass
