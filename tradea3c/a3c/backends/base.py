"""The one interface every backend implements, and the one loop that supervises them.

A backend runs the workers' updates somewhere (local Hogwild processes, this process, Ray actors);
the trainer does the rest the same way for all of them::

    backend.start(co)              # start every worker on the coordinator's shared model
    supervise(co, backend)         # until the budget is spent or the run stops:
        backend.poll(timeout)      #   worker reports, finished workers, workers that died
        backend.restart(i, n)      #   a dead worker started again (n-th time), or the run goes on
        co.tick()                  #   evaluations, checkpoints, logs, progress
        backend.request_stop()     #   should_stop / Ctrl-C: workers finish their update and stop
    backend.stop()                 # end the workers; their last reports reach the coordinator
    backend.sync()                 # (before every checkpoint) the model in co holds the real weights
    backend.close()                # release what outlived the workers (Ray: the learner, the instance)

A worker that *raises* stops the run: the backend raises [`WorkerError`][] from ``poll`` with
the worker's traceback. A worker that *dies* without a word (SIGKILL, the OOM killer, a Ray node
lost) is reported as `Died`; `supervise` starts it again up to
``A3CConfig.worker_restarts`` times (with a fresh seed stream, see ``tradea3c.a3c.seeding``), then
lets the run go on with fewer workers, saying so on one line and in ``summary.json``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from tradea3c.a3c.update import UpdateStats

if TYPE_CHECKING:
    from tradea3c.a3c.coordinator import Coordinator

log = logging.getLogger(__name__)

EnvFactory = Callable[[int], Any]
"""``factory(worker_index) -> env``: a Gymnasium Env or VectorEnv; picklable (module-level or a
small frozen dataclass) so worker processes and actors can call it."""


class WorkerError(RuntimeError):
    """A worker raised or died (and could not be replaced); training was stopped."""


@dataclass
class Report:
    """Worker ``stats.worker`` did these updates since its last report."""

    stats: UpdateStats


@dataclass
class Finished:
    """Worker ``worker`` stopped on its own: budget spent or stop requested."""

    worker: int


@dataclass
class Died:
    """Worker ``worker`` is gone without an error (``why``: exit code, Ray's reason)."""

    worker: int
    why: str


Event = Report | Finished | Died


class Backend(Protocol):
    """Where the workers run. Implemented by ``processes.py``, ``inprocess.py`` and ``ray.py``."""

    name: str
    """"local" or "ray" (``summary.json``'s ``backend.name``)."""
    worker_noun: str
    """What a worker is here, for messages: "A3C worker process", "Ray worker actor"."""

    def start(self, co: Coordinator) -> list[int]:
        """Start every worker on ``co``'s shared model, optimiser and step counter; their indices."""
        ...

    def restart(self, worker: int, restart: int) -> None:
        """Start worker ``worker`` again after it died (``restart`` = 1, 2, ...)."""
        ...

    def poll(self, timeout: float) -> list[Event]:
        """What happened since the last call, waiting up to ``timeout`` s for something."""
        ...

    def request_stop(self) -> None:
        """Ask the workers to stop after their current update."""
        ...

    def stop(self) -> None:
        """End every worker (after the loop, also on errors); their last reports go to ``co``."""
        ...

    def sync(self) -> None:
        """Make ``co.model``/``co.optimizer`` hold the current weights (before a checkpoint)."""
        ...

    def close(self) -> None:
        """Release everything, after the final checkpoint."""
        ...

    def info(self, restarts: dict[int, int]) -> dict[str, Any]:
        """Backend facts for ``summary.json`` (``restarts``: per worker, from `supervise`)."""
        ...


def supervise(co: Coordinator, backend: Backend, restarts: dict[int, int], poll_s: float = 0.05) -> None:
    """Run ``backend``'s workers to the end of the budget (or a stop), counting each worker's
    restarts in ``restarts`` (filled as it goes, so a failed run's summary has them too)."""
    alive = set(backend.start(co))  # not dead: running or finished
    restarts.update(dict.fromkeys(alive, 0))
    running = set(alive)
    try:
        while running:
            for event in backend.poll(poll_s):
                if isinstance(event, Report):
                    co.on_stats(event.stats)
                elif isinstance(event, Finished):
                    running.discard(event.worker)
                elif co.worker_died(event.worker, event.why, restarts, len(alive)):
                    backend.restart(event.worker, restarts[event.worker])
                else:
                    running.discard(event.worker)
                    alive.discard(event.worker)
                    if not alive:
                        raise WorkerError(f"every {backend.worker_noun} died; training stopped.")
            co.tick()
            if co.stop_requested:
                backend.request_stop()
    finally:
        backend.stop()


def last_line(text: str) -> str:
    """The last non-empty line of a traceback: the exception, for a one-line message."""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"
