"""`atari benchmark` scores both best.pt (picked on noisy 8-game evaluations) and the final weights
(latest.pt), and reports both (issue 25). Training and evaluation are faked: no emulator runs."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pytest

pytestmark = pytest.mark.atari

SCORES = {"best.pt": 12.0, "latest.pt": 17.0}


def _fakes(monkeypatch, calls: list, *, with_best: bool = True) -> None:
    import tradea3c.atari.benchmark as bm
    import tradea3c.atari.evaluate as ev
    import tradea3c.atari.train as tr

    def train_atari(cfg, run_dir, resume=False, progress=True):
        run_dir = Path(run_dir)
        run_dir.mkdir(parents=True, exist_ok=True)
        for name in SCORES:
            (run_dir / name).write_bytes(b"fake")
        return SimpleNamespace(
            status="completed",
            global_step=500,
            elapsed_s=120.0,
            best_checkpoint=run_dir / "best.pt" if with_best else None,
            latest_checkpoint=run_dir / "latest.pt",
        )

    def evaluate_checkpoint(ckpt, *, episodes=30, noop_starts=True, **kw):
        calls.append((Path(ckpt).name, episodes, noop_starts))
        s = SCORES[Path(ckpt).name]
        return {"score": s, "median": s, "min": s - 1, "max": s + 1, "std": 0.5, "episodes": episodes}

    monkeypatch.setattr(tr, "train_atari", train_atari)
    monkeypatch.setattr(ev, "evaluate_checkpoint", evaluate_checkpoint)
    monkeypatch.setattr(bm, "plot_learning_curve", lambda run_dir, png, *a, **k: Path(png))


def test_benchmark_scores_best_and_final_weights(tmp_path: Path, monkeypatch) -> None:
    from tradea3c.atari.benchmark import run_benchmark

    calls: list = []
    _fakes(monkeypatch, calls)
    rows = run_benchmark(["Pong"], 2000, tmp_path, eval_episodes=5, progress=False)
    assert sorted(calls) == [("best.pt", 5, True), ("latest.pt", 5, True)]
    row = rows[0]
    assert row["score"] == 12.0 and row["checkpoint"] == "best.pt"
    assert row["final_score"] == 17.0 and row["final_episodes"] == 5
    assert row["final_human_normalized"] == pytest.approx((17.0 + 20.7) / 30.0)
    table = json.loads((tmp_path / "benchmark.json").read_text())["games"][0]
    assert table["final_score"] == 17.0 and table["score"] == 12.0
    md = (tmp_path / "benchmark.md").read_text().splitlines()
    assert "best.pt" in md[0] and "latest.pt" in md[0]
    assert "17.0 +- 0.5 (n=5)" in md[2] and "12.0 +- 0.5 (n=5)" in md[2]
    cached = json.loads((tmp_path / "runs" / "Pong" / "final_eval.json").read_text())
    assert cached["final_score"] == 17.0


def test_benchmark_without_best_scores_latest_once(tmp_path: Path, monkeypatch) -> None:
    from tradea3c.atari.benchmark import run_benchmark

    calls: list = []
    _fakes(monkeypatch, calls, with_best=False)
    row = run_benchmark(["Pong"], 2000, tmp_path, eval_episodes=3, progress=False)[0]
    assert calls == [("latest.pt", 3, True)]
    assert row["score"] == row["final_score"] == 17.0 and row["checkpoint"] == "latest.pt"


def test_table_of_an_older_cached_row_without_final_scores(tmp_path: Path) -> None:
    from tradea3c.atari.benchmark import game_row, write_table

    row = game_row("Pong", 1000, {"score": 3.0, "std": 1.0, "episodes": 2})
    for k in [k for k in row if k.startswith("final_") or k == "checkpoint"]:
        del row[k]
    md, _ = write_table([row], tmp_path)
    line = md.read_text().splitlines()[2]
    assert line.startswith("| Pong |") and "3.0 +- 1.0 (n=2)" in line
