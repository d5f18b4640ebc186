"""Run directory: resolved config, metrics.csv, eval.csv, TensorBoard events, summary.json, progress.

Layout of ``<run_dir>``::

    config.toml     resolved A3CConfig (tradea3c.config.dump_toml)
    latest.pt       periodic / final / Ctrl-C checkpoint (resume point)
    best.pt         weights with the best evaluation metric so far
    metrics.csv     training rows: wall_s, global_step, steps_per_s, episodes, mean_return, losses, lr
                    (wall_s: training seconds of the whole run; a resumed run continues the count)
    eval.csv        one row per evaluation: wall_s, global_step, <metrics of evaluate_fn>
    tb/             TensorBoard events (main process only)
    summary.json    final status, counters, timings, best metric

Only the trainer (main) process writes here.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
from pathlib import Path
from typing import Any

from tradea3c.a3c.config import A3CConfig
from tradea3c.atomic import atomic_write_text
from tradea3c.config import dump_toml

log = logging.getLogger(__name__)

TRAIN_COLUMNS = (
    "wall_s",
    "global_step",
    "steps_per_s",
    "episodes",
    "mean_return",
    "mean_length",
    "policy_loss",
    "value_loss",
    "entropy",
    "lr",
)


def steady_steps_per_s(metrics_csv: str | Path, warmup_s: float = 0.0, budget: int | None = None) -> float:
    """Training steps/s from a run's ``metrics.csv``, excluding start-up: between the first and the
    last logged row that saw progress and is at least ``warmup_s`` into the run; with ``budget``,
    rows after the first one that reached it (final evaluation, checkpoint) are left out.
    NaN when fewer than two rows qualify."""
    with Path(metrics_csv).open() as fh:
        rows = [(float(r["wall_s"]), int(float(r["global_step"]))) for r in csv.DictReader(fh)]
    if budget is not None:
        end = next((i for i, r in enumerate(rows) if r[1] >= budget), len(rows) - 1)
        rows = rows[: end + 1]
    rows = [r for r in rows if r[1] > 0 and r[0] >= warmup_s]
    if len(rows) < 2 or rows[-1][0] <= rows[0][0]:
        return math.nan
    return (rows[-1][1] - rows[0][1]) / (rows[-1][0] - rows[0][0])


class RunDir:
    def __init__(self, path: str | Path, config: A3CConfig, tensorboard: bool) -> None:
        self.path = Path(path)
        self.path.mkdir(parents=True, exist_ok=True)
        atomic_write_text(self.path / "config.toml", dump_toml(config))
        self.latest = self.path / "latest.pt"
        self.best = self.path / "best.pt"
        self._writer: Any = None
        if tensorboard:
            from torch.utils.tensorboard import SummaryWriter

            self._writer = SummaryWriter(str(self.path / "tb"))
        self._eval_columns: list[str] | None = None

    def _append(self, name: str, columns: list[str] | tuple[str, ...], row: dict[str, Any]) -> None:
        file = self.path / name
        new = not file.exists() or file.stat().st_size == 0
        with file.open("a", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
            if new:
                w.writeheader()
            w.writerow(row)

    def log_train(self, row: dict[str, Any]) -> None:
        self._append("metrics.csv", TRAIN_COLUMNS, row)
        if self._writer is not None:
            for k in TRAIN_COLUMNS[2:]:
                v = row.get(k)
                if isinstance(v, int | float) and math.isfinite(v):
                    self._writer.add_scalar(f"train/{k}", v, row["global_step"])

    def log_eval(self, global_step: int, wall_s: float, metrics: dict[str, float]) -> None:
        if self._eval_columns is None:
            file = self.path / "eval.csv"
            if file.exists() and file.stat().st_size:
                with file.open() as fh:
                    self._eval_columns = next(csv.reader(fh))
            else:
                self._eval_columns = ["wall_s", "global_step", *sorted(metrics)]
        self._append(
            "eval.csv", self._eval_columns, {"wall_s": wall_s, "global_step": global_step, **metrics}
        )
        if self._writer is not None:
            for k, v in metrics.items():
                if isinstance(v, int | float):
                    self._writer.add_scalar(f"eval/{k}", v, global_step)

    def drop_rows_after(self, global_step: int) -> None:
        """On resume from a checkpoint at ``global_step``: drop the log rows written after it (the
        killed session's), so metrics.csv and eval.csv never repeat a step range."""
        for name in ("metrics.csv", "eval.csv"):
            file = self.path / name
            if not file.exists() or not file.stat().st_size:
                continue
            with file.open(newline="") as fh:
                rows = list(csv.reader(fh))
            col = rows[0].index("global_step") if rows and "global_step" in rows[0] else None
            if col is None:
                continue
            kept = [rows[0]] + [r for r in rows[1:] if len(r) > col and float(r[col]) <= global_step]
            if len(kept) < len(rows):
                buf = io.StringIO()
                csv.writer(buf, lineterminator="\r\n").writerows(kept)
                atomic_write_text(file, buf.getvalue())

    def write_summary(self, summary: dict[str, Any]) -> None:
        atomic_write_text(self.path / "summary.json", json.dumps(summary, indent=2, default=str) + "\n")

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()


class Progress:
    """rich progress bar: global steps of the budget, steps/s, episodes, mean return, latest eval."""

    def __init__(self, enabled: bool, total: int, metric: str, label: str = "A3C") -> None:
        self.enabled, self.total, self.metric = enabled, total, metric
        self._bar: Any = None
        if enabled:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            console = Console()
            if not console.is_terminal:  # logs and CI: one final line, wide enough to read
                console.width = 150
            self._bar = Progress(
                TextColumn(f"[bold]{label}[/]"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[stats]}"),
                console=console,
            )
            self._task = self._bar.add_task("train", total=total, stats="starting workers...")
            self._bar.start()

    def update(
        self, step: int, sps: float, episodes: int, mean_return: float, eval_value: float | None
    ) -> None:
        if self._bar is None:
            return
        ev = "-" if eval_value is None else f"{eval_value:.4g}"
        stats = (
            f"{sps:,.0f} steps/s  episodes {episodes:,}  mean return {mean_return:.4g}  {self.metric} {ev}"
        )
        self._bar.update(self._task, completed=min(step, self.total), stats=stats)

    def log(self, message: str) -> None:
        """An event the user should see (a worker restarted, a checkpoint not written): a line above
        the bar, or a warning on the ``tradea3c.a3c`` logger when the bar is off (the CLI shows it;
        a library caller without logging configured still gets it on stderr, Python's last resort)."""
        if self._bar is not None:
            self._bar.console.print(message)
        else:
            log.warning(message)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
