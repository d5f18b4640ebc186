"""The Ray backend (``A3CConfig.backend = "ray"``): A3C workers beyond one machine.

Read top to bottom:

1. `Learner` is one actor, the parameter server. It owns the global network and the optimiser
   (the same `make_optimizer` as the local backend, so checkpoints are interchangeable) and
   applies gradients one at a time, in arrival order: asynchronous A3C, with a queue in front of the
   weights instead of Hogwild's lock-free writes. Each `Learner.apply` returns the new weights,
   so one round trip per update both pushes a gradient and pulls fresh weights. In the
   value-based modes it also keeps the target network (synced every ``target_sync`` steps) and
   returns it to a worker whose copy is older.
2. `RolloutWorker` actors (one CPU each) own their envs, built by the same env factory as
   the local backend (perturbed replays, profiles, seeds from ``tradea3c.a3c.seeding``), and a
   private model. An update is exactly the local worker's: roll out ``t_max`` steps, the same loss
   and clipping (`compute_gradients`), then the round trip. The env
   factory (the market with it) is put into the object store once and reaches each node once.
3. `RayBackend` is the driver side, supervised by the same loop as every backend
   (``backends/base.py``). It keeps the run directory, evaluator, checkpoints and progress
   in a `Coordinator` exactly as the local backend does, mirroring the learner's weights
   about twice a second (and its optimiser state before every checkpoint).

Staleness: a gradient computed on weights version ``v`` and applied at version ``v + k`` has
staleness ``k``. Any ``k`` is allowed (as in the A3C paper's Hogwild, where it is unbounded and
unmeasured); each worker has at most one gradient in flight, so ``k`` is about the number of
updates the other workers land during one rollout (``workers - 1`` when all run at the same
speed). The learner counts it; ``summary.json`` reports its mean, 95th percentile and maximum.

Gradients and weights travel as flat float32 numpy buffers (Ray ships those zero-copy through its
object store), never as pickled modules. Not bit-reproducible: the arrival order of gradients
depends on timing, as with Hogwild.

Faults: a worker actor that dies is started again (new seed stream, up to
``A3CConfig.worker_restarts`` times), after that the run goes on with fewer workers and says so; a
learner that dies stops the run with [`LearnerError`][] after writing ``latest.pt`` from the last
mirrored weights; a driver that dies takes its actors with it (Ray ends an owner's actors), and
``--resume`` continues from ``latest.pt`` under either backend.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from tradea3c.a3c.backends.base import Died, EnvFactory, Event, Finished, Report, WorkerError
from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.optim import annealed_lr, make_optimizer, set_lr
from tradea3c.a3c.process_setup import configure_torch_for_worker
from tradea3c.a3c.qlearning import EpsilonGreedy, target_due
from tradea3c.a3c.rollout import EnvBatch, RolloutCollector
from tradea3c.a3c.seeding import seed_process, worker_seed
from tradea3c.a3c.update import NonFiniteError, UpdateStats, compute_gradients, pull_weights

if TYPE_CHECKING:
    from tradea3c.a3c.coordinator import Coordinator

CHUNK_S = 0.5  # a worker reports (and the driver can stop it) about this often
SYNC_TIMEOUT_S = 30.0  # the driver's wait for the learner's weights before trying again later


class RayUnavailableError(ImportError):
    """``backend = "ray"`` without Ray installed."""


class LearnerError(RuntimeError):
    """The learner actor died; the run stopped after saving ``latest.pt``."""


def require_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise RayUnavailableError(
            'backend "ray" needs Ray: pip install "tradea3c[ray]" (or use --backend local)'
        ) from None
    return ray


# ---------------------------------------------------------------- flat buffers
def flatten(tensors: list[torch.Tensor]) -> np.ndarray:
    """One contiguous float32 vector (what travels between actors)."""
    return torch.cat([t.detach().reshape(-1).float() for t in tensors]).numpy()


def _readonly_tensor(array: np.ndarray) -> torch.Tensor:
    """A tensor over a numpy buffer Ray handed out read-only (zero-copy; only ever read)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return torch.from_numpy(array)


@torch.no_grad()
def unflatten_into(tensors: list[torch.Tensor], flat: np.ndarray) -> None:
    source, offset = _readonly_tensor(flat), 0
    expected = sum(t.numel() for t in tensors)
    if expected != source.numel():
        raise ValueError(f"flat buffer holds {source.numel()} values, the model {expected}")
    for t in tensors:
        n = t.numel()
        t.copy_(source[offset : offset + n].view_as(t))
        offset += n


def _weights(model: torch.nn.Module) -> list[torch.Tensor]:
    return [*model.parameters(), *model.buffers()]


# ---------------------------------------------------------------- actors
class Learner:
    """Parameter server: the global model and optimiser; applies gradients in arrival order."""

    def __init__(
        self,
        cfg: A3CConfig,
        model_factory: Any,
        spaces: tuple[Any, Any],
        model_state: dict[str, Any],
        optimizer_state: dict[str, Any],
        global_step: int,
    ) -> None:
        configure_torch_for_worker()
        self.cfg = cfg
        self.model = model_factory(*spaces)
        self.model.load_state_dict(model_state)
        self.optimizer = make_optimizer(cfg, self.model.parameters())
        self.optimizer.load_state_dict(optimizer_state)
        self.params = list(self.model.parameters())
        # every parameter's .grad is a view of one flat buffer: an arriving gradient is one copy
        self.flat_grad = torch.zeros(sum(p.numel() for p in self.params))
        offset = 0
        for p in self.params:
            p.grad = self.flat_grad[offset : offset + p.numel()].view_as(p)
            offset += p.numel()
        self.version, self.step = 0, int(global_step)
        self.target = None
        self.target_version = 0
        if cfg.value_based:  # theta-: from the (resumed) weights, like the local backend's
            self.target = model_factory(*spaces)
            self.target.load_state_dict(model_state)
        self.staleness: dict[int, int] = {}
        self.apply_s = 0.0
        self.applied = 0

    def weights(self) -> tuple[int, int, np.ndarray]:
        return self.version, self.step, flatten(_weights(self.model))

    def target_weights(self) -> tuple[int, np.ndarray | None]:
        """(version, flat weights) of the target network (value-based modes; else (0, None))."""
        if self.target is None:
            return 0, None
        return self.target_version, flatten(_weights(self.target))

    def apply(
        self, grad: np.ndarray, steps: int, version: int, target_version: int = 0
    ) -> tuple[int, int, np.ndarray, int, np.ndarray | None]:
        """Apply ``grad`` (computed on weights ``version``) and return the new weights, and the
        target network's if the worker holds an older one than ``target_version``."""
        t0 = time.perf_counter()
        lag = self.version - version
        self.staleness[lag] = self.staleness.get(lag, 0) + 1
        self.flat_grad.copy_(_readonly_tensor(grad))
        set_lr(self.optimizer, annealed_lr(self.cfg, self.step))
        self.optimizer.step()
        self.version += 1
        before, self.step = self.step, self.step + steps
        self.applied += 1
        if self.target is not None and target_due(before, self.step, self.cfg.target_sync):
            pull_weights(self.target, self.model)
            self.target_version += 1
        out = flatten(_weights(self.model))
        target = None
        if self.target is not None and target_version != self.target_version:
            target = flatten(_weights(self.target))
        self.apply_s += time.perf_counter() - t0
        return self.version, self.step, out, self.target_version, target

    def state(self) -> tuple[int, dict[str, Any], dict[str, Any]]:
        """(global step, model state, optimiser state) for a checkpoint."""
        return self.step, self.model.state_dict(), self.optimizer.state_dict()

    def stats(self) -> dict[str, Any]:
        return {
            "staleness": dict(self.staleness),
            "apply_s": self.apply_s,
            "applied": self.applied,
            "target_syncs": self.target_version,
        }


@dataclass
class WorkerReport:
    """What `RolloutWorker.run` returns after about ``CHUNK_S`` seconds of updates."""

    stats: UpdateStats
    done: bool  # the global budget is spent
    node_id: str
    compute_s: float = 0.0  # rollouts + backward passes
    round_trip_s: float = 0.0  # learner round trips (queueing + apply + transfer)
    bytes_up: int = 0  # gradient payloads sent
    bytes_down: int = 0  # weight payloads received


class RolloutWorker:
    """One A3C worker as a Ray actor: its envs, a private model, the learner's handle."""

    def __init__(
        self,
        index: int,
        cfg: A3CConfig,
        env_factory: EnvFactory,
        model_factory: Any,
        spaces: tuple[Any, Any],
        epoch: int,
        restart: int,
        learner: Any,
    ) -> None:
        import ray

        configure_torch_for_worker()
        self.index, self.cfg, self.learner = index, cfg, learner
        seed = worker_seed(cfg.seed, index, epoch, restart)
        seed_process(seed)
        self.model = model_factory(*spaces)
        self.params = list(self.model.parameters())
        self.tensors = _weights(self.model)
        self.envs = EnvBatch([env_factory(index)])
        self.steps_per_update = cfg.t_max * self.envs.num_envs
        self.version, self.step, flat = ray.get(learner.weights.remote())
        unflatten_into(self.tensors, flat)
        behaviour = None
        self.target_version, self.target_tensors = 0, None
        if cfg.value_based:  # a local copy of the learner's target network, refreshed when it syncs
            target = model_factory(*spaces)
            self.target_tensors = _weights(target)
            self.target_version, target_flat = ray.get(learner.target_weights.remote())
            unflatten_into(self.target_tensors, target_flat)
            behaviour = EpsilonGreedy.for_worker(cfg, index, target, lambda: self.step)
        self.collector = RolloutCollector(self.envs, self.model, cfg.gamma, seed, behaviour)
        self.node_id = ray.get_runtime_context().get_node_id()

    def run(self, seconds: float) -> WorkerReport:
        import ray

        report = WorkerReport(UpdateStats(self.index), False, self.node_id)
        end = time.monotonic() + seconds
        while time.monotonic() < end and self.step < self.cfg.total_steps:
            t0 = time.perf_counter()
            try:
                loss, roll = compute_gradients(self.model, self.params, self.collector, self.cfg)
            except NonFiniteError as exc:  # nothing sent to the learner: its weights stay finite
                raise NonFiniteError(exc.what, exc.value, self.step) from None
            grad = flatten([p.grad if p.grad is not None else torch.zeros_like(p) for p in self.params])
            t1 = time.perf_counter()
            self.version, self.step, flat, self.target_version, target_flat = ray.get(
                self.learner.apply.remote(grad, self.steps_per_update, self.version, self.target_version)
            )
            t2 = time.perf_counter()
            unflatten_into(self.tensors, flat)
            if target_flat is not None and self.target_tensors is not None:
                unflatten_into(self.target_tensors, target_flat)
                report.bytes_down += target_flat.nbytes
            report.stats.add(self.steps_per_update, loss, roll)
            report.compute_s += t1 - t0
            report.round_trip_s += t2 - t1
            report.bytes_up += grad.nbytes
            report.bytes_down += flat.nbytes
        report.done = self.step >= self.cfg.total_steps
        return report

    def close(self) -> None:
        self.envs.close()


# ---------------------------------------------------------------- driver
def connect(cfg: A3CConfig) -> bool:
    """Join ``cfg.address`` or start a private local instance; False if Ray was already initialised."""
    ray = require_ray()
    if ray.is_initialized():
        return False
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    common: dict[str, Any] = {"log_to_driver": False, "logging_level": "ERROR", "configure_logging": True}
    main = threading.current_thread() is threading.main_thread()
    previous = signal.getsignal(signal.SIGTERM) if main else None
    if cfg.address:
        ray.init(address=cfg.address, **common)
    else:
        ray.init(address="local", num_cpus=cfg.num_workers, include_dashboard=False, **common)
    if callable(previous):  # ray.init replaces a SIGTERM handler (the trainer's: SIGTERM = Ctrl-C)
        signal.signal(signal.SIGTERM, previous)
    return True


class _Mirror:
    """The driver's view of the learner: weights for the evaluator, state for checkpoints."""

    def __init__(self, co: Coordinator, learner: Any) -> None:
        self.co, self.learner, self.lost = co, learner, False
        self.tensors = _weights(co.model)
        self.last = 0.0

    def weights(self, every_s: float = 0.5) -> None:
        """Copy the learner's weights and step; a busy learner is tried later, a dead one stops the run."""
        import ray

        if self.lost or time.monotonic() - self.last < every_s:
            return
        try:
            _, step, flat = ray.get(self.learner.weights.remote(), timeout=SYNC_TIMEOUT_S)
        except ray.exceptions.GetTimeoutError:
            return  # slow (a loaded machine, a starting actor), not dead: try again next tick
        except ray.exceptions.RayActorError as exc:
            raise LearnerError(self.message(exc)) from None
        unflatten_into(self.tensors, flat)
        self.co.global_step.value = step
        self.last = time.monotonic()

    def state(self) -> None:
        """Before a checkpoint: the learner's exact weights, optimiser state and step."""
        import ray

        if self.lost:
            return
        try:
            step, model_state, optimizer_state = ray.get(
                self.learner.state.remote(), timeout=10 * SYNC_TIMEOUT_S
            )
        except ray.exceptions.GetTimeoutError:
            return  # keep what was mirrored last
        except ray.exceptions.RayActorError:
            self.lost = True  # keep what was mirrored last; the run loop reports the loss
            return
        self.co.model.load_state_dict(model_state)
        self.co.optimizer.load_state_dict(optimizer_state)
        self.co.global_step.value = step
        self.last = time.monotonic()

    def death(self) -> BaseException | None:
        """None while the learner answers; else the error its handle raises."""
        import ray

        try:
            ray.get(self.learner.weights.remote(), timeout=10 * SYNC_TIMEOUT_S)
            return None
        except ray.exceptions.GetTimeoutError:
            return None  # slow is not dead
        except ray.exceptions.RayActorError as exc:
            return exc

    def message(self, exc: BaseException) -> str:
        self.lost = True
        return (
            f"the Ray learner actor died ({_cause(exc)}); training stopped. latest.pt holds the weights "
            f"mirrored at step {self.co.step:,}: continue with --resume"
        )


def _summary(reports: list[WorkerReport], learner_stats: dict[str, Any]) -> dict[str, Any]:
    updates = sum(r.stats.updates for r in reports)
    lag = learner_stats.get("staleness", {})
    values = np.repeat(np.array(list(lag), dtype=float), list(lag.values())) if lag else np.zeros(1)
    per = max(updates, 1)
    return {
        "updates": updates,
        "target_syncs": learner_stats.get("target_syncs", 0),  # value-based modes: theta- copies
        "staleness": {
            "mean": float(values.mean()),
            "p95": float(np.percentile(values, 95)),
            "max": int(values.max()),
        },
        "bytes_per_update": {
            "gradient": sum(r.bytes_up for r in reports) // per,
            "weights": sum(r.bytes_down for r in reports) // per,
        },
        "seconds_per_update": {
            "compute": sum(r.compute_s for r in reports) / per,
            "round_trip": sum(r.round_trip_s for r in reports) / per,
            "learner_apply": learner_stats.get("apply_s", 0.0) / max(learner_stats.get("applied", 0), 1),
        },
    }


class RayBackend:
    """Worker actors and a learner actor on a Ray cluster (or a private local instance)."""

    name = "ray"
    worker_noun = "Ray worker actor"

    def __init__(self, cfg: A3CConfig, env_factory: EnvFactory) -> None:
        self.cfg, self.env_factory = cfg, env_factory
        self.ray = require_ray()
        self.started_ray = False
        self.learner: Any = None
        self.mirror: _Mirror | None = None
        self.actors: list[Any] = []  # every worker actor started (killed at the end)
        self.workers: dict[int, Any] = {}
        self.pending: dict[Any, int] = {}  # in-flight run() calls -> worker index
        self.nodes: dict[int, str] = {}
        self.reports: list[WorkerReport] = []
        self.stopping = False
        self.summary: dict[str, Any] = {}

    def start(self, co: Coordinator) -> list[int]:
        """Connect, start the learner from ``co``'s weights and optimiser, then the workers.

        The learner outlives `stop` (the final evaluation and ``latest.pt`` read it);
        `close` ends it and a Ray instance this backend started."""
        ray, cfg = self.ray, self.cfg
        self.co = co
        self.started_ray = connect(cfg)
        self.run_id = f"tradea3c-{uuid.uuid4().hex[:8]}"
        self.learner = (
            ray.remote(Learner)
            .options(num_cpus=0, name=f"{self.run_id}-learner")
            .remote(cfg, co.factory, co.spaces, co.model.state_dict(), co.optimizer.state_dict(), co.step)
        )
        self.mirror = _Mirror(co, self.learner)
        self.env_ref = ray.put(self.env_factory)  # the market reaches each node once
        self.worker_cls = ray.remote(num_cpus=1)(RolloutWorker)
        for i in range(cfg.num_workers):
            self._spawn(i, 0)
        return list(self.workers)

    def _spawn(self, i: int, restart: int) -> None:
        co = self.co
        w = self.worker_cls.options(name=f"{self.run_id}-worker-{i}-{restart}").remote(
            i, self.cfg, self.env_ref, co.factory, co.spaces, co.epoch, restart, self.learner
        )
        self.actors.append(w)
        self.workers[i] = w
        self.pending[w.run.remote(CHUNK_S)] = i

    def restart(self, worker: int, restart: int) -> None:
        self._spawn(worker, restart)

    def poll(self, timeout: float) -> list[Event]:
        ray, mirror = self.ray, self.mirror
        assert mirror is not None
        events: list[Event] = []
        wait = max(timeout, 0.1)
        ready = ray.wait(list(self.pending), num_returns=1, timeout=wait)[0] if self.pending else []
        for ref in ready:
            i = self.pending.pop(ref)
            try:
                report = ray.get(ref)
            except ray.exceptions.RayActorError as exc:
                dead = mirror.death()
                if dead is not None:
                    _settle(ray, self.pending)
                    raise self._learner_lost(dead) from None
                del self.workers[i]
                events.append(Died(i, _cause(exc)))
                continue
            except ray.exceptions.RayTaskError as exc:
                _settle(ray, self.pending)
                cause = getattr(exc, "cause", None)
                if isinstance(cause, NonFiniteError):
                    raise NonFiniteError(cause.what, cause.value, cause.step) from None
                raise WorkerError(
                    f"A3C worker {i} failed ({_cause(exc)}); training stopped.\nWorker traceback:\n{exc}"
                ) from None
            self.reports.append(report)
            self.nodes[i] = report.node_id
            events.append(Report(report.stats))
            if report.done or self.stopping:
                events.append(Finished(i))
            else:
                self.pending[self.workers[i].run.remote(CHUNK_S)] = i
        try:
            mirror.weights()
        except LearnerError:
            self.co.save_latest()  # the mirrored weights: the learner is gone
            raise
        return events

    def _learner_lost(self, exc: BaseException) -> LearnerError:
        assert self.mirror is not None
        error = LearnerError(self.mirror.message(exc))
        self.co.save_latest()  # the mirrored weights: the learner is gone
        return error

    def request_stop(self) -> None:
        self.stopping = True

    def stop(self) -> None:
        """Kill the worker actors; on a normal end, mirror the learner's last weights and read its stats."""
        ray = self.ray
        for actor in self.actors:
            ray.kill(actor)
        if self.mirror is None or self.mirror.lost or self.pending:
            return
        self.mirror.state()  # the final evaluation and latest.pt see the learner's last weights
        try:
            learner_stats = ray.get(self.learner.stats.remote(), timeout=10 * SYNC_TIMEOUT_S)
        except (ray.exceptions.RayActorError, ray.exceptions.GetTimeoutError):
            return
        self.summary = _summary(self.reports, learner_stats)

    def sync(self) -> None:
        if self.mirror is not None:
            self.mirror.state()

    def close(self) -> None:
        ray = self.ray
        for actor in [*self.actors, *([self.learner] if self.learner is not None else [])]:
            ray.kill(actor)
        if self.started_ray:
            ray.shutdown()

    def info(self, restarts: dict[int, int]) -> dict[str, Any]:
        return {
            "address": self.cfg.address or "local",
            "workers": [
                {"index": i, "node_id": self.nodes.get(i), "restarts": restarts[i]} for i in restarts
            ],
            "nodes": len(set(self.nodes.values())),
            **self.summary,
        }


def _cause(exc: BaseException) -> str:
    """Ray's own one-line reason for an actor's death ("...killed by `ray.kill`", "...exited")."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    because = [line for line in lines if line.startswith("The actor is dead because")]
    return (because or lines or [type(exc).__name__])[-1 if because else 0]


def _settle(ray: Any, pending: dict[Any, int]) -> None:
    """Collect the other workers' last reports (their errors included) so Ray has none left unread."""
    for ref in pending:
        try:
            ray.get(ref, timeout=10)
        except Exception:  # noqa: BLE001, S110 - they are being abandoned; their errors say nothing new
            pass
