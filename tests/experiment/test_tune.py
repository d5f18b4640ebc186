"""`tune`: pruning on the validation evaluations, a small search on the planted signal that finds
a configuration capturing the oracle, and the trial count reaching the deflated Sharpe of the chosen
run (the command and a killed search: tests/cli/test_tune.py; the space: test_search_space.py)."""

from __future__ import annotations

import csv
import importlib
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from tests.experiment.test_train import agent_and_oracle_log_returns
from tradea3c.config import ConfigError
from tradea3c.experiment import StrategyConfig, load_strategy, train_strategy, tune
from tradea3c.experiment.study.types import StudySpec

LR_SPACE = '["a3c.lr"]\nlow = 1e-8\nhigh = 1e-2\nlog = true\n'


def tiny(steps: int = 300, **a3c: Any) -> StrategyConfig:
    """The planted-signal strategy on one in-process worker (bit-reproducible), ``steps`` steps."""
    cfg = load_strategy("signal")
    fields = {"workers": 1, "total_steps": steps, "eval_every": steps // 4, "tensorboard": False, **a3c}
    return replace(cfg, a3c=replace(cfg.a3c, **fields))


def space_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "space.toml"
    path.write_text(text)
    return path


def test_trials_below_the_median_are_pruned_and_still_counted(tmp_path: Path, monkeypatch: Any) -> None:
    """The median rule on the running best validation Sharpe: after 3 complete trials, a trial whose
    second evaluation is below theirs stops there (``should_stop``), is pruned, and counts."""
    tune_mod = importlib.import_module("tradea3c.experiment.tune")  # (the package's `tune` is the function)

    def fake_train(cfg: StrategyConfig, run_dir: Path, **kw: Any) -> SimpleNamespace:
        n = int(run_dir.name.split("-")[1])
        evals, seen, status = ([1.0, 2.0, 3.0, 4.0] if n < 3 else [0.5, 0.6, 5.0, 6.0]), [], "completed"
        for sharpe in evals:
            seen.append(sharpe)
            if kw["should_stop"]({"sharpe": sharpe}):
                status = "stopped"
                break
        return SimpleNamespace(best_metric=max(seen), global_step=100 * len(seen), status=status)

    monkeypatch.setattr(tune_mod, "train_strategy", fake_train)
    result = tune(tiny(), space_file(tmp_path, LR_SPACE), tmp_path / "search", trials=5, progress=False)
    states = [(r["trial"], r["state"], r["evaluations"]) for r in result.rows]
    assert states == [
        (0, "complete", 4),
        (1, "complete", 4),
        (2, "complete", 4),
        (3, "pruned", 2),
        (4, "pruned", 2),
    ]
    assert result.n_trials == 5 and load_strategy(result.best_file).tuning.trials == 5  # type: ignore[union-attr]


def test_a_trial_the_strategy_refuses_fails_counts_and_the_search_goes_on(
    tmp_path: Path, monkeypatch: Any, caplog: Any
) -> None:
    tune_mod = importlib.import_module("tradea3c.experiment.tune")

    def fake_train(cfg: StrategyConfig, run_dir: Path, **kw: Any) -> SimpleNamespace:
        if run_dir.name == "trial-0001":
            raise ConfigError("env.window 500: longer than the training range")
        kw["should_stop"]({"sharpe": 1.0})
        return SimpleNamespace(best_metric=1.0, global_step=100, status="completed")

    monkeypatch.setattr(tune_mod, "train_strategy", fake_train)
    result = tune(tiny(), space_file(tmp_path, LR_SPACE), tmp_path / "search", trials=3, progress=False)
    assert [(r["trial"], r["state"], r["counted"]) for r in result.rows] == [
        (0, "complete", True),
        (1, "fail", True),
        (2, "complete", True),
    ]
    assert result.n_trials == 3
    assert "trial 1: failed (env.window 500: longer than the training range)" in caplog.text


@pytest.mark.slow
def test_a_small_search_over_the_learning_rate_captures_the_oracle(tmp_path: Path) -> None:
    """3 trials over 6 decades of learning rate, 1,000 steps each: the sampler (seed 5) proposes two
    rates too small to learn in that budget and one that learns; the search keeps the one with the
    best *validation* Sharpe, and that policy captures the oracle on a market it never saw."""
    from tradea3c.a3c import load_checkpoint
    from tradea3c.data.synthetic import planted_signal_market

    cfg = tiny(1000)
    result = tune(cfg, space_file(tmp_path, LR_SPACE), tmp_path / "search", trials=3, seed=5, progress=False)
    assert result.n_trials == 3 and [r["state"] for r in result.rows] == ["complete"] * 3
    for row in result.rows:  # the objective is the run's best validation Sharpe (its eval.csv), nothing else
        with open(Path(row["run"]) / "eval.csv") as f:
            assert row["value"] == pytest.approx(max(float(r["sharpe"]) for r in csv.DictReader(f)))
    assert result.best_value == max(r["value"] for r in result.rows)

    unseen = planted_signal_market(1000, seed=12345)
    share = {}
    for row in result.rows:
        model = load_checkpoint(Path(row["run"]) / "best.pt").model
        agent, oracle = agent_and_oracle_log_returns(model, unseen, cfg.env.for_evaluation())
        share[row["trial"]] = agent / oracle
    assert share[result.best_trial] >= 0.9, share
    assert share[result.best_trial] == max(share.values()), share
    best = load_strategy(result.best_file)  # loadable as a strategy, with the chosen rate
    assert best.a3c.lr == result.best_params["a3c.lr"] and best.tuning is not None
    assert (best.tuning.trials, best.tuning.trial) == (3, result.best_trial)


def test_the_chosen_run_deflates_its_sharpe_by_every_trial(tmp_path: Path) -> None:
    """best.toml carries ``tuning.trials``; a run trained from it (and the trial's own run) is
    backtested with N = the search's trials unless ``n_trials`` is given; a study of it too."""
    from tradea3c.backtest import backtest_run

    result = tune(tiny(), space_file(tmp_path, LR_SPACE), tmp_path / "search", trials=2, progress=False)
    chosen = load_strategy(result.best_file)
    assert chosen.tuning is not None and chosen.tuning.trials == 2
    assert chosen.tuning.storage == f"sqlite:///{(tmp_path / 'search' / 'tune.sqlite').resolve()}"
    run = tmp_path / "chosen"
    train_strategy(chosen, run, progress=False)
    assert backtest_run(run, costs_bps=(0.0,)).seeds.dsr.n_trials == 2
    assert backtest_run(run, costs_bps=(0.0,), n_trials=7).seeds.dsr.n_trials == 7  # a count given wins
    assert backtest_run(result.best_run, costs_bps=(0.0,)).seeds.dsr.n_trials == 2
    untuned = tmp_path / "untuned"
    train_strategy(tiny(), untuned, progress=False)
    assert backtest_run(untuned, costs_bps=(0.0,)).seeds.dsr.n_trials == 1
    spec = StudySpec(chosen)
    assert spec.n_trials == 2 and replace(spec, trials=9).n_trials == 9
    assert spec.key() == StudySpec(replace(chosen, tuning=None)).key()  # the count only changes the DSR
    other = space_file(tmp_path, '["a3c.entropy_coef"]\nlow = 0.0\nhigh = 0.05\n')
    with pytest.raises(ConfigError, match="holds a search with other settings \\(the search space"):
        tune(tiny(), other, tmp_path / "search", trials=3, progress=False)  # a resume must search the same
    with pytest.raises(ConfigError, match="other settings \\(a3c.total_steps\\)"):
        tune(
            tiny(400, eval_every=75),
            space_file(tmp_path, LR_SPACE),
            tmp_path / "search",
            trials=3,
            progress=False,
        )
