"""The one supervision loop every backend shares, and the behaviour every backend must have."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from tests.a3c.backends.conftest import ray_scenario
from tradea3c.a3c import A3CConfig, ModelConfig, WorkerError, read_checkpoint, train
from tradea3c.a3c.backends.base import Died, Event, Finished, Report, supervise
from tradea3c.a3c.update import UpdateStats
from tradea3c.testing.gym_envs import EpisodeReturnEvaluator, GymEnvFactory


class FakeCoordinator:
    """What `supervise` uses of the coordinator, recording what it is told."""

    def __init__(self, restarts_allowed: int) -> None:
        self.restarts_allowed, self.stats, self.deaths, self.ticks = restarts_allowed, [], [], 0
        self.stop_requested = False

    def on_stats(self, stats: UpdateStats) -> None:
        self.stats.append(stats.worker)

    def worker_died(self, index: int, why: str, restarts: dict[int, int], alive: int) -> bool:
        self.deaths.append((index, why, alive))
        if restarts[index] < self.restarts_allowed:
            restarts[index] += 1
            return True
        return False

    def tick(self) -> None:
        self.ticks += 1


class ScriptedBackend:
    """Plays a fixed list of event batches, one per poll; records starts, restarts and stops."""

    name, worker_noun = "scripted", "scripted worker"

    def __init__(self, script: list[list[Event]], workers: int = 2) -> None:
        self.script, self.workers = list(script), workers
        self.restarted: list[tuple[int, int]] = []
        self.stopped = self.stop_asked = False

    def start(self, co: Any) -> list[int]:
        return list(range(self.workers))

    def restart(self, worker: int, restart: int) -> None:
        self.restarted.append((worker, restart))

    def poll(self, timeout: float) -> list[Event]:
        return self.script.pop(0) if self.script else []

    def request_stop(self) -> None:
        self.stop_asked = True

    def stop(self) -> None:
        self.stopped = True


def test_reports_reach_the_coordinator_and_finished_workers_end_the_loop() -> None:
    co, restarts = FakeCoordinator(3), {}
    script: list[list[Event]] = [
        [Report(UpdateStats(0))],
        [Report(UpdateStats(1)), Finished(1)],
        [Finished(0)],
    ]
    backend = ScriptedBackend(script)
    supervise(co, backend, restarts)  # type: ignore[arg-type]
    assert co.stats == [0, 1] and co.ticks == 3 and backend.stopped and restarts == {0: 0, 1: 0}


def test_a_dead_worker_is_restarted_then_the_run_goes_on_without_it() -> None:
    co, restarts = FakeCoordinator(1), {}
    script: list[list[Event]] = [[Died(1, "exit code -9")], [Died(1, "exit code -9")], [Finished(0)]]
    backend = ScriptedBackend(script)
    supervise(co, backend, restarts)  # type: ignore[arg-type]
    assert backend.restarted == [(1, 1)] and restarts == {0: 0, 1: 1}
    assert [d[2] for d in co.deaths] == [2, 2]  # both times two workers were alive before it died


def test_every_worker_dead_stops_the_run_and_still_stops_the_backend() -> None:
    co, restarts = FakeCoordinator(0), {}
    finished_first = ScriptedBackend([[Finished(0)], [Died(1, "gone")]])
    supervise(co, finished_first, restarts)  # type: ignore[arg-type]  # one finished: not all dead
    backend = ScriptedBackend([[Died(0, "gone")], [Died(1, "gone")]])
    with pytest.raises(WorkerError, match="every scripted worker died"):
        supervise(co, backend, restarts)  # type: ignore[arg-type]
    assert backend.stopped


def test_a_stop_request_is_passed_to_the_backend() -> None:
    co, restarts = FakeCoordinator(0), {}
    co.stop_requested = True
    backend = ScriptedBackend([[Finished(0), Finished(1)]])
    supervise(co, backend, restarts)  # type: ignore[arg-type]
    assert backend.stop_asked


# ---------------------------------------------------------------- every backend, through train()
# Each run is a module-level function of (run_dir, backend settings) returning plain data, so that
# tests/a3c/backends/ray_scenarios.py runs the very same call on Ray inside a private network namespace.
BACKENDS = [
    pytest.param({"workers": 2}, id="local processes"),
    pytest.param({"workers": 1}, id="in-process"),
    pytest.param({"mode": "a2c", "workers": 2}, id="a2c"),
    pytest.param({"backend": "ray", "workers": 2}, id="ray", marks=[pytest.mark.ray, pytest.mark.slow]),
]
CARTPOLE = GymEnvFactory("CartPole-v1")
SMALL = ModelConfig(hidden=(8,))


def budget_run(run_dir: Path, backend: dict[str, Any]) -> dict[str, Any]:
    cfg = A3CConfig(total_steps=2000, t_max=10, seed=1, tensorboard=False, model=SMALL, **backend)
    res = train(CARTPOLE, cfg, run_dir, progress=False)
    return {"status": res.status, "global_step": res.global_step, "episodes": res.episodes}


def stop_run(run_dir: Path, backend: dict[str, Any]) -> dict[str, Any]:
    cfg = A3CConfig(
        total_steps=1_000_000, t_max=10, seed=1, eval_every=500, tensorboard=False, model=SMALL, **backend
    )
    res = train(
        CARTPOLE,
        cfg,
        run_dir,
        evaluate_fn=EpisodeReturnEvaluator("CartPole-v1", episodes=1),
        select_metric="mean_return",
        should_stop=lambda metrics: True,
        progress=False,
    )
    return {"status": res.status, "global_step": res.global_step}


def resume_run(run_dir: Path, backend: dict[str, Any]) -> dict[str, Any]:
    cfg = A3CConfig(total_steps=1000, t_max=10, seed=1, tensorboard=False, model=SMALL, **backend)
    first = train(CARTPOLE, cfg, run_dir, progress=False)
    episodes = read_checkpoint(run_dir / "latest.pt")["counters"]["episodes"]
    again = train(CARTPOLE, replace(cfg, total_steps=2000), run_dir, resume=True, progress=False)
    counters = read_checkpoint(run_dir / "latest.pt")["counters"]
    return {"first": first.global_step, "first_episodes": episodes, "status": again.status,
            "global_step": again.global_step, "counters": counters}  # fmt: skip


RUNS = {"budget": budget_run, "stop": stop_run, "resume": resume_run}


def run_on(backend: dict[str, Any], run: str, run_dir: Path) -> dict[str, Any]:
    """``RUNS[run]`` on that backend: here, or for Ray in a private network namespace."""
    if backend.get("backend") == "ray":
        return ray_scenario(run, run_dir)
    return RUNS[run](run_dir, backend)


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_spends_the_budget_and_reports_itself(tmp_path: Path, backend: dict[str, Any]) -> None:
    res = run_on(backend, "budget", tmp_path)
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert res["status"] == "completed" and res["global_step"] >= 2000 and res["episodes"] > 0
    assert summary["backend"]["name"] == backend.get("backend", "local")
    assert summary["backend"]["events"] == []
    assert summary["updates"] >= 2000 // (10 * (2 if backend.get("mode") == "a2c" else 1))
    assert (tmp_path / "latest.pt").is_file() and (tmp_path / "metrics.csv").is_file()


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_stops_when_should_stop_says_so(tmp_path: Path, backend: dict[str, Any]) -> None:
    res = run_on(backend, "stop", tmp_path)
    assert res["status"] == "stopped" and res["global_step"] < 1_000_000
    assert (tmp_path / "latest.pt").is_file()


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_backend_resumes_where_the_run_stopped(tmp_path: Path, backend: dict[str, Any]) -> None:
    res = run_on(backend, "resume", tmp_path)
    assert res["first"] >= 1000 and res["status"] == "completed" and res["global_step"] >= 2000
    counters = res["counters"]  # latest.pt: the resumed run's own counters, continued
    assert counters["epoch"] == 1 and counters["global_step"] == res["global_step"]
    assert counters["episodes"] > res["first_episodes"]
    lines = (tmp_path / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("wall_s,") and not any(line.startswith("wall_s,") for line in lines[1:])
