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


def test_update_profile_reports_phase_shares_and_rates_on_a_tiny_universe() -> None:
    from tradea3c.bench.train.phases import PHASES
    from tradea3c.bench.train.universe import profile_universe_update

    p = profile_universe_update(assets=6, bars=600, k=2, hidden=(8, 8), updates=2)
    assert set(p.shares) == set(PHASES) and all(v >= 0 for v in p.shares.values())
    assert sum(p.shares.values()) == pytest.approx(1.0, abs=0.05)
    assert p.shares["env"] > 0 and p.shares["act"] > 0 and p.shares["update"] > 0
    assert p.threads == 1 and p.steps_per_s > 0
    assert 0 < p.rows <= 20 * 2 * 6  # available items of t_max x K observations
    # per row: actor 21->8->8 and critic, forward 2*in*out, backward 2x (1x for the first layer)
    per_row = 2 * (2 * (2 * 21 * 8) + 3 * (2 * 8 * 8)) + 3 * (2 * 8)
    assert p.gflop_per_update == pytest.approx(per_row * p.rows / 1e9)
    for rate in (p.update_gflop_s, p.matmul_gflop_s, p.matmul_process_gflop_s, p.skinny_gflop_s):
        assert 0 < rate < 1e5


@pytest.mark.slow
def test_universe_cli_prints_the_phase_and_gflops_columns() -> None:
    from typer.testing import CliRunner

    from tradea3c.cli import app

    args = ["bench", "train", "--universe", "6", "--steps", "600", "--workers", "1", "--bars", "600"]
    res = CliRunner().invoke(app, [*args, "--envs-per-worker", "2", "--hidden", "8,8"])
    assert res.exit_code == 0, res.output
    for column in ("env-steps/s", "peak MiB", "share: env", "share: act", "share: update", "share: sync"):
        assert column in res.output
    assert "update GFLOP/s" in res.output and "matmul 1024^3 GFLOP/s" in res.output
