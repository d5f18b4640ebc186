"""`tradea3c bench train --ray`: the local backend (Hogwild processes) against the Ray backend on a
private local Ray instance and on a small local cluster, and a projection of the measured costs
per update to more workers on a real cluster."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from tradea3c.a3c import ModelConfig
from tradea3c.bench.train.common import bench_config, market_env, timed_train


@dataclass(frozen=True)
class RayBenchRow:
    name: str
    workers: int
    nodes: int
    steps: int
    wall_s: float
    steps_per_s: float  # end to end (Ray start-up, actor start-up included)
    steady_steps_per_s: float  # after start-up, from the run's metrics log
    ratio: float  # steady_steps_per_s / the local backend's, same process
    gradient_bytes: int  # per update, worker -> learner
    weights_bytes: int  # per update, learner -> worker
    compute_s: float  # per update: rollout + backward on the worker
    round_trip_s: float  # per update: push gradient, learner queue + apply, pull weights
    apply_s: float  # per update: the learner's optimiser step + weight copy
    staleness_mean: float
    staleness_max: int


def run_ray_train_benchmark(steps: int = 100_000, workers: int = 2, nodes: int = 2) -> list[RayBenchRow]:
    """The local backend (Hogwild processes) against the Ray backend on a private local Ray
    instance and on a ``nodes``-node cluster of ``workers // nodes`` CPUs each, all on this machine,
    same env and MLP as `run_train_benchmark` (K = 1)."""
    from tradea3c.data.demo import demo_market
    from tradea3c.testing.ray_cluster import local_cluster

    market = demo_market()
    cfg, split = market_env(market)
    base = bench_config(steps, workers, ModelConfig(hidden=(64, 64)))
    runs: list[tuple[str, int, tuple[int, float, float, dict[str, Any]]]] = []
    runs.append((f"local backend ({workers} processes)", 1, timed_train(market, cfg, split, base, 1)))
    ray_cfg = replace(base, backend="ray")
    runs.append((f"ray, local instance ({workers} CPUs)", 1, timed_train(market, cfg, split, ray_cfg, 1)))
    with local_cluster(nodes=nodes, cpus_per_node=max(workers // nodes, 1)) as address:
        measured = timed_train(market, cfg, split, replace(ray_cfg, address=address), 1)
        runs.append((f"ray, {nodes} nodes x {max(workers // nodes, 1)} CPU", nodes, measured))
    local_steady = runs[0][2][2]
    rows = []
    for name, n_nodes, (n, wall, steady, backend) in runs:
        ray = backend.get("name") == "ray"
        per = backend.get("seconds_per_update", {})
        rows.append(
            RayBenchRow(
                name,
                workers,
                backend.get("nodes", 1) if ray else n_nodes,
                n,
                wall,
                n / wall,
                steady,
                steady / local_steady,
                backend.get("bytes_per_update", {}).get("gradient", 0),
                backend.get("bytes_per_update", {}).get("weights", 0),
                per.get("compute", float("nan")),
                per.get("round_trip", float("nan")),
                per.get("learner_apply", float("nan")),
                backend.get("staleness", {}).get("mean", float("nan")),
                backend.get("staleness", {}).get("max", 0),
            )
        )
    return rows


def project_ray_throughput(
    row: RayBenchRow,
    steps_per_update: int,
    workers: tuple[int, ...] = (1, 2, 4, 8, 16, 32, 64, 128, 256),
    bandwidth_bytes_s: float = 1.25e9,
    latency_s: float = 2e-4,
) -> list[tuple[int, float, str]]:
    """Env-steps/s against the number of workers on a real cluster, from one measured Ray run.

    Assumptions: every worker has one CPU as fast as this run's (same rollout + backward time);
    a round trip costs the network latency twice plus both payloads at ``bandwidth_bytes_s`` plus
    the learner's apply time (loopback queueing is not carried over); the single learner serves
    updates one at a time, so it saturates at ``1 / (apply time + payload time on its link)``
    updates/s. Returns (workers, projected env-steps/s, the binding limit)."""
    payload_s = (row.gradient_bytes + row.weights_bytes) / bandwidth_bytes_s
    cycle = row.compute_s + 2 * latency_s + payload_s + row.apply_s
    learner_cap = 1.0 / (row.apply_s + payload_s)
    out = []
    for n in workers:
        updates = n / cycle
        limit = "workers"
        if updates > learner_cap:
            updates, limit = learner_cap, "learner"
        out.append((n, updates * steps_per_update, limit))
    return out
