"""Training-throughput benchmark: env-steps/s of our A3C (2 workers, K = 1 and K = 16) and A2C mode
against stable-baselines3's A2C with the same MLP on the same env, all run in this process.

Every candidate trains on the unperturbed demo `MarketEnv` (window 30, 15 features, costs) with an
actor and a critic MLP of ``hidden`` tanh units and t_max / n_steps = 20. Our numbers are wall-clock
from the trainer's start (worker start-up included); SB3's is ``learn()``'s wall-clock. SB3 runs its
envs in one process (DummyVecEnv) with torch allowed ``threads`` threads.
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import torch

from tradea3c.a3c import A3CConfig, ModelConfig, train
from tradea3c.a3c.run import steady_steps_per_s
from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, MarketEnvConfig
from tradea3c.experiment.factory import TradingEnvFactory


@dataclass(frozen=True)
class TrainBenchRow:
    name: str
    envs: int  # total envs stepped (workers x K)
    steps: int
    wall_s: float
    steps_per_s: float  # end to end: steps / wall (process start-up included)
    ratio: float  # steps_per_s / SB3 A2C's
    steady_steps_per_s: float  # after start-up: from the run's own metrics log (SB3: = steps_per_s)


def _bench_config(steps: int, workers: int, model: ModelConfig) -> A3CConfig:
    """A3C settings of every training benchmark row: t_max 20, no checkpoints or TensorBoard, metrics
    logged every 0.1 s (the "after start-up" rate reads them)."""
    return A3CConfig(
        total_steps=steps,
        workers=workers,
        t_max=20,
        tensorboard=False,
        checkpoint_every=0,
        checkpoint_every_s=0.0,
        log_every_s=0.1,
        model=model,
    )


def _ours(
    market: Market, cfg: MarketEnvConfig, split: DateSplit, a3c: A3CConfig, k: int
) -> tuple[int, float, float]:
    n, wall, steady, _ = _ours_with_backend(market, cfg, split, a3c, k)
    return n, wall, steady


def _ours_with_backend(
    market: Market, cfg: MarketEnvConfig, split: DateSplit, a3c: A3CConfig, k: int
) -> tuple[int, float, float, dict[str, Any]]:
    """(steps, wall s, steps/s after start-up, the run summary's backend block)."""
    factory = TradingEnvFactory(market, cfg, split, base_seed=a3c.seed, num_envs=k)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        result = train(factory, a3c, Path(tmp), progress=False)
        wall = time.perf_counter() - t0
        backend = json.loads((Path(tmp) / "summary.json").read_text())["backend"]
        return result.global_step, wall, steady_steps_per_s(Path(tmp) / "metrics.csv"), backend


def _sb3(
    market: Market,
    cfg: MarketEnvConfig,
    split: DateSplit,
    steps: int,
    n_envs: int,
    hidden: tuple[int, ...],
    threads: int,
) -> tuple[int, float]:
    from stable_baselines3 import A2C
    from stable_baselines3.common.vec_env import DummyVecEnv

    from tradea3c.envs.market_env import MarketEnv

    def make(i: int):
        return lambda: MarketEnv(market, cfg, split=split, split_name="train")

    venv = DummyVecEnv([make(i) for i in range(n_envs)])
    venv.seed(0)
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        model = A2C(
            "MlpPolicy",
            venv,
            n_steps=20,
            device="cpu",
            seed=0,
            verbose=0,
            policy_kwargs={
                "net_arch": {"pi": list(hidden), "vf": list(hidden)},
                "activation_fn": torch.nn.Tanh,
            },
        )
        t0 = time.perf_counter()
        model.learn(total_timesteps=steps)
        return int(model.num_timesteps), time.perf_counter() - t0
    finally:
        torch.set_num_threads(before)
        venv.close()


def run_train_benchmark(
    steps: int = 100_000,
    workers: int = 2,
    ks: tuple[int, ...] = (1, 16),
    sb3_envs: int = 16,
    hidden: tuple[int, ...] = (64, 64),
    market: Market | None = None,
) -> list[TrainBenchRow]:
    """Train each candidate for about ``steps`` env-steps and report steps/s and the ratio to SB3 A2C."""
    from tradea3c.data.demo import demo_market

    market = market if market is not None else demo_market()
    cfg = MarketEnvConfig(positions=(-1.0, 0.0, 1.0))
    split = DateSplit(str(market.dates[int(0.7 * market.n_bars)])[:10], str(market.dates[-2])[:10])
    base = _bench_config(steps, workers, ModelConfig(hidden=hidden))
    raw: list[tuple[str, int, int, float, float]] = []
    for k in ks:
        n, wall, steady = _ours(market, cfg, split, base, k)
        raw.append((f"tradea3c A3C ({workers} workers, K={k})", workers * k, n, wall, steady))
    n, wall, steady = _ours(market, cfg, split, replace(base, mode="a2c"), max(ks))
    raw.append(
        (f"tradea3c A2C mode (1 process, {workers}x{max(ks)} envs)", workers * max(ks), n, wall, steady)
    )
    n, wall = _sb3(market, cfg, split, steps, sb3_envs, hidden, threads=workers)
    raw.append((f"stable-baselines3 A2C ({sb3_envs} envs, {workers} threads)", sb3_envs, n, wall, n / wall))
    sb3_sps = raw[-1][2] / raw[-1][3]
    return [
        TrainBenchRow(name, envs, n, wall, n / wall, (n / wall) / sb3_sps, steady)
        for name, envs, n, wall, steady in raw
    ]


@dataclass(frozen=True)
class UniverseBenchRow:
    name: str
    assets: int
    envs: int  # total envs stepped (workers x K)
    steps: int
    wall_s: float
    steps_per_s: float  # end to end: steps / wall (process start-up included)
    steady_steps_per_s: float  # after start-up, from the run's metrics log
    params: int  # parameters of the model trained
    peak_mem_mb: float  # peak of the summed PSS of this process and its workers


def _tree_rss_mb(root: int) -> float:
    """Memory (MiB) of process ``root`` and its descendants: proportional set size where the OS
    reports it (shared pages, torch's libraries, counted once in all), else resident size."""
    import psutil

    try:
        tree = [psutil.Process(root), *psutil.Process(root).children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in tree:
        try:
            info = proc.memory_full_info() if hasattr(proc, "memory_full_info") else proc.memory_info()
            total += getattr(info, "pss", info.rss)
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
    return total / 2**20


class _PeakMemory:
    """Samples the process tree's summed memory every ``every`` seconds in a thread; ``peak`` in MiB."""

    def __init__(self, every: float = 0.25) -> None:
        import os
        import threading

        self.peak, self._stop = 0.0, threading.Event()
        self._pid, self._every = os.getpid(), every
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, _tree_rss_mb(self._pid))
            self._stop.wait(self._every)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, _tree_rss_mb(self._pid))


def run_universe_train_benchmark(
    assets: int = 500,
    bars: int = 1500,
    steps: int = 100_000,
    workers: int = 2,
    ks: tuple[int, ...] = (16,),
    hidden: tuple[int, ...] = (64, 64),
    window: int = 5,
    market: Market | None = None,
) -> list[UniverseBenchRow]:
    """A3C on a portfolio of ``assets`` members (a synthetic changing universe unless ``market`` is
    given) with the per-asset policy, each worker stepping K replays of `PortfolioVectorEnv`:
    env-steps/s, peak memory and parameters (with the flat MLP's count for the same universe)."""
    from tradea3c.a3c.models import BuiltinModelFactory
    from tradea3c.data.synthetic import changing_universe
    from tradea3c.envs.config import PortfolioEnvConfig
    from tradea3c.envs.portfolio_env import portfolio_spaces
    from tradea3c.features.config import FeatureConfig

    if market is None:
        n_change = max(assets // 10, 1)
        market = changing_universe(
            assets, bars, seed=0, late=n_change, delisted=n_change, halts=n_change, placeholders=0
        )
    cfg = PortfolioEnvConfig(
        action="simplex",
        window=window,
        episode_length=252,
        features=FeatureConfig(names=("ret_1", "ret_5", "ret_20", "vol_20")),
    )
    split = DateSplit(str(market.dates[int(0.8 * market.n_bars)])[:10], str(market.dates[-2])[:10])
    spaces = portfolio_spaces(cfg, market.n_assets, len(cfg.features.names))  # no env (features) needed
    rows: list[UniverseBenchRow] = []
    for kind in ("per_asset", "mlp"):
        factory = BuiltinModelFactory(
            ModelConfig(kind=kind, hidden=hidden), window=window if kind == "per_asset" else None
        )
        params = sum(p.numel() for p in factory(*spaces).parameters())
        if kind == "mlp":  # counted only: its input grows with the universe
            rows.append(
                UniverseBenchRow("flat MLP (parameters only)", market.n_assets, 0, 0, 0, 0, 0, params, 0)
            )
            continue
        for k in ks:
            a3c = _bench_config(steps, workers, ModelConfig(kind=kind, hidden=hidden))
            envs = TradingEnvFactory(market, cfg, split, base_seed=0, num_envs=k)
            with tempfile.TemporaryDirectory() as tmp, _PeakMemory() as mem:
                t0 = time.perf_counter()
                result = train(envs, a3c, Path(tmp), progress=False, model_factory=factory)
                wall = time.perf_counter() - t0
                steady = steady_steps_per_s(Path(tmp) / "metrics.csv")
            rows.append(
                UniverseBenchRow(
                    f"A3C per-asset policy ({workers} workers, K={k})",
                    market.n_assets,
                    workers * k,
                    result.global_step,
                    wall,
                    result.global_step / wall,
                    steady,
                    params,
                    mem.peak,
                )
            )
    return rows


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
    cfg = MarketEnvConfig(positions=(-1.0, 0.0, 1.0))
    split = DateSplit(str(market.dates[int(0.7 * market.n_bars)])[:10], str(market.dates[-2])[:10])
    base = _bench_config(steps, workers, ModelConfig(hidden=(64, 64)))
    runs: list[tuple[str, int, tuple[int, float, float, dict[str, Any]]]] = []
    runs.append((f"local backend ({workers} processes)", 1, _ours_with_backend(market, cfg, split, base, 1)))
    ray_cfg = replace(base, backend="ray")
    runs.append(
        (f"ray, local instance ({workers} CPUs)", 1, _ours_with_backend(market, cfg, split, ray_cfg, 1))
    )
    with local_cluster(nodes=nodes, cpus_per_node=max(workers // nodes, 1)) as address:
        measured = _ours_with_backend(market, cfg, split, replace(ray_cfg, address=address), 1)
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
