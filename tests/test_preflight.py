"""Pre-flight: what can be known before workers start is refused first, in one line, exit 2,
with no run directory left behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradea3c.cli import app

runner = CliRunner()


def _refused(args: list[str], out: Path, needle: str) -> None:
    res = runner.invoke(app, ["train", *args, "--out", str(out), "--quiet"])
    assert res.exit_code == 2, res.output
    assert needle in res.output, res.output
    assert "Traceback" not in res.output and res.output.strip().count("\n") == 0, res.output
    assert not out.exists()  # nothing written


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        # the planted-signal market spans 2000-2007: a training range of 60 bars is too short for
        # the conservative profile's 512-step episodes (the crash a study hit inside a worker)
        (
            ["--strategy", "signal", "--set", 'profiles=["conservative"]', "--train-end", "2000-03-31"],
            "worker profile 'conservative': split 'train' has",
        ),
        # a validation range after the data: refused before training, not after the whole budget
        (["--strategy", "signal", "--train-end", "2030-01-01", "--val-end", "2031-01-01"], "--val-end"),
        (["--strategy", "signal", "--train-end", "1990-01-01", "--val-end", "1991-01-01"], "--train-end"),
        (
            ["--strategy", "signal", "--train-end", "2005-01-01", "--val-end", "2004-01-01"],
            "train_end < val_end",
        ),
        # a validation range of one bar leaves the evaluation env nothing to step
        (
            ["--strategy", "signal", "--train-end", "2005-06-01", "--val-end", "2005-06-02"],
            "validation env: split 'val' has 0 usable steps",
        ),
    ],
)
def test_training_refusals_happen_before_anything_is_written(
    args: list[str], needle: str, tmp_path: Path
) -> None:
    _refused(args, tmp_path / "run", needle)


def test_empty_universe_and_empty_date_range(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    _refused(["--market", "cached", "--data-dir", str(cache)], tmp_path / "a", "tradea3c fetch")
    _refused(["--set", "market.start=2030-01-01"], tmp_path / "b", "2030-01-01")


def test_library_raises_preflight_error_before_the_run_dir(tmp_path: Path) -> None:
    from dataclasses import replace

    from tradea3c.experiment import load_strategy, train_strategy
    from tradea3c.experiment.preflight import PreflightError

    cfg = load_strategy("signal")
    cfg = replace(cfg, profiles=("conservative",), split=replace(cfg.split, train_end="2000-03-31"))
    with pytest.raises(PreflightError, match="episode_length=512"):
        train_strategy(cfg, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
