"""The trainer: ``train(env_factory, config, run_dir, ...)`` for A3C (Hogwild), A2C and the paper's
value-based methods (``qlearning.py``).

Read top to bottom:

1. build the model from the env's spaces, put its parameters and the optimiser state in shared
   memory; on ``resume`` load ``latest.pt`` (weights, optimiser, counters, RNG); the value-based
   modes also get a shared target network, a copy of those weights;
2. pick the backend (``backends/``): local Hogwild processes for ``workers > 1``, this process for
   ``workers == 1`` or ``mode = "a2c"`` (reproducible), Ray actors for ``backend = "ray"``;
   `supervise` runs it. The update every worker repeats is
   ``update.py``;
3. meanwhile the `Coordinator` takes the workers' reports, sends
   weight snapshots to the evaluator process, keeps ``best.pt`` by ``select_metric``, writes
   metrics, TensorBoard and periodic ``latest.pt`` checkpoints, and shows a rich progress line;
4. at the end (budget spent, ``should_stop``, or Ctrl-C) it stops the workers, runs a final
   evaluation, saves ``latest.pt`` and ``summary.json``. SIGTERM (``timeout``, ``docker stop``,
   SLURM) is Ctrl-C (`Terminated`); a dead evaluator is started again like a worker; a loss or
   weights that become nan/inf stop the run, and non-finite weights are never written.

Seeds: one derivation for every worker, env and episode (``seeding.py``). Reproducibility:
``workers=1`` and ``mode="a2c"`` are bit-reproducible from ``seed`` (single process, single
thread, fixed order of operations). Multi-worker Hogwild runs are not: workers read and write the
shared weights and optimiser statistics without locks, so which gradients were computed on which
weights depends on OS scheduling; nor are Ray runs (the learner applies gradients in arrival order).
"""

from __future__ import annotations

import contextlib
import signal as signal_mod
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil
import torch
import torch.multiprocessing as mp

from tradea3c._version import __version__
from tradea3c.a3c.backends.base import Backend, EnvFactory, WorkerError, supervise
from tradea3c.a3c.backends.inprocess import InProcessBackend
from tradea3c.a3c.backends.processes import ProcessesBackend
from tradea3c.a3c.checkpoint import format as ckpt
from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.coordinator import Coordinator, CoordinatorConfig, EvaluatorLost
from tradea3c.a3c.evaluator import EvaluateFn, Evaluator
from tradea3c.a3c.models.builtin import BuiltinModelFactory
from tradea3c.a3c.optim import make_optimizer
from tradea3c.a3c.qlearning import check_q_model
from tradea3c.a3c.run import RunDir
from tradea3c.a3c.update import NonFiniteError
from tradea3c.config import to_dict


class Terminated(KeyboardInterrupt):
    """SIGTERM reached the main process (``timeout``, ``docker stop``, SLURM): handled as Ctrl-C."""


class _SigtermGuard:
    """While armed, the first SIGTERM raises `Terminated` in the main thread; later ones (and any
    after `disarm`) are only noted, so that the final checkpoint is written in full. ``raised``
    tells a `KeyboardInterrupt` that came from it (Ray re-raises it as a plain KeyboardInterrupt)."""

    def __init__(self) -> None:
        self.armed = True
        self.received = self.raised = False

    def __call__(self, signum: int, frame: Any) -> None:
        first, self.received = not self.received, True
        if first and self.armed:
            self.raised = True
            raise Terminated()

    def by_sigterm(self, exc: BaseException) -> bool:
        """``exc`` (a KeyboardInterrupt) was SIGTERM, not Ctrl-C."""
        return isinstance(exc, Terminated) or self.raised

    def disarm(self) -> None:
        self.armed = False


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[_SigtermGuard]:
    """Turn SIGTERM into `Terminated` (a `KeyboardInterrupt`) inside the block; the previous handler
    comes back after it. Only in the main thread (elsewhere Python cannot install handlers)."""
    guard = _SigtermGuard()
    if threading.current_thread() is not threading.main_thread():
        yield guard
        return
    previous = signal_mod.signal(signal_mod.SIGTERM, guard)
    try:
        yield guard
    finally:
        signal_mod.signal(signal_mod.SIGTERM, previous if previous is not None else signal_mod.SIG_DFL)


_PEER_GONE = (ConnectionResetError, BrokenPipeError, EOFError)


@contextlib.contextmanager
def quiet_dead_peers() -> Iterator[None]:
    """Silence the traceback multiprocessing's resource-sharer thread prints when a child dies while
    receiving a shared tensor (a SIGKILLed worker or evaluator): that death is already reported on
    one line and handled (restart or stop); every other exception still reaches ``sys.excepthook``."""
    previous = sys.excepthook

    def hook(kind: type[BaseException], exc: BaseException, tb: Any) -> None:
        frames = traceback.extract_tb(tb)
        if issubclass(kind, _PEER_GONE) and any(f.filename.endswith("resource_sharer.py") for f in frames):
            return
        previous(kind, exc, tb)

    sys.excepthook = hook
    try:
        yield
    finally:
        sys.excepthook = previous


@dataclass
class TrainResult:
    run_dir: Path
    status: str  # "completed" | "stopped" (should_stop) | "interrupted" (Ctrl-C, SIGTERM)
    global_step: int
    episodes: int
    wall_s: float  # this session
    steps_per_s: float  # this session
    elapsed_s: float  # the whole run: every session's training time, resumed ones included
    mean_return: float  # over the last 100 training episodes (nan if none)
    best_metric: float | None
    best_step: int | None
    last_eval: dict[str, float] | None
    latest_checkpoint: Path
    best_checkpoint: Path | None
    signal: str | None = None  # what interrupted the run: "SIGINT" (Ctrl-C) or "SIGTERM"


def _spaces(env: Any) -> tuple[Any, Any]:
    if hasattr(env, "single_observation_space"):
        return env.single_observation_space, env.single_action_space
    return env.observation_space, env.action_space


WORKER_MIB = 220
"""Memory of one local worker process (torch, the model, its envs, the market it was handed): a
demo-market worker's proportional set size on Linux, rounded up. Only refuses absurd worker counts."""


def _available_mib() -> float:
    return psutil.virtual_memory().available / 2**20


def check_worker_memory(cfg: A3CConfig) -> None:
    """Refuse (one line, before anything starts) a local run whose worker processes would not fit in
    memory: `--workers 1000` would otherwise start 1,000 processes until the OOM killer ends the run."""
    if cfg.backend != "local" or cfg.mode == "a2c" or cfg.num_workers <= 1:
        return
    available = _available_mib()
    need = cfg.num_workers * WORKER_MIB
    if need > 0.8 * available:
        fits = max(int(0.8 * available // WORKER_MIB), 1)
        raise ValueError(
            f"--workers {cfg.num_workers} needs about {need / 1024:.1f} GiB (about {WORKER_MIB} MiB per "
            f"worker process) and {available / 1024:.1f} GiB is available: use at most {fits} workers "
            "(or --backend ray on a cluster)"
        )


def best_of(best_pt: Path) -> dict[str, Any]:
    """``best_metric``/``best_step`` as ``best.pt`` holds them: the score lives with the weights, so a
    ``latest.pt`` written before a later best (then a crash) cannot let a worse policy replace it."""
    if not best_pt.is_file():
        return {"best_metric": None, "best_step": None}
    counters = ckpt.read_checkpoint(best_pt)["counters"]
    return {"best_metric": counters.get("best_metric"), "best_step": counters.get("best_step")}


def make_backend(cfg: A3CConfig, env_factory: EnvFactory, ctx: Any, rng: dict[str, Any] | None) -> Backend:
    """The backend ``cfg`` asks for (``rng``: the RNG state of the checkpoint a run resumes)."""
    if cfg.backend == "ray":
        from tradea3c.a3c.backends.ray import RayBackend

        return RayBackend(cfg, env_factory)
    if cfg.mode == "a2c" or cfg.num_workers == 1:
        return InProcessBackend(cfg, env_factory, rng)
    return ProcessesBackend(cfg, env_factory, ctx)


def train(
    env_factory: EnvFactory,
    config: A3CConfig,
    run_dir: str | Path,
    *,
    model_factory: Callable[[Any, Any], Any] | None = None,
    evaluate_fn: EvaluateFn | None = None,
    select_metric: str = "score",
    maximize: bool = True,
    should_stop: Callable[[dict[str, float]], bool] | None = None,
    resume: bool = False,
    extra_metadata: dict[str, Any] | None = None,
    progress: bool = True,
) -> TrainResult:
    """Train an actor-critic on ``env_factory(worker_index)`` envs; see the module docstring.

    ``model_factory(observation_space, action_space)`` defaults to ``BuiltinModelFactory(config.model)``;
    ``evaluate_fn(model) -> dict`` runs in a separate process every ``config.eval_every`` steps and
    at the end, ``best.pt`` keeps the best ``select_metric``; ``should_stop(metrics)`` may end
    training early. Raises [`WorkerError`][] if a worker fails, the evaluator keeps dying or the
    loss/weights become non-finite (one line; ``latest.pt`` keeps finite weights); Ctrl-C and
    SIGTERM return status "interrupted" (``signal`` says which) after saving ``latest.pt``.
    """
    cfg = config
    run_dir = Path(run_dir)
    if cfg.backend == "ray":
        from tradea3c.a3c.backends.ray import require_ray

        require_ray()  # before anything is written
    check_worker_memory(cfg)
    ctx = mp.get_context(cfg.start_method)
    if cfg.start_method == "forkserver":
        ctx.set_forkserver_preload(["torch", "tradea3c.a3c.backends.processes"])
    factory = model_factory or BuiltinModelFactory(cfg.model)
    probe = env_factory(0)
    spaces = _spaces(probe)
    probe.close()
    torch.manual_seed(cfg.seed)
    model = factory(*spaces)
    model.share_memory()
    optimizer = make_optimizer(cfg, model.parameters())
    counters: dict[str, Any] = {}
    rng = None
    if resume and (run_dir / "latest.pt").is_file():
        payload = ckpt.read_checkpoint(run_dir / "latest.pt")
        model.load_state_dict(payload["model"])
        optimizer.load_state_dict(payload["optimizer"])
        counters = dict(payload["counters"], epoch=payload["counters"].get("epoch", 0) + 1)
        counters.update(best_of(run_dir / "best.pt"))
        rng = payload["rng"]
    target = None
    if cfg.value_based:  # the shared target network theta-, from the (resumed) weights
        check_q_model(model, *spaces, cfg.mode)
        target = factory(*spaces)
        target.load_state_dict(model.state_dict())
        target.share_memory()
    global_step = ctx.Value("q", int(counters.get("global_step", 0)))
    run = RunDir(run_dir, cfg, cfg.tensorboard)
    if counters:
        run.drop_rows_after(int(counters.get("global_step", 0)))
    evaluator = Evaluator(ctx, evaluate_fn, factory, spaces) if evaluate_fn is not None else None
    co = Coordinator(
        CoordinatorConfig(
            cfg,
            run,
            model,
            optimizer,
            factory,
            spaces,
            global_step,
            evaluator=evaluator,
            select_metric=select_metric,
            maximize=maximize,
            should_stop=should_stop,
            progress=progress,
            extra=dict(extra_metadata or {}),
            counters=counters,
            target=target,
        )
    )
    backend = co.backend = make_backend(cfg, env_factory, ctx, rng)
    restarts: dict[int, int] = {}

    def backend_info() -> dict[str, Any]:
        return {"name": backend.name, "events": co.events, **backend.info(restarts)}

    status, threads, stopped_by, error = "completed", torch.get_num_threads(), None, None

    def failed_summary() -> None:
        run.write_summary(
            {"status": "failed", "global_step": co.step, "version": __version__, "backend": backend_info()}
            | ({"error": error} if error else {})
        )
        run.close()

    try:
        with terminate_as_interrupt() as sigterm, quiet_dead_peers():
            try:
                supervise(co, backend, restarts)
                if co.stop_requested:
                    status = "stopped"
                co.final_eval()
            except KeyboardInterrupt as exc:  # Ctrl-C, or SIGTERM (Terminated)
                status, stopped_by = "interrupted", "SIGTERM" if sigterm.by_sigterm(exc) else "SIGINT"
            except WorkerError as exc:
                status = "failed"
                co.save_latest()  # the shared weights survive a worker: keep what was learned
                first, _, rest = str(exc).partition("\n")
                details = run.path / "worker-error.txt"
                details.write_text(str(exc) + "\n")
                raise WorkerError(
                    f"{first} latest.pt saved at step {co.step:,}; details in {details}\n{rest}".rstrip()
                ) from None
            except EvaluatorLost as exc:
                status = "failed"
                co.save_latest()  # from the shared weights: the evaluator held none of its own
                error = (
                    f"{exc}; training stopped. latest.pt saved at step {co.step:,}: continue with --resume"
                )
                raise WorkerError(error) from None
            except NonFiniteError as exc:
                status = "failed"
                with contextlib.suppress(NonFiniteError):  # finite weights (a nan loss, unstepped): keep
                    co.save_latest()
                error = co.non_finite_message(exc)
                raise WorkerError(error) from None
            except BaseException:
                status = "failed"
                raise
            finally:
                sigterm.disarm()  # a SIGTERM from here on waits for the final checkpoint
                torch.set_num_threads(threads)
                co.progress.close()
                if evaluator is not None:
                    evaluator.close()
                if status == "failed":
                    failed_summary()
            co.log_row()
            try:
                co.save_latest()
            except NonFiniteError as exc:  # the weights went non-finite after the last check
                error = co.non_finite_message(exc)
                failed_summary()
                raise WorkerError(error) from None
            except OSError:
                with contextlib.suppress(OSError):  # the disk may still be full
                    run.write_summary({"status": "failed", "global_step": co.step, "version": __version__})
                run.close()
                raise
    finally:
        backend.close()
    wall = time.monotonic() - co.t0
    result = TrainResult(
        run_dir,
        status,
        co.step,
        co.episodes,
        wall,
        co.sps(),
        co.elapsed(),
        co.mean_return(),
        co.best_metric,
        co.best_step,
        co.last_eval,
        run.latest,
        run.best if run.best.exists() else None,
        stopped_by,
    )
    run.write_summary(
        {
            **{k: v for k, v in result.__dict__.items()},
            "version": __version__,
            "config": to_dict(cfg),
            "extra": co.extra,
            "updates": co.updates,
            "backend": backend_info(),
        }
    )
    run.close()
    if sigterm.received and not sigterm.raised:  # SIGTERM while the final checkpoint was written: now
        signal_mod.raise_signal(signal_mod.SIGTERM)
    return result
