"""A leveraged policy that loses everything: the backtest says when it was ruined, keeps scoring it
(zero equity) to the end of the range, and scores every baseline on the whole range."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner


@pytest.fixture(scope="module")
def leveraged_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The planted-signal strategy with positions 50x and 60x long (ruined by a 2% fall)."""
    from tradea3c.experiment import load_strategy, train_strategy

    cfg = load_strategy("signal")
    env = replace(cfg.env, positions=(50.0, 60.0), max_leverage=60.0)
    a3c = replace(cfg.a3c, workers=1, total_steps=200, eval_every=100, tensorboard=False)
    run = tmp_path_factory.mktemp("lev") / "run"
    train_strategy(replace(cfg, env=env, profiles=(), a3c=a3c), run, progress=False)
    return run


def test_a_ruined_policy_is_reported_and_baselines_cover_the_whole_range(leveraged_run: Path) -> None:
    from tradea3c.backtest import backtest_run

    rep = backtest_run(leveraged_run, costs_bps=(0.0,))
    n = {len(c.equity) for c in rep.curves}
    assert len(n) == 1, n  # the policy, padded with zero equity, and every baseline: the same bars
    bars = n.pop() - 1
    assert rep.metrics["buy_and_hold"].bars == bars == rep.metrics["policy"].bars
    pol = rep.policy
    k = pol.ruined_at
    assert k is not None and k < bars and (pol.equity[k:] == 0).all() and (pol.equity[:k] > 0).all()
    day = str(pol.dates[k])[:10]
    line = f"the policy was ruined on {day} (equity <= 0) after {k} of {bars} bars"
    assert any(w.startswith(line) for w in rep.warnings), rep.warnings
    m = rep.metrics["policy"]
    assert m.total_return == -1.0 and m.final_equity == 0.0 and m.max_drawdown == -1.0
    assert all(np.isfinite(getattr(m, f)) for f in ("sharpe", "sortino", "volatility", "turnover"))
    assert np.isfinite(pol.returns).all() and (pol.returns[k:] == 0).all()
    assert np.isfinite(pol.gross_returns).all() and np.isfinite(pol.gross_metrics().sharpe)
    assert rep.cost_sweep[0].metrics["policy"].bars == bars
    assert rep.seeds.runs[0].stats.total_return == -1.0


def test_cli_warns_of_the_ruin(leveraged_run: Path) -> None:
    from tradea3c.cli import app

    res = CliRunner().invoke(app, ["backtest", str(leveraged_run), "--costs", "0"])
    assert res.exit_code == 0, res.output
    assert "was ruined on" in res.output and "zero-equity" in res.output
