"""`tradea3c bench train`: the table's shape and honesty (not its timings)."""

from __future__ import annotations

import pytest

from tradea3c.bench.train import run_train_benchmark
from tradea3c.data.market import synthetic_market


@pytest.mark.slow
def test_train_benchmark_reports_every_candidate_against_sb3() -> None:
    rows = run_train_benchmark(
        steps=6000, workers=2, ks=(1, 4), sb3_envs=4, market=synthetic_market(800, seed=2)
    )
    names = [r.name for r in rows]
    assert len(rows) == 4 and "stable-baselines3" in names[-1] and "A2C mode" in names[2]
    assert rows[-1].ratio == pytest.approx(1.0)
    for r in rows:
        assert r.steps >= 6000 and r.wall_s > 0
        assert r.steps_per_s == pytest.approx(r.steps / r.wall_s)
        assert r.ratio == pytest.approx(r.steps_per_s / rows[-1].steps_per_s)
    assert [r.envs for r in rows] == [2, 8, 8, 4]
    assert rows[-1].steady_steps_per_s == pytest.approx(rows[-1].steps_per_s)  # SB3: learn() wall only
    assert rows[0].steady_steps_per_s > 0  # measured from the run's metrics log (K=1 runs longest)


@pytest.mark.slow
def test_universe_train_bench_reports_steps_memory_and_asset_independent_params() -> None:
    from tradea3c.bench.train import run_universe_train_benchmark

    small = run_universe_train_benchmark(assets=6, bars=600, steps=600, workers=1)
    big = run_universe_train_benchmark(assets=12, bars=600, steps=600, workers=1)
    for rows in (small, big):
        trained, flat = rows
        assert trained.steps >= 600 and trained.steps_per_s > 0 and trained.peak_mem_mb > 0
        assert flat.params > 0 and flat.steps == 0
    assert small[0].params == big[0].params  # per-asset: independent of the universe
    assert big[1].params > small[1].params  # the flat MLP grows with it
