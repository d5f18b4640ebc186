"""Training-throughput benchmarks, one module each (``tradea3c bench train [--universe N | --ray]``):

* `tradea3c.bench.train.market`: A3C (K = 1, 16) and A2C mode against stable-baselines3's A2C on
  the demo `MarketEnv`, same MLP;
* `tradea3c.bench.train.universe`: the per-asset portfolio policy on N assets (steps/s, peak
  memory, parameters);
* `tradea3c.bench.train.ray`: the Ray backend against the local one, and a projection to more
  workers;

sharing one timed run (`tradea3c.bench.train.common`). The names below are importable from here.
"""

from tradea3c.bench.train.market import TrainBenchRow, run_train_benchmark
from tradea3c.bench.train.ray import RayBenchRow, project_ray_throughput, run_ray_train_benchmark
from tradea3c.bench.train.universe import UniverseBenchRow, run_universe_train_benchmark

__all__ = [
    "RayBenchRow",
    "TrainBenchRow",
    "UniverseBenchRow",
    "project_ray_throughput",
    "run_ray_train_benchmark",
    "run_train_benchmark",
    "run_universe_train_benchmark",
]
