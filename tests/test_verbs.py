"""The top-level verbs (``tradea3c._verbs`` and the callable ``tradea3c.backtest`` package):
``load_market``, ``train``, ``backtest``, ``study`` end to end, with the CLI's option names; a cheap
``import tradea3c``."""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
from pathlib import Path

import pytest

import tradea3c
from tests.experiment.test_study import SPLIT, universe

HEAVY = ("torch", "pandas", "pyarrow", "ray", "quantstats", "matplotlib", "ta", "typer", "rich", "jinja2")


def test_import_stays_cheap_and_the_verbs_are_there() -> None:
    """``import tradea3c`` registers the envs and loads none of the heavy stacks (torch, pandas...)."""
    code = (
        "import json, sys, tradea3c\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "names = ('load_market', 'train', 'backtest', 'study')\n"
        "verbs = [v for v in names if callable(getattr(tradea3c, v))]\n"
        "loaded = {m: m in sys.modules for m in ('tradea3c.backtest', 'torch')}\n"
        "print(json.dumps({'heavy': heavy, 'verbs': verbs, 'loaded': loaded}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["heavy"] == []
    assert seen["verbs"] == ["load_market", "train", "backtest", "study"]
    assert seen["loaded"] == {"tradea3c.backtest": True, "torch": False}  # backtest is lazy too


def test_the_verbs_take_the_cli_option_names() -> None:
    """Every keyword of a verb is an option of the command of that name (``--data-dir`` = data_dir)."""
    from typer.main import get_command

    from tradea3c.cli import app

    commands = get_command(app).commands  # type: ignore[attr-defined]
    python_only = {"backtest": {"market"}}  # a Market object to score on: no command-line spelling
    for verb in ("train", "backtest", "study"):
        options = {p.name for p in commands[verb].params} | {"set"}  # --set is the `overrides` list
        names = set(inspect.signature(getattr(tradea3c, verb)).parameters) - python_only.get(verb, set())
        assert names <= options, (verb, sorted(names - options))


def test_load_market_train_then_backtest_on_the_demo_market(tmp_path: Path, tmp_data_dir: Path) -> None:
    market = tradea3c.load_market("demo")
    assert tuple(market.tickers) == ("GOOGL",) and len(market.dates) > 1000
    run = tmp_path / "run"
    result = tradea3c.train(out=run, steps=600, workers=1, set=["a3c.tensorboard=false"], quiet=True)
    assert result.status == "completed" and result.global_step >= 600 and result.latest_checkpoint.is_file()
    again = tradea3c.train(out=run, steps=900, resume=True, quiet=True)  # the run's strategy
    assert again.global_step >= 900 and again.run_dir == run
    html, js = tmp_path / "t.html", tmp_path / "m.json"
    report = tradea3c.backtest(tmp_path / "run", costs=(0, 10), html=html, json_out=js)
    assert {c.name for c in report.curves} >= {"policy", "buy_and_hold"}
    assert [level.cost_bps for level in report.cost_sweep] == [0.0, 10.0]
    assert html.is_file() and json.loads(js.read_text())["label"] == "out-of-sample"


def test_train_takes_a_market_object_or_a_market_name(tmp_path: Path) -> None:
    from tradea3c.data.synthetic import planted_signal_market

    data = planted_signal_market(800, seed=3)
    sets = ["a3c.tensorboard=false", "a3c.eval_every=150"]
    common = {"steps": 300, "workers": 1, "set": sets, "quiet": True}
    given = tradea3c.train("signal", market=data, out=tmp_path / "object", **common)
    named = tradea3c.train("signal", market="signal", out=tmp_path / "name", **common)
    from tradea3c.a3c import read_checkpoint

    fingerprint = lambda r: read_checkpoint(r.latest_checkpoint)["extra"]["market_fingerprint"]  # noqa: E731
    assert fingerprint(given) == data.fingerprint != fingerprint(named)


def test_backtest_is_callable_whichever_import_came_first() -> None:
    code = (
        "import tradea3c.backtest.runner\n"  # importing a submodule sets tradea3c.backtest = the package
        "import tradea3c\n"
        "from tradea3c.backtest import BacktestError, backtest_run\n"
        "assert callable(tradea3c.backtest) and tradea3c.backtest.backtest_run is backtest_run\n"
        "import inspect\n"
        "assert list(inspect.signature(tradea3c.backtest).parameters)[:3] == ['runs', 'start', 'end']\n"
        "try:\n"
        "    tradea3c.backtest('no-such-run')\n"
        "except BacktestError as exc:\n"
        "    print('one line:', exc)\n"
    )
    for first in (code, code.replace("import tradea3c.backtest.runner\n", "import tradea3c\n", 1)):
        done = subprocess.run([sys.executable, "-c", first], capture_output=True, text=True, check=True)
        assert done.stdout.startswith("one line:") and "no such run directory" in done.stdout


def test_study_trains_scores_and_writes_the_page(tmp_path: Path) -> None:
    result = tradea3c.study(
        "signal", market=universe(), mode="per-ticker", seeds=(0,), steps=600, costs=(0,),
        train_end=SPLIT[0], val_end=SPLIT[1], out=tmp_path / "study", quiet=True,
        set=["a3c.workers=1", "a3c.tensorboard=false", "a3c.eval_every=300"],
    )  # fmt: skip
    assert len(result.tickers) == 2 and (tmp_path / "study" / "study.html").is_file()
    with pytest.raises(ValueError, match="per-ticker, cross-sectional or portfolio"):
        tradea3c.study("signal", mode="each", out=tmp_path / "x")
