"""Local Hogwild processes (``backend = "local"``, ``workers > 1``): the A3C paper's setting.

Each worker is a process running `worker_main`: it owns its envs and a private copy of the
model, and every `update` writes into the parameters and
optimiser statistics that live in shared memory, without locks. The main process only coordinates:
it reads the workers' reports from a queue and watches their exit codes.

Start method: ``forkserver`` by default. Plain ``fork`` is fastest but copies a parent that may
already run OpenMP/intra-op threads, TensorBoard writer threads and queue feeder threads, and
forking a multi-threaded process can deadlock the child; ``forkserver`` forks workers from a clean
single-threaded server (torch preloaded once), at a fraction of ``spawn``'s start-up cost. Both
need picklable env factories, model factories and evaluate functions (module-level functions,
``functools.partial`` or small dataclasses). ``fork`` and ``spawn`` remain configurable.
"""

from __future__ import annotations

import os
import queue as queue_mod
import signal
import time
import traceback
from typing import TYPE_CHECKING, Any

from tradea3c.a3c.backends.base import Died, EnvFactory, Event, Finished, Report, WorkerError, last_line
from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.process_setup import configure_torch_for_worker, name_process
from tradea3c.a3c.rollout import EnvBatch
from tradea3c.a3c.seeding import seed_process, worker_seed
from tradea3c.a3c.update import NonFiniteError, UpdateStats, Worker

if TYPE_CHECKING:
    from tradea3c.a3c.coordinator import Coordinator

STOP_GRACE_S = 5.0
"""How long stopped workers may take to send their last reports before they are killed."""


class ProcessesBackend:
    """``cfg.num_workers`` Hogwild worker processes on this machine."""

    name = "local"
    worker_noun = "A3C worker process"

    def __init__(self, cfg: A3CConfig, env_factory: EnvFactory, ctx: Any) -> None:
        self.cfg, self.env_factory, self.ctx = cfg, env_factory, ctx
        self.stop_event, self.queue = ctx.Event(), ctx.Queue()
        self.procs: dict[int, Any] = {}
        self.all_procs: list[Any] = []
        self.done: set[int] = set()
        self.co: Coordinator | None = None

    def _spawn(self, i: int, restart: int) -> None:
        co = self.co
        assert co is not None
        p = self.ctx.Process(
            target=worker_main,
            name=f"a3c-worker-{i}",
            daemon=True,
            args=(
                i,
                self.cfg,
                self.env_factory,
                co.model,
                co.optimizer,
                co.global_step,
                self.stop_event,
                self.queue,
                co.epoch,
                restart,
            ),
            kwargs={"target": co.target},
        )
        p.start()
        self.procs[i] = p
        self.all_procs.append(p)

    def start(self, co: Coordinator) -> list[int]:
        self.co = co
        for i in range(self.cfg.num_workers):
            self._spawn(i, 0)
        return list(self.procs)

    def restart(self, worker: int, restart: int) -> None:
        self._spawn(worker, restart)

    def _drain(self, timeout: float, events: list[Event]) -> None:
        """Messages from the queue into ``events``: wait up to ``timeout`` s for the first one."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                if timeout:
                    msg = self.queue.get(timeout=max(deadline - time.monotonic(), 0.0))
                else:
                    msg = self.queue.get_nowait()
            except queue_mod.Empty:
                return
            if msg[0] == "stats":
                events.append(Report(msg[1]))
            elif msg[0] == "done":
                self.done.add(msg[1])
                events.append(Finished(msg[1]))
            elif msg[0] == "nonfinite":
                raise NonFiniteError(*msg[2:])
            else:
                raise WorkerError(
                    f"A3C worker {msg[1]} failed ({last_line(msg[2])}); training stopped.\n"
                    f"Worker traceback:\n{msg[2]}"
                )
            timeout = 0.0

    def poll(self, timeout: float) -> list[Event]:
        events: list[Event] = []
        self._drain(timeout, events)
        for i, p in list(self.procs.items()):
            if i not in self.done and p.exitcode is not None:
                self._drain(0.5, events)  # its last message may still be in the pipe
                if i in self.done:
                    continue
                del self.procs[i]
                events.append(Died(i, f"exit code {p.exitcode}"))
        return events

    def request_stop(self) -> None:
        self.stop_event.set()

    def stop(self) -> None:
        self.stop_event.set()
        deadline = time.monotonic() + STOP_GRACE_S
        while any(p.is_alive() for p in self.all_procs) and time.monotonic() < deadline:
            try:
                msg = self.queue.get(timeout=0.05)
                if msg[0] == "stats" and self.co is not None:
                    self.co.on_stats(msg[1])
            except queue_mod.Empty:
                pass
        for p in self.all_procs:
            if p.is_alive():
                p.kill()
            p.join(2.0)
        self.queue.close()
        self.queue.cancel_join_thread()

    def sync(self) -> None:
        """Nothing to do: the shared weights are the model's own."""

    def close(self) -> None:
        """Nothing outlives the worker processes."""

    def info(self, restarts: dict[int, int]) -> dict[str, Any]:
        return {"restarts": restarts}


def worker_main(
    index: int,
    cfg: A3CConfig,
    env_factory: EnvFactory,
    shared: Any,
    optimizer: Any,
    global_step: Any,
    stop: Any,
    queue: Any,
    epoch: int,
    restart: int = 0,
    report_every_s: float = 0.5,
    target: Any = None,
) -> None:
    """Entry point of a worker process: loop updates until the budget is spent or ``stop`` is set.

    Messages to the trainer: ("stats", UpdateStats), ("done", index), ("nonfinite", index, what,
    value, step) or ("error", index, traceback). The worker exits on its own if the trainer process
    dies (no orphans after a SIGKILL).
    """
    import multiprocessing as mp

    # Ctrl-C and SIGTERM (sent to the whole process group by `timeout`, SLURM) are handled by the
    # trainer, which stops the workers itself
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = mp.parent_process()
    try:
        name_process(f"a3c-worker-{index}")
        configure_torch_for_worker()
        seed = worker_seed(cfg.seed, index, epoch, restart)
        seed_process(seed)
        envs = EnvBatch([env_factory(index)])
        worker = Worker(index, cfg, envs, shared, optimizer, global_step, seed, target=target)
        stats, last = UpdateStats(index), time.monotonic()
        while not stop.is_set():
            step = worker.update(stats)
            now = time.monotonic()
            if now - last >= report_every_s or step >= cfg.total_steps:
                queue.put(("stats", stats))
                stats, last = UpdateStats(index), now
                if parent is not None and not parent.is_alive():
                    os._exit(3)
            if step >= cfg.total_steps:
                break
        if stats.updates:
            queue.put(("stats", stats))
        envs.close()
        queue.put(("done", index))
    except NonFiniteError as exc:  # one line in the trainer, no traceback here
        queue.put(("nonfinite", index, exc.what, exc.value, exc.step))
    except BaseException:
        queue.put(("error", index, traceback.format_exc()))
        raise
