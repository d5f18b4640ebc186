"""The trainer: ``train(env_factory, config, run_dir, ...)`` for A3C (Hogwild) and A2C.

Read top to bottom:

1. build the model from the env's spaces, put its parameters and the optimiser state in shared
   memory; on ``resume`` load ``latest.pt`` (weights, optimiser, counters, RNG);
2. run the workers: ``workers > 1`` starts N processes (:func:`worker.worker_main`) that update the
   shared weights lock-free; ``workers == 1`` runs the same worker in this process (reproducible);
   ``mode = "a2c"`` runs one synchronous learner over all N workers' envs batched;
3. meanwhile the main process drains worker reports, watches worker liveness, sends weight
   snapshots to the evaluator process, keeps ``best.pt`` by ``select_metric``, writes metrics,
   TensorBoard and periodic ``latest.pt`` checkpoints, and shows a rich progress line;
4. at the end (budget spent, ``should_stop``, or Ctrl-C) it stops the workers, runs a final
   evaluation, saves ``latest.pt`` and ``summary.json``.

Start method: ``forkserver`` by default. Plain ``fork`` is fastest but copies a parent that may
already run OpenMP/intra-op threads, TensorBoard writer threads and queue feeder threads, and
forking a multi-threaded process can deadlock the child; ``forkserver`` forks workers from a clean
single-threaded server (torch preloaded once), at a fraction of ``spawn``'s start-up cost. Both
need picklable env factories, model factories and evaluate functions (module-level functions,
``functools.partial`` or small dataclasses). ``fork`` and ``spawn`` remain configurable.

Reproducibility: ``workers=1`` and ``mode="a2c"`` are bit-reproducible from ``seed`` (single
process, single thread, fixed order of operations). Multi-worker Hogwild runs are not: workers
read and write the shared weights and optimiser statistics without locks, so which gradients were
computed on which weights depends on OS scheduling.
"""

from __future__ import annotations

import contextlib
import queue as queue_mod
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
import torch.multiprocessing as mp

from tradea3c._version import __version__
from tradea3c.a3c import checkpoint as ckpt
from tradea3c.a3c.a2c import run_in_process
from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.coordinator import Coordinator
from tradea3c.a3c.evaluator import EvaluateFn, Evaluator
from tradea3c.a3c.models import BuiltinModelFactory
from tradea3c.a3c.run import RunDir
from tradea3c.a3c.shared_optim import make_optimizer
from tradea3c.a3c.worker import (
    EnvFactory,
    WorkerError,
    configure_torch_for_worker,
    worker_main,
)
from tradea3c.config import to_dict


@dataclass
class TrainResult:
    run_dir: Path
    status: str  # "completed" | "stopped" (should_stop) | "interrupted" (Ctrl-C)
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


def _spaces(env: Any) -> tuple[Any, Any]:
    if hasattr(env, "single_observation_space"):
        return env.single_observation_space, env.single_action_space
    return env.observation_space, env.action_space


WORKER_MIB = 220
"""Memory of one local worker process (torch, the model, its envs, the market it was handed): a
demo-market worker's proportional set size on Linux, rounded up. Only refuses absurd worker counts."""


def _available_mib() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) / 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_worker_memory(cfg: A3CConfig) -> None:
    """Refuse (one line, before anything starts) a local run whose worker processes would not fit in
    memory: `--workers 1000` would otherwise start 1,000 processes until the OOM killer ends the run."""
    if cfg.backend != "local" or cfg.mode == "a2c" or cfg.num_workers <= 1:
        return
    available = _available_mib()
    need = cfg.num_workers * WORKER_MIB
    if available is not None and need > 0.8 * available:
        fits = max(int(0.8 * available // WORKER_MIB), 1)
        raise ValueError(
            f"--workers {cfg.num_workers} needs about {need / 1024:.1f} GiB (about {WORKER_MIB} MiB per "
            f"worker process) and {available / 1024:.1f} GiB is available: use at most {fits} workers "
            "(or --backend ray on a cluster)"
        )


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else "no message"


def _run_processes(co: Coordinator, cfg: A3CConfig, env_factory: EnvFactory, ctx: Any) -> None:
    """workers > 1: Hogwild worker processes; the main process only coordinates.

    A worker that raises stops training (:class:`WorkerError`, its traceback in the message). A worker
    that dies without a word (SIGKILL, the OOM killer) is started again with a fresh seed stream, up
    to ``cfg.worker_restarts`` times, after which the run goes on with fewer workers; the shared
    weights it was updating stay as they are (Hogwild updates are not transactions anyway)."""
    stop, q = ctx.Event(), ctx.Queue()

    def start(i: int, restart: int) -> Any:
        p = ctx.Process(
            target=worker_main,
            name=f"a3c-worker-{i}",
            daemon=True,
            args=(i, cfg, env_factory, co.model, co.optimizer, co.global_step, stop, q, co.epoch, restart),
        )
        p.start()
        return p

    procs = {i: start(i, 0) for i in range(cfg.num_workers)}
    restarts = dict.fromkeys(procs, 0)
    co.backend_info = {"name": "local", "events": [], "restarts": restarts}
    done: set[int] = set()

    def drain(timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                msg = q.get(timeout=max(deadline - time.monotonic(), 0.0)) if timeout else q.get_nowait()
            except queue_mod.Empty:
                return
            if msg[0] == "stats":
                co.on_stats(msg[1])
            elif msg[0] == "done":
                done.add(msg[1])
            else:
                raise WorkerError(
                    f"A3C worker {msg[1]} failed ({_last_line(msg[2])}); training stopped.\n"
                    f"Worker traceback:\n{msg[2]}"
                )
            timeout = 0.0

    all_procs = list(procs.values())
    try:
        while len(done) < len(procs):
            drain(0.05)
            for i, p in list(procs.items()):
                if i not in done and p.exitcode is not None:
                    drain(0.5)  # its last message may still be in the pipe
                    if i in done:
                        continue
                    if co.worker_died(i, f"exit code {p.exitcode}", restarts, len(procs)):
                        procs[i] = start(i, restarts[i])
                        all_procs.append(procs[i])
                    else:
                        del procs[i]
                    if not procs:
                        raise WorkerError("every A3C worker process died; training stopped.")
            co.tick()
            if co.stop_requested:
                stop.set()
    finally:
        stop.set()
        deadline = time.monotonic() + 5.0
        while any(p.is_alive() for p in all_procs) and time.monotonic() < deadline:
            try:
                msg = q.get(timeout=0.05)
                if msg[0] == "stats":
                    co.on_stats(msg[1])
            except queue_mod.Empty:
                pass
        for p in all_procs:
            if p.is_alive():
                p.kill()
            p.join(2.0)
        q.close()
        q.cancel_join_thread()


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
    training early. Raises :class:`WorkerError` if a worker fails; Ctrl-C returns status
    "interrupted" after saving ``latest.pt``.
    """
    cfg = config
    run_dir = Path(run_dir)
    if cfg.backend == "ray":
        from tradea3c.a3c.ray_backend import require_ray

        require_ray()  # before anything is written
    check_worker_memory(cfg)
    ctx = mp.get_context(cfg.start_method)
    if cfg.start_method == "forkserver":
        ctx.set_forkserver_preload(["torch", "tradea3c.a3c.worker"])
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
        rng = payload["rng"]
    global_step = ctx.Value("q", int(counters.get("global_step", 0)))
    run = RunDir(run_dir, cfg, cfg.tensorboard)
    if counters:
        run.drop_rows_after(int(counters.get("global_step", 0)))
    evaluator = Evaluator(ctx, evaluate_fn, factory, spaces) if evaluate_fn is not None else None
    co = Coordinator(
        cfg,
        run,
        model,
        optimizer,
        factory,
        spaces,
        dict(extra_metadata or {}),
        evaluator,
        select_metric,
        maximize,
        should_stop,
        progress,
        global_step,
        counters,
    )
    in_process = cfg.backend == "local" and (cfg.mode == "a2c" or cfg.num_workers == 1)
    status, threads = "completed", torch.get_num_threads()
    try:
        try:
            if cfg.backend == "ray":
                from tradea3c.a3c.ray_backend import run_ray

                run_ray(co, cfg, env_factory, spaces)
            elif in_process:
                configure_torch_for_worker()
                run_in_process(co, cfg, env_factory, rng)
            else:
                _run_processes(co, cfg, env_factory, ctx)
            if co.stop_requested:
                status = "stopped"
            co.final_eval()
        except KeyboardInterrupt:
            status = "interrupted"
        except WorkerError as exc:
            status = "failed"
            co.save_latest()  # the shared weights survive a worker: keep what was learned
            first, _, rest = str(exc).partition("\n")
            details = run.path / "worker-error.txt"
            details.write_text(str(exc) + "\n")
            raise WorkerError(
                f"{first} latest.pt saved at step {co.step:,}; details in {details}\n{rest}".rstrip()
            ) from None
        except BaseException:
            status = "failed"
            raise
        finally:
            torch.set_num_threads(threads)
            co.progress.close()
            if evaluator is not None:
                evaluator.close()
            if status == "failed":
                run.write_summary(
                    {
                        "status": "failed",
                        "global_step": co.step,
                        "version": __version__,
                        "backend": co.backend_info,
                    }
                )
                run.close()
        co.log_row()
        try:
            co.save_latest()
        except OSError:
            with contextlib.suppress(OSError):  # the disk may still be full
                run.write_summary({"status": "failed", "global_step": co.step, "version": __version__})
            run.close()
            raise
    finally:
        co.close_backend()
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
    )
    run.write_summary(
        {
            **{k: v for k, v in result.__dict__.items()},
            "version": __version__,
            "config": to_dict(cfg),
            "extra": co.extra,
            "updates": co.updates,
            "backend": co.backend_info,
        }
    )
    run.close()
    return result
