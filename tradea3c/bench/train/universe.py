"""`tradea3c bench train --universe N`: A3C on a portfolio of N assets with the per-asset policy:
env-steps/s, peak memory of the process tree (psutil) and parameters, next to the parameter count
of the flat MLP for the same universe; and one worker's time by phase with the update's GFLOP/s
against torch's matmul in the same process (`tradea3c.bench.train.phases`)."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from tradea3c.a3c import ModelConfig, train
from tradea3c.a3c.run import steady_steps_per_s
from tradea3c.bench.train.common import bench_config
from tradea3c.bench.train.phases import UpdateProfile, profile_update
from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, PortfolioEnvConfig
from tradea3c.experiment.factory import TradingEnvFactory


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


def tree_memory_mb(root: int) -> float:
    """Memory (MiB) of process ``root`` and its descendants (psutil): proportional set size where
    the OS reports it (shared pages, torch's libraries, counted once in all), else resident size."""
    try:
        parent = psutil.Process(root)
        tree = [parent, *parent.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0
    for proc in tree:
        try:
            total += _memory_bytes(proc)
        except psutil.NoSuchProcess:
            continue  # ended while we looked
    return total / 2**20


def _memory_bytes(proc: psutil.Process) -> int:
    """Proportional set size (Linux), else resident size (other platforms, or PSS not readable)."""
    try:
        pss = getattr(proc.memory_full_info(), "pss", None)
    except psutil.AccessDenied:
        pss = None
    return int(pss) if pss is not None else int(proc.memory_info().rss)


class _PeakMemory:
    """Samples the process tree's summed memory every ``every`` seconds in a thread; ``peak`` in MiB."""

    def __init__(self, every: float = 0.25) -> None:
        self.peak, self._stop = 0.0, threading.Event()
        self._pid, self._every = os.getpid(), every
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_memory_mb(self._pid))
            self._stop.wait(self._every)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_memory_mb(self._pid))


def universe_env(
    assets: int, bars: int, window: int, market: Market | None = None
) -> tuple[Market, PortfolioEnvConfig, DateSplit]:
    """The universe rows' market (a synthetic changing universe of ``assets`` members unless
    ``market`` is given: a tenth each listed late, delisted and halted), env and split (train on
    the first 80% of bars)."""
    from tradea3c.data.synthetic import changing_universe
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
    return market, cfg, split


def profile_universe_update(
    assets: int = 500,
    bars: int = 1500,
    k: int = 16,
    hidden: tuple[int, ...] = (64, 64),
    window: int = 5,
    updates: int = 6,
    market: Market | None = None,
) -> UpdateProfile:
    """One worker of the universe row, timed phase by phase in this process (`profile_update`)."""
    from tradea3c.a3c.models import BuiltinModelFactory

    market, cfg, split = universe_env(assets, bars, window, market)
    model = ModelConfig(kind="per_asset", hidden=hidden)
    envs = TradingEnvFactory(market, cfg, split, base_seed=0, num_envs=k)
    return profile_update(
        envs, BuiltinModelFactory(model, window=window), bench_config(10**9, 1, model), updates
    )


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
    from tradea3c.envs.portfolio_env import portfolio_spaces

    market, cfg, split = universe_env(assets, bars, window, market)
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
            a3c = bench_config(steps, workers, ModelConfig(kind=kind, hidden=hidden))
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
