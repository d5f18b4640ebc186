"""The top-level verbs: ``tradea3c.load_market``, ``train``, ``backtest``, ``study``; a cheap import."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import tradea3c
from tests.experiment.test_study import small_spec, universe


def test_import_stays_cheap_and_the_verbs_are_there() -> None:
    code = (
        "import sys, tradea3c\n"
        "heavy = [m for m in ('torch', 'pandas', 'ray', 'quantstats', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
        "assert all(callable(getattr(tradea3c, v)) for v in ('load_market', 'train', 'backtest', 'study'))\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_train_then_backtest_on_the_demo_market(tmp_path: Path, tmp_data_dir: Path) -> None:
    market = tradea3c.load_market("demo")
    assert market.n_assets == 1 and len(market.dates) > 1000
    result = tradea3c.train(
        out=tmp_path / "run", steps=2000, set=["a3c.workers=1", "a3c.tensorboard=false"], progress=False
    )
    assert result.status == "completed" and result.global_step >= 2000 and result.latest_checkpoint.is_file()
    report = tradea3c.backtest(tmp_path / "run", costs_bps=(0, 10))
    assert {c.name for c in report.curves} >= {"policy", "buy_and_hold"}


def test_backtest_is_callable_whichever_import_came_first() -> None:
    code = (
        "import tradea3c.backtest.runner\n"  # the package attribute is set by this import
        "import tradea3c\n"
        "from tradea3c.backtest import BacktestError, backtest_run\n"
        "assert callable(tradea3c.backtest) and tradea3c.backtest.backtest_run is backtest_run\n"
        "try:\n"
        "    tradea3c.backtest('no-such-run')\n"
        "except BacktestError as exc:\n"
        "    print('one line:', exc)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.startswith("one line:")


def test_study_is_run_study_with_the_cli_names(tmp_path: Path) -> None:
    spec = small_spec()
    spec = replace(spec, strategy=replace(spec.strategy, a3c=replace(spec.strategy.a3c, total_steps=1000)))
    result = tradea3c.study(
        spec.strategy, tmp_path / "study", market=universe(), mode=spec.mode, seeds=(0,),
        costs_bps=(0.0,), holdout=spec.holdout, progress=False,
    )  # fmt: skip
    assert len(result.tickers) == 2 and (tmp_path / "study").is_dir()
