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
