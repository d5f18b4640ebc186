"""The evaluator process: runs ``evaluate_fn(model) -> dict[str, float]`` on weight snapshots.

It runs in its own process so that evaluation (e.g. a greedy backtest on the validation range)
neither slows nor perturbs the training processes (their RNG streams stay untouched, which keeps
``workers=1`` runs reproducible). The trainer sends one snapshot at a time and keeps its own copy,
so ``best.pt`` holds exactly the weights that produced the best metric.
"""

from __future__ import annotations

import queue as queue_mod
import signal
import traceback
from collections.abc import Callable
from typing import Any

from tradea3c.a3c.models.base import ActorCritic

EvaluateFn = Callable[[ActorCritic], dict[str, float]]


class EvaluatorError(RuntimeError):
    """The evaluate_fn raised or the evaluator process died."""


class EvaluatorDied(EvaluatorError):
    """The evaluator process is gone without an error (SIGKILL, the OOM killer); ``why``: its exit code.
    The coordinator starts it again (`Evaluator.restart`) a few times, then stops the run."""

    def __init__(self, why: str) -> None:
        super().__init__(f"evaluator process died ({why})")
        self.why = why


def evaluator_main(
    evaluate_fn: EvaluateFn, model_factory: Any, spaces: tuple[Any, Any], req: Any, res: Any
) -> None:
    import multiprocessing as mp

    from tradea3c.a3c.process_setup import configure_torch_for_worker, name_process

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C and SIGTERM: the trainer stops this process
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = mp.parent_process()
    try:
        name_process("a3c-evaluator")
        configure_torch_for_worker()
        model = model_factory(*spaces)
        while True:
            try:
                item = req.get(timeout=1.0)
            except queue_mod.Empty:
                if parent is not None and not parent.is_alive():
                    return
                continue
            if item is None:
                return
            step, state = item
            model.load_state_dict(state)
            model.eval()
            metrics = {k: float(v) for k, v in evaluate_fn(model).items()}
            res.put(("eval", step, metrics))
    except BaseException:
        res.put(("error", traceback.format_exc()))
        raise


class Evaluator:
    """Handle on the evaluator process (at most one snapshot in flight)."""

    def __init__(
        self, ctx: Any, evaluate_fn: EvaluateFn, model_factory: Any, spaces: tuple[Any, Any]
    ) -> None:
        self.ctx, self.args = ctx, (evaluate_fn, model_factory, spaces)
        self.pending: tuple[int, dict[str, Any]] | None = None
        self._start()

    def _start(self) -> None:
        self.req, self.res = self.ctx.Queue(), self.ctx.Queue()
        self.proc = self.ctx.Process(
            target=evaluator_main, args=(*self.args, self.req, self.res), name="a3c-evaluator", daemon=True
        )
        self.proc.start()

    def restart(self) -> None:
        """A new evaluator process after this one died (new queues: a process killed mid-write can
        leave a queue's lock held); the snapshot it was evaluating is sent to the new one."""
        for q in (self.req, self.res):
            q.cancel_join_thread()  # what is still buffered for the dead process is dropped
            q.close()
        self.proc.join(1.0)
        self._start()
        if self.pending is not None:
            self.req.put(self.pending)

    @property
    def busy(self) -> bool:
        return self.pending is not None

    def submit(self, step: int, model: ActorCritic) -> None:
        state = {k: v.detach().clone() for k, v in model.state_dict().items()}
        self.pending = (step, state)
        self.req.put((step, state))

    def poll(self, timeout: float = 0.0) -> tuple[int, dict[str, float], dict[str, Any]] | None:
        """(step, metrics, snapshot) of a finished evaluation, or None; raises if the evaluator failed."""
        try:
            msg = self.res.get(timeout=timeout) if timeout > 0 else self.res.get_nowait()
        except queue_mod.Empty:
            if self.proc.exitcode is not None:
                raise EvaluatorDied(f"exit code {self.proc.exitcode}") from None
            return None
        if msg[0] == "error":
            raise EvaluatorError(f"evaluate_fn failed in the evaluator process:\n{msg[1]}")
        assert self.pending is not None
        _, step, metrics = msg
        snapshot = self.pending[1]
        self.pending = None
        return step, metrics, snapshot

    def close(self) -> None:
        if self.proc.exitcode is None:
            self.req.put(None)
            self.proc.join(5.0)
        if self.proc.exitcode is None:
            self.proc.kill()
            self.proc.join(2.0)
