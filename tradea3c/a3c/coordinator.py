"""Main-process bookkeeping: worker reports, evaluations, best/latest checkpoints, logs, progress.

One per run, the same for every backend: `tradea3c.a3c.backends.base.supervise` feeds it the
workers' reports and calls `Coordinator.tick` between them.
"""

from __future__ import annotations

import collections
import errno
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from tradea3c.a3c.checkpoint import format as ckpt
from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.evaluator import Evaluator, EvaluatorDied
from tradea3c.a3c.optim import annealed_lr
from tradea3c.a3c.run import Progress, RunDir
from tradea3c.a3c.update import NON_FINITE_HINT, NonFiniteError, UpdateStats, non_finite

if TYPE_CHECKING:
    from tradea3c.a3c.backends.base import Backend


class CheckpointWriteError(OSError):
    """The final latest.pt could not be written (e.g. a full disk); the previous one is intact."""


class EvaluatorLost(RuntimeError):
    """The evaluator process died more often than ``A3CConfig.worker_restarts`` allows."""


def _os_reason(exc: OSError) -> str:
    name = errno.errorcode.get(exc.errno or 0, "")
    return f"{exc.strerror or exc}" + (f" ({name})" if name else "")


@dataclass
class CoordinatorConfig:
    """Everything a run's coordinator works with; built once by ``trainer.train``."""

    cfg: A3CConfig
    run: RunDir
    model: Any
    """The global model, parameters in shared memory (the Ray backend mirrors its learner's here)."""
    optimizer: Any
    """The shared optimiser over ``model``'s parameters."""
    model_factory: Any
    """``f(observation_space, action_space) -> ActorCritic``: workers and the evaluator rebuild the net."""
    spaces: tuple[Any, Any]
    """(observation space, action space) of one env."""
    global_step: Any
    """multiprocessing ``Value("q")``: env steps so far, shared by every worker."""
    evaluator: Evaluator | None = None
    select_metric: str = "score"
    """Metric of ``evaluate_fn`` that picks ``best.pt``."""
    maximize: bool = True
    should_stop: Callable[[dict[str, float]], bool] | None = None
    """``should_stop(metrics)`` after each evaluation; True ends training early."""
    progress: bool = True
    """Show a rich progress bar."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Plain-data metadata stored in every checkpoint."""
    counters: dict[str, Any] = field(default_factory=dict)
    """Counters of the checkpoint a resumed run continues (empty for a fresh run)."""
    target: Any = None
    """Value-based modes: the target network, in shared memory (None otherwise; Ray keeps its own)."""


class Coordinator:
    """Main-process bookkeeping shared by every backend."""

    def __init__(self, config: CoordinatorConfig) -> None:
        cfg, counters = config.cfg, config.counters
        self.cfg, self.run, self.model, self.optimizer = cfg, config.run, config.model, config.optimizer
        self.factory, self.spaces, self.extra = config.model_factory, config.spaces, dict(config.extra)
        self.evaluator, self.select_metric = config.evaluator, config.select_metric
        self.maximize, self.should_stop = config.maximize, config.should_stop
        self.global_step, self.target = config.global_step, config.target
        self.episodes = int(counters.get("episodes", 0))
        self.updates = int(counters.get("updates", 0))
        self.epoch = int(counters.get("epoch", 0))
        self.elapsed_before = float(counters.get("elapsed_s", 0.0))
        self.best_metric: float | None = counters.get("best_metric")
        self.best_step: int | None = counters.get("best_step")
        self.returns: collections.deque[float] = collections.deque(maxlen=100)
        self.lengths: collections.deque[int] = collections.deque(maxlen=100)
        self.loss_sums = np.zeros(3)
        self.loss_n = 0
        self.t0 = time.monotonic()
        self.start_step = self.step
        self.last_log = self.last_ckpt_time = self.t0
        self.last_ckpt_step = self.step
        self.eval_submitted = self.step if cfg.eval_every else -1
        self.last_eval: dict[str, float] | None = None
        self.stop_requested = False
        self.events: list[str] = []
        """Worker and evaluator deaths and restarts, one line each (``summary.json``: ``backend.events``)."""
        self.evaluator_restarts = 0
        self.latest_step: int | None = self.step if counters else None
        """The step of the latest.pt on disk (None: none written yet): always finite weights."""
        self.rng: Callable[[], dict[str, Any] | None] = lambda: None
        """The RNG state a checkpoint stores: set by the in-process backend (the only reproducible one)."""
        self.backend: Backend | None = None
        """Set by ``trainer.train``: synced before every checkpoint."""
        metric = self.select_metric if self.evaluator else "-"
        label = {"a3c": "A3C", "a2c": "A2C"}.get(cfg.mode, cfg.mode)
        self.progress = Progress(config.progress, cfg.total_steps, metric, label)

    @property
    def step(self) -> int:
        return int(self.global_step.value)

    def elapsed(self) -> float:
        """Seconds of training in the whole run: the sessions before a resume (up to the checkpoint
        it resumed from) plus this one; the logs' ``wall_s`` column, so a resumed run's curve goes on."""
        return self.elapsed_before + time.monotonic() - self.t0

    def sps(self) -> float:
        return (self.step - self.start_step) / max(time.monotonic() - self.t0, 1e-9)

    def on_stats(self, s: UpdateStats) -> None:
        self.updates += s.updates
        for ret, length in s.episodes:
            self.returns.append(ret)
            self.lengths.append(length)
        self.episodes += len(s.episodes)
        self.loss_sums += (s.policy_loss, s.value_loss, s.entropy)
        self.loss_n += s.updates

    def worker_died(self, index: int, why: str, restarts: dict[int, int], alive: int) -> bool:
        """A worker died without an error: report it on one line and in `events`;
        True = start it again (``cfg.worker_restarts`` times at most), False = go on without it."""
        cfg = self.cfg
        again = (
            restarts[index] < cfg.worker_restarts and not self.stop_requested and self.step < cfg.total_steps
        )
        if again:
            restarts[index] += 1
            event = f"worker {index} died ({why}); restarted ({restarts[index]}/{cfg.worker_restarts})"
        else:
            event = f"worker {index} died ({why}); the run goes on with {alive - 1} workers"
        self.events.append(event)
        self.progress.log(event)
        return again

    def evaluator_died(self, why: str) -> None:
        """The evaluator died without an error: start it again (``cfg.worker_restarts`` times at
        most, one line each), else raise `EvaluatorLost`."""
        assert self.evaluator is not None
        limit = self.cfg.worker_restarts
        if self.evaluator_restarts >= limit:
            raise EvaluatorLost(f"the evaluator died ({why})")
        self.evaluator_restarts += 1
        self.evaluator.restart()
        event = f"evaluator died ({why}); restarted ({self.evaluator_restarts}/{limit})"
        self.events.append(event)
        self.progress.log(event)

    def poll_eval(self, timeout: float = 0.0) -> tuple[int, dict[str, float], dict[str, Any]] | None:
        """A finished evaluation, or None; a dead evaluator is started again (`evaluator_died`)."""
        assert self.evaluator is not None
        try:
            return self.evaluator.poll(timeout)
        except EvaluatorDied as exc:
            self.evaluator_died(exc.why)
            return None

    def non_finite_message(self, exc: NonFiniteError) -> str:
        """The one line of a run stopped on nan/inf: what, where, and which weights were kept."""
        step = exc.step if exc.step >= 0 else self.step
        what = str(NonFiniteError(exc.what, exc.value, step))
        if self.latest_step is None:
            kept = "no finite weights were saved (no latest.pt)"
        else:
            kept = f"latest.pt holds the last finite weights (step {self.latest_step:,})"
        return f"{what}; training stopped. {kept}; {NON_FINITE_HINT}"

    def counters(self) -> dict[str, Any]:
        return {
            "global_step": self.step,
            "episodes": self.episodes,
            "updates": self.updates,
            "epoch": self.epoch,
            "elapsed_s": self.elapsed(),
            "best_metric": self.best_metric,
            "best_step": self.best_step,
        }

    def save(self, path: Path, model: Any, optimizer: Any, metrics: dict[str, float] | None = None) -> None:
        ckpt.save_checkpoint(
            path,
            model=model,
            optimizer=optimizer,
            config=self.cfg,
            model_factory=self.factory,
            observation_space=self.spaces[0],
            action_space=self.spaces[1],
            counters=self.counters(),
            extra=self.extra,
            rng=self.rng(),
            metrics=metrics,
        )

    def save_latest(self, final: bool = True) -> None:
        """Write latest.pt. A failed write (full disk) leaves the previous file intact; a periodic one
        is reported on one line and training goes on, the final one raises `CheckpointWriteError`.
        Non-finite weights are never written: `NonFiniteError` (the previous latest.pt is kept)."""
        if self.backend is not None:
            self.backend.sync()
        value = non_finite(self.model.parameters())
        if value is not None:
            raise NonFiniteError("weights", value, self.step)
        try:
            self.save(self.run.latest, self.model, self.optimizer, self.last_eval)
        except OSError as exc:
            kept = "the previous latest.pt is kept" if self.run.latest.exists() else "no latest.pt yet"
            message = f"could not write {self.run.latest}: {_os_reason(exc)}; {kept}"
            if final:
                raise CheckpointWriteError(f"{message}; free disk space, then --resume") from None
            self.progress.log(f"{message}; training goes on")
        else:
            self.latest_step = int(self.counters()["global_step"])
        self.last_ckpt_step, self.last_ckpt_time = self.step, time.monotonic()

    def on_eval(self, step: int, metrics: dict[str, float], snapshot: dict[str, Any]) -> None:
        if self.select_metric not in metrics:
            raise KeyError(
                f"evaluate_fn returned {sorted(metrics)} but select_metric is {self.select_metric!r}"
            )
        value = non_finite(snapshot.values())
        if value is not None:  # never a best.pt of nan weights
            raise NonFiniteError("weights", value, step)
        self.last_eval = metrics
        self.run.log_eval(step, round(self.elapsed(), 3), metrics)
        value = metrics[self.select_metric]
        better = self.best_metric is None or (
            value > self.best_metric if self.maximize else value < self.best_metric
        )
        if better and np.isfinite(value):
            before = self.best_metric, self.best_step
            self.best_metric, self.best_step = value, step
            try:
                self.save(self.run.best, snapshot, None, metrics)
            except OSError as exc:  # full disk: keep training; the previous best.pt is intact
                self.best_metric, self.best_step = before
                self.progress.log(f"could not write {self.run.best}: {_os_reason(exc)}; training goes on")
        if self.should_stop is not None and self.should_stop(metrics):
            self.stop_requested = True

    def tick(self) -> None:
        """Evaluations, checkpoints, logs and progress; cheap enough to call after every update."""
        cfg, step, now = self.cfg, self.step, time.monotonic()
        if self.evaluator is not None:
            result = self.poll_eval()
            if result is not None:
                self.on_eval(*result)
            if cfg.eval_every and not self.evaluator.busy and step - self.eval_submitted >= cfg.eval_every:
                self.evaluator.submit(step, self.model)
                self.eval_submitted = step
        if (cfg.checkpoint_every and step - self.last_ckpt_step >= cfg.checkpoint_every) or (
            cfg.checkpoint_every_s and now - self.last_ckpt_time >= cfg.checkpoint_every_s
        ):
            self.save_latest(final=False)
        if now - self.last_log >= cfg.log_every_s:
            self.log_row()
        self.progress.update(step, self.sps(), self.episodes, self.mean_return(), self.eval_value())

    def mean_return(self) -> float:
        return float(np.mean(self.returns)) if self.returns else float("nan")

    def eval_value(self) -> float | None:
        return None if self.last_eval is None else self.last_eval.get(self.select_metric)

    def log_row(self) -> None:
        n = max(self.loss_n, 1)
        self.run.log_train(
            {
                "wall_s": round(self.elapsed(), 3),
                "global_step": self.step,
                "steps_per_s": round(self.sps(), 1),
                "episodes": self.episodes,
                "mean_return": self.mean_return(),
                "mean_length": float(np.mean(self.lengths)) if self.lengths else float("nan"),
                "policy_loss": self.loss_sums[0] / n,
                "value_loss": self.loss_sums[1] / n,
                "entropy": self.loss_sums[2] / n,
                "lr": annealed_lr(self.cfg, self.step),
            }
        )
        self.loss_sums[:] = 0
        self.loss_n = 0
        self.last_log = time.monotonic()

    def final_eval(self) -> None:
        if self.evaluator is None:
            return
        while self.evaluator.busy:
            result = self.poll_eval(timeout=0.5)
            if result is not None:
                self.on_eval(*result)
        if self.eval_submitted != self.step:
            self.evaluator.submit(self.step, self.model)
            self.eval_submitted = self.step
            while (result := self.poll_eval(timeout=0.5)) is None:
                pass
            self.on_eval(*result)
