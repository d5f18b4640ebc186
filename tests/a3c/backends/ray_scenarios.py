"""Ray scenarios for tests/a3c/backends/test_ray.py, run inside a private network namespace.

``python tests/a3c/backends/ray_scenarios.py SCENARIO OUT_DIR`` writes ``OUT_DIR/result.json``; the
pytest side
starts it with ``unshare -n`` (Ray then binds to loopback only) and asserts on the result and on the
run directories it leaves. Everything here is real: ``ray start`` nodes, actors, kills.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))  # the repository root: tests.* imports

CARTPOLE_STOP = 475.0
BACKEND_RUNS = ("budget", "stop", "resume")


def cartpole_config(**kw: Any) -> Any:
    """The local A3C CartPole test's settings (tests/a3c/test_learning.py), on the Ray backend."""
    from tests.a3c.test_learning import CONFIGS

    return replace(CONFIGS["a3c"], **{"backend": "ray", **kw})


def train_cartpole(run_dir: Path, cfg: Any, stop: bool = True) -> Any:
    from tradea3c.a3c import train
    from tradea3c.testing.gym_envs import EpisodeReturnEvaluator, GymEnvFactory

    return train(
        GymEnvFactory("CartPole-v1"),
        cfg,
        run_dir,
        evaluate_fn=EpisodeReturnEvaluator("CartPole-v1", episodes=20),
        select_metric="mean_return",
        should_stop=(lambda m: m["mean_return"] >= CARTPOLE_STOP) if stop else None,
        progress=False,
    )


def summary(run_dir: Path) -> dict[str, Any]:
    return json.loads((run_dir / "summary.json").read_text())


def cluster(out: Path) -> dict[str, Any]:
    """Two nodes x 1 CPU: CartPole to 400, then the planted-signal market against its oracle."""
    from tests.experiment.test_train import agent_and_oracle_log_returns
    from tradea3c.a3c import load_checkpoint
    from tradea3c.data.synthetic import planted_signal_market
    from tradea3c.experiment import load_strategy, train_strategy
    from tradea3c.testing.ray_cluster import local_cluster

    result: dict[str, Any] = {}
    with local_cluster(nodes=2, cpus_per_node=1) as address:
        t0 = time.monotonic()
        res = train_cartpole(out / "cartpole", cartpole_config(address=address))
        result["cartpole"] = {
            "best": res.best_metric,
            "steps": res.global_step,
            "wall_s": time.monotonic() - t0,
            "backend": summary(out / "cartpole")["backend"],
        }
        cfg = load_strategy("signal")
        cfg = replace(
            cfg,
            a3c=replace(
                cfg.a3c, workers=2, total_steps=40_000, tensorboard=False, backend="ray", address=address
            ),
        )
        t0 = time.monotonic()
        res = train_strategy(cfg, out / "signal", progress=False)
        model = load_checkpoint(res.best_checkpoint).model
        agent, oracle = agent_and_oracle_log_returns(
            model, planted_signal_market(1000, seed=12345), cfg.env.for_evaluation()
        )
        result["signal"] = {
            "agent_log_return": agent,
            "oracle_log_return": oracle,
            "wall_s": time.monotonic() - t0,
            "backend": summary(out / "signal")["backend"],
        }
    return result


def value_based(out: Path) -> dict[str, Any]:
    """Two nodes x 1 CPU: each value-based mode on the planted-signal market, scored on an unseen one."""
    from tests.experiment.test_train import agent_and_oracle_log_returns
    from tradea3c.a3c import load_checkpoint
    from tradea3c.data.synthetic import planted_signal_market
    from tradea3c.experiment import load_strategy, train_strategy
    from tradea3c.testing.ray_cluster import local_cluster

    result: dict[str, Any] = {}
    base = load_strategy("signal")
    with local_cluster(nodes=2, cpus_per_node=1) as address:
        for mode in ("nstep_q", "onestep_q", "onestep_sarsa"):
            a3c = replace(
                base.a3c,
                mode=mode,
                workers=2,
                total_steps=12_000,
                eval_every=4_000,
                target_sync=2_000,
                tensorboard=False,
                backend="ray",
                address=address,
            )
            cfg = replace(base, a3c=a3c)
            t0 = time.monotonic()
            res = train_strategy(cfg, out / mode, progress=False)
            loaded = load_checkpoint(res.best_checkpoint)
            agent, oracle = agent_and_oracle_log_returns(
                loaded.model, planted_signal_market(1000, seed=12345), cfg.env.for_evaluation()
            )
            backend = summary(out / mode)["backend"]
            result[mode] = {
                "mode": loaded.config.mode,
                "agent_log_return": agent,
                "oracle_log_return": oracle,
                "best_step": res.best_step,
                "wall_s": time.monotonic() - t0,
                "target_syncs": backend["target_syncs"],
                "backend": backend,
            }
    return result


def _wait_for_actor(suffix: str, timeout: float = 120.0) -> str:
    import ray

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        names = [a["name"] for a in ray.util.list_named_actors(all_namespaces=True)]
        hit = [n for n in names if n.endswith(suffix)]
        if hit:
            return hit[0]
        time.sleep(0.2)
    raise TimeoutError(f"no actor named *{suffix}")


def _wait_for_rows(metrics_csv: Path, rows: int, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if metrics_csv.exists() and len(metrics_csv.read_text().splitlines()) > rows:
            return
        time.sleep(0.2)
    raise TimeoutError(f"{metrics_csv} did not grow")


def faults(out: Path) -> dict[str, Any]:
    """A worker actor killed mid-run (restarted), then the learner killed mid-run (run stops with a
    usable latest.pt, which then resumes under the local backend)."""
    import ray

    from tradea3c.a3c import read_checkpoint

    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False)
    result: dict[str, Any] = {}

    # 1. kill worker 1 after training has visibly started; the run must finish its budget
    box: dict[str, Any] = {}
    cfg = cartpole_config(total_steps=40_000, eval_every=0, log_every_s=0.5)
    thread = threading.Thread(target=lambda: box.update(res=train_cartpole(out / "worker", cfg, stop=False)))
    thread.start()
    name = _wait_for_actor("-worker-1-0")
    _wait_for_rows(out / "worker" / "metrics.csv", 2)
    ray.kill(ray.get_actor(name))
    thread.join(timeout=300)
    res = box["res"]
    result["worker_kill"] = {
        "status": res.status,
        "steps": res.global_step,
        "budget": cfg.total_steps,
        "backend": summary(out / "worker")["backend"],
    }

    # 2. kill the learner: the run stops with LearnerError and leaves a loadable latest.pt
    cfg = cartpole_config(total_steps=5_000_000, eval_every=0, log_every_s=0.5)

    def run() -> None:
        try:
            train_cartpole(out / "learner", cfg, stop=False)
        except Exception as exc:  # noqa: BLE001 - recorded for the pytest side
            box["error"] = (type(exc).__name__, str(exc))

    thread = threading.Thread(target=run)
    thread.start()
    name = _wait_for_actor("-learner")
    _wait_for_rows(out / "learner" / "metrics.csv", 3)
    ray.kill(ray.get_actor(name))
    thread.join(timeout=120)
    latest = read_checkpoint(out / "learner" / "latest.pt")
    result["learner_kill"] = {
        "alive": thread.is_alive(),
        "error": box.get("error"),
        "latest_step": latest["counters"]["global_step"],
        "summary_status": summary(out / "learner")["status"],
    }
    ray.shutdown()

    # 3. that checkpoint resumes under the local backend (2 worker processes)
    step = latest["counters"]["global_step"]
    local = cartpole_config(backend="local", total_steps=step + 4_000, eval_every=0)
    res = train_cartpole_resume(out / "learner", local)
    result["learner_kill"]["local_resume"] = {"status": res.status, "steps": res.global_step, "from": step}
    return result


def train_cartpole_resume(run_dir: Path, cfg: Any) -> Any:
    from tradea3c.a3c import train
    from tradea3c.testing.gym_envs import GymEnvFactory

    return train(GymEnvFactory("CartPole-v1"), cfg, run_dir, resume=True, progress=False)


def driver(out: Path) -> dict[str, Any]:
    """`tradea3c train --backend ray` killed with SIGKILL mid-run on a two-node cluster: its actors go
    with it, --resume continues to the budget; the checkpoint then resumes under local and back."""
    import ray

    from tradea3c.a3c import read_checkpoint
    from tradea3c.resources import shipped_dir
    from tradea3c.testing.ray_cluster import local_cluster

    strategy = out / "s.toml"
    text = shipped_dir().joinpath("signal.toml").read_text()
    strategy.write_text(text.replace("[a3c]\n", "[a3c]\ncheckpoint_every = 2000\ntensorboard = false\n"))
    run_dir = out / "run"
    result: dict[str, Any] = {}
    with local_cluster(nodes=2, cpus_per_node=1) as address:
        base = [sys.executable, "-m", "tradea3c", "train", "--strategy", str(strategy), "--workers", "2"]
        base += ["--quiet", "--out", str(run_dir)]
        ray_args = ["--backend", "ray", "--address", address]
        proc = subprocess.Popen([*base, *ray_args, "--steps", "30000"], stderr=subprocess.PIPE)
        deadline, killed_at = time.monotonic() + 180, 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                killed_at = read_checkpoint(run_dir / "latest.pt")["counters"]["global_step"]
            except Exception:  # noqa: BLE001 - not written yet, or being replaced (atomic rename)
                killed_at = 0
            if killed_at >= 4000:
                break
            time.sleep(0.2)
        result["alive_before_kill"] = proc.poll() is None
        if not result["alive_before_kill"]:  # it ended (or failed) before the kill: say how
            result["early_exit"] = {"rc": proc.returncode, "stderr": proc.stderr.read().decode()[-3000:]}
            return result
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        ray.init(address=address, log_to_driver=False)
        deadline, left = time.monotonic() + 60, None
        while time.monotonic() < deadline:
            left = [
                a["name"] for a in ray.util.list_named_actors(all_namespaces=True) if "tradea3c-" in a["name"]
            ]
            if not left:
                break
            time.sleep(0.5)
        ray.shutdown()
        result["actors_left_after_kill"] = left
        result["killed_at"] = killed_at
        result["checkpoint_at_kill"] = read_checkpoint(run_dir / "latest.pt")["counters"]["global_step"]
        runs = {}
        for name, args in (
            ("ray", [*ray_args, "--steps", "30000"]),
            ("local", ["--backend", "local", "--steps", "34000"]),
            ("ray_again", [*ray_args, "--steps", "38000"]),
        ):
            done = subprocess.run([*base, "--resume", *args], capture_output=True, text=True, timeout=300)
            runs[name] = {
                "rc": done.returncode,
                "stderr": done.stderr[-2000:],
                "steps": read_checkpoint(run_dir / "latest.pt")["counters"]["global_step"],
                "backend": summary(run_dir)["backend"]["name"],
                "status": summary(run_dir)["status"],
            }
        result["resumes"] = runs
    return result


def sigterm(out: Path) -> dict[str, Any]:
    """`tradea3c train --backend ray` (a private local instance) sent SIGTERM mid-run, as `docker stop`
    sends it: what it exits with, says and leaves behind."""
    from tradea3c.a3c import read_checkpoint
    from tradea3c.resources import shipped_dir

    strategy = out / "s.toml"
    text = shipped_dir().joinpath("signal.toml").read_text()
    strategy.write_text(
        text.replace(
            "[a3c]\n", "[a3c]\ncheckpoint_every = 1000000000\ntensorboard = false\nlog_every_s = 0.2\n"
        )
    )
    run_dir = out / "run"
    cmd = [sys.executable, "-m", "tradea3c", "train", "--strategy", str(strategy), "--workers", "2",
           "--backend", "ray", "--steps", "100000000", "--quiet", "--out", str(run_dir)]  # fmt: skip
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline, started = time.monotonic() + 240, False
    while time.monotonic() < deadline and proc.poll() is None and not started:
        rows = (
            (run_dir / "metrics.csv").read_text().splitlines() if (run_dir / "metrics.csv").exists() else []
        )
        started = len(rows) > 1 and int(rows[-1].split(",")[1]) > 0
        time.sleep(0.1)
    if started:
        os.kill(proc.pid, signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    result: dict[str, Any] = {"started": started, "rc": proc.returncode, "stdout": stdout, "stderr": stderr}
    if (run_dir / "summary.json").exists():
        result["summary"] = summary(run_dir)
    if (run_dir / "latest.pt").exists():
        result["latest_step"] = read_checkpoint(run_dir / "latest.pt")["counters"]["global_step"]
    return result


if __name__ == "__main__":
    scenario, out_dir = sys.argv[1], Path(sys.argv[2])
    out_dir.mkdir(parents=True, exist_ok=True)
    if scenario in BACKEND_RUNS:  # test_base.py's every-backend runs, on a private local Ray instance
        from tests.a3c.backends.test_base import RUNS

        outcome = RUNS[scenario](out_dir, {"backend": "ray", "workers": 2})
    else:
        outcome = {
            "cluster": cluster,
            "value_based": value_based,
            "faults": faults,
            "driver": driver,
            "sigterm": sigterm,
        }[scenario](out_dir)
    (out_dir / "result.json").write_text(json.dumps(outcome, indent=2, default=str))
