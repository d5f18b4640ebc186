"""Pre-flight: what can be known before workers start is refused first, in one line, exit 2,
with no run directory left behind."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from tradea3c.cli import app

runner = CliRunner()


def _train(args: list[str], out: Path) -> Result:
    return runner.invoke(app, ["train", *args, "--out", str(out), "--quiet"])


def _one_clean_line(output: str) -> bool:
    return "Traceback" not in output and output.strip().count("\n") == 0


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
        # issue 25: a validation end after the data leaves no test range: refused before training
        (
            ["--strategy", "signal", "--train-end", "2005-01-01", "--val-end", "2030-01-01"],
            "--val-end 2030-01-01 leaves no test range",
        ),
        # issue 25: dates pandas cannot hold in nanoseconds wrapped around silently ("no bars")
        (["--strategy", "signal", "--val-end", "2263-01-05"], "--val-end 2263-01-05 is out of range"),
        (
            ["--strategy", "signal", "--train-end", "2300-01-01", "--val-end", "2301-01-01"],
            "--train-end 2300-01-01 is out of range",
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
    res = _train(args, tmp_path / "run")
    assert res.exit_code == 2 and needle in res.output and _one_clean_line(res.output), res.output
    assert not (tmp_path / "run").exists()  # refused before the run directory was made


def test_empty_universe_and_empty_date_range(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    empty = _train(["--market", "cached", "--data-dir", str(cache)], tmp_path / "a")
    assert empty.exit_code == 2 and "tradea3c fetch" in empty.output and _one_clean_line(empty.output)
    no_dates = _train(["--set", "market.start=2030-01-01"], tmp_path / "b")
    assert no_dates.exit_code == 2 and "2030-01-01" in no_dates.output and _one_clean_line(no_dates.output)
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def test_library_raises_preflight_error_before_the_run_dir(tmp_path: Path) -> None:
    from dataclasses import replace

    from tradea3c.experiment import load_strategy, train_strategy
    from tradea3c.experiment.preflight import PreflightError

    cfg = load_strategy("signal")
    cfg = replace(cfg, profiles=("conservative",), split=replace(cfg.split, train_end="2000-03-31"))
    with pytest.raises(PreflightError, match="episode_length=512"):
        train_strategy(cfg, tmp_path / "run", progress=False)
    assert not (tmp_path / "run").exists()
