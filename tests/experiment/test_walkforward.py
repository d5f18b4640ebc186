"""Walk-forward folds: contiguous out-of-sample tests, chained equity, fold runs on disk."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tradea3c.backtest.engine import BacktestError
from tradea3c.experiment.walkforward import fold_bounds, walkforward


def test_fold_bounds_anchored_and_rolling() -> None:
    anchored = fold_bounds(1000, 3)
    assert [f.train_lo for f in anchored] == [0, 0, 0]
    rolling = fold_bounds(1000, 3, anchored=False)
    assert [f.train_lo for f in rolling] == [0, 249, 499]
    for folds in (anchored, rolling):
        for a, b in zip(folds, folds[1:], strict=False):
            assert b.val_end == a.test_end  # next test's base bar = this test's last bar: contiguous
        assert all(f.train_lo < f.train_end < f.val_end < f.test_end for f in folds)
    assert folds[-1].test_end == 999
    with pytest.raises(BacktestError):
        fold_bounds(10, 8)


def test_walkforward_chains_fold_tests(tmp_path: Path) -> None:
    from tradea3c.experiment import load_strategy

    cfg = load_strategy("signal")
    cfg = replace(cfg, a3c=replace(cfg.a3c, workers=1, tensorboard=False, eval_every=300))
    rep = walkforward(
        cfg, tmp_path / "wf", folds=2, steps=600, progress=False, json_path=tmp_path / "wf.json"
    )
    assert len(rep.folds) == 2 and all(f.label == "out-of-sample" for f in rep.folds)
    assert all((tmp_path / "wf" / f"fold{k}" / "best.pt").is_file() for k in (1, 2))
    # chained equity = product of the folds' total returns; dates contiguous with the benchmark's
    prod = np.prod([1 + f.policy.total_return for f in rep.folds]) - 1
    assert rep.overall["policy"].total_return == pytest.approx(prod, rel=1e-12)
    assert (rep.policy.dates == rep.benchmark.dates).all()
    assert rep.folds[0].test[1] == rep.folds[1].test[0]
    saved = json.loads((tmp_path / "wf.json").read_text())
    assert saved["folds"][1]["policy"]["total_return"] == pytest.approx(rep.folds[1].policy.total_return)


def test_too_many_folds_say_how_many_the_data_allows() -> None:
    for n_bars, folds in ((2500, 1000), (500, 1000), (2000, 60)):
        with pytest.raises(BacktestError, match=r"--folds \d+: \d+ bars allow at most (\d+) folds") as err:
            fold_bounds(n_bars, folds)
        allowed = int(err.value.args[0].split("at most ")[1].split()[0])
        assert allowed >= 1 and fold_bounds(n_bars, allowed)  # the advice works
        assert "\n" not in str(err.value)


def test_cli_walkforward_and_study_refuse_1000_folds(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from tradea3c.cli import app

    for cmd in (["walkforward", "--strategy", "signal"], ["study", "--strategy", "signal"]):
        res = CliRunner().invoke(app, [*cmd, "--folds", "1000", "--quiet", "--out", str(tmp_path / cmd[0])])
        assert res.exit_code == 2 and "allow at most" in res.output, res.output
        assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
        assert not (tmp_path / cmd[0]).exists()
