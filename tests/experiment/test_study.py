"""`tradea3c study`: a killed study resumes to the same table; the CLI writes table, JSON and HTML;
a finished study refuses a changed spec in the same folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tradea3c.cli import app
from tradea3c.data.cache import write_ticker
from tradea3c.data.synthetic import planted_signal_universe
from tradea3c.experiment import load_strategy
from tradea3c.experiment.study import StudySpec, run_study

UNIVERSE_ARGS = (700, 2)  # bars, tickers
SPLIT = ("2001-06-29", "2001-12-31")  # train <= 2001-06, validate 2001-H2, test 2002


def small_spec(mode: str = "per-ticker") -> StudySpec:
    """Single-process runs (bit-reproducible) of the planted-signal strategy, two tickers x two seeds."""
    cfg = load_strategy("signal")
    cfg = replace(
        cfg,
        split=replace(cfg.split, train_end=SPLIT[0], val_end=SPLIT[1]),
        a3c=replace(cfg.a3c, workers=1, total_steps=3000, eval_every=1000, tensorboard=False),
    )
    return StudySpec(cfg, mode, (0, 1), (0.0, 10.0), holdout=0.5)  # type: ignore[arg-type]


def universe():  # noqa: ANN201
    return planted_signal_universe(*UNIVERSE_ARGS, seed=1)


def table(result_json: dict) -> dict:
    """What a user reads: the aggregate and every ticker's numbers."""
    return {
        "aggregate": result_json["aggregate"],
        "tickers": result_json["tickers"],
        "dsr": result_json["dsr"],
    }


KILLED_STUDY = """
import sys
sys.path.insert(0, {tests!r})
from test_study import small_spec, universe
from tradea3c.experiment.study import run_study
run_study(small_spec(), {out!r}, market=universe(), progress=False)
"""


def test_killed_study_resumes_to_the_same_table(tmp_path: Path) -> None:
    whole = run_study(small_spec(), tmp_path / "whole", market=universe(), progress=False)
    out = tmp_path / "killed"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_STUDY.format(tests=str(Path(__file__).parent), out=str(out))],
        start_new_session=True,
    )
    first = out / "runs" / "SIG0-s0" / "summary.json"
    deadline = time.monotonic() + 120
    while not first.exists() and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(child.pid, signal.SIGKILL)  # the study and its workers, mid-way through the second run
    child.wait()
    assert first.exists() and not (out / "study.json").exists()
    finished_at = first.stat().st_mtime_ns

    resumed = run_study(small_spec(), out, market=universe(), progress=False)
    assert first.stat().st_mtime_ns == finished_at  # the finished run was not trained again
    assert table(resumed.to_json()) == table(whole.to_json())
    assert json.loads((out / "study.json").read_text())["aggregate"] == whole.to_json()["aggregate"]


def test_a_changed_spec_is_refused_in_the_same_folder(tmp_path: Path) -> None:
    spec = small_spec()
    spec = replace(spec, strategy=replace(spec.strategy, a3c=replace(spec.strategy.a3c, total_steps=500)))
    run_study(spec, tmp_path, market=universe(), progress=False)
    other = replace(spec, seeds=(0, 1, 2))
    with pytest.raises(ValueError, match="another spec"):
        run_study(other, tmp_path, market=universe(), progress=False)
    # the trial count only deflates the Sharpe: the same runs, re-scored without retraining
    again = run_study(replace(spec, trials=7), tmp_path, market=universe(), progress=False)
    assert again.dsr is not None and again.dsr.n_trials == 7
    # a spec written before a field existed (here: weight_decay) still matches through its default
    stored = json.loads((tmp_path / "study_spec.json").read_text())
    del stored["strategy"]["a3c"]["weight_decay"]
    (tmp_path / "study_spec.json").write_text(json.dumps(stored))
    finished = (tmp_path / "runs" / "SIG0-s0" / "summary.json").stat().st_mtime_ns
    run_study(spec, tmp_path, market=universe(), progress=False)
    assert (tmp_path / "runs" / "SIG0-s0" / "summary.json").stat().st_mtime_ns == finished


def test_cross_sectional_study_reports_seen_and_unseen_tickers(tmp_path: Path) -> None:
    spec = small_spec("cross-sectional")
    res = run_study(spec, tmp_path, market=universe(), progress=False)
    assert [(r.ticker, r.seen) for r in res.tickers] == [("SIG0", True), ("SIG1", False)]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["xs-s0", "xs-s1"]
    agg = res.aggregate
    assert agg["mean_sharpe_seen"]["policy"] == pytest.approx(
        np.mean([s.sharpe for s in res.tickers[0].seeds])
    )
    assert set(agg["mean_sharpe_unseen"]) == set(agg["mean_sharpe"])
    assert agg["n_tickers"] == 2 and set(agg["policy_wins"]) == {
        "buy_and_hold",
        "vol_target",
        "sma_50_200",
        "ts_mom_252",
        "cash",
    }
    # every row is scored on the test range only, after the validation end
    assert res.dates[0] == SPLIT[1] or res.dates[0] > SPLIT[1]
    assert (
        len({len(x) for r in res.tickers for x in r.returns}) == 1
    )  # one test range for every ticker and seed


def _write_cache(cache: Path) -> None:
    m = universe()
    for i, t in enumerate(m.tickers):
        frame = pd.DataFrame(
            {f: getattr(m, f)[:, i] for f in ("open", "high", "low", "close", "volume")},
            index=pd.DatetimeIndex(m.dates),
        )
        write_ticker(cache, t, frame, source="synthetic", adjusted=True)


def _tiny_study_args(cache: Path, out: Path, *extra: str) -> list[str]:
    """`tradea3c study` of two 1,000-step in-process seeds on the cached synthetic tickers."""
    args = ["study", "--strategy", "signal", "--market", "cached", "--data-dir", str(cache)]
    args += ["--train-end", SPLIT[0], "--val-end", SPLIT[1], "--seeds", "0,1", "--steps", "1000"]
    args += ["--set", "a3c.workers=1", "--set", "a3c.tensorboard=false", *extra]
    return [*args, "--out", str(out), "--quiet"]


def test_cli_study_writes_table_json_and_html(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _write_cache(cache)
    out = tmp_path / "study"
    res = CliRunner().invoke(app, _tiny_study_args(cache, out, "--costs", "0,10", "--trials", "5"))
    assert res.exit_code == 0, res.output
    assert "buy_and_hold" in res.output and "deflated Sharpe (N=5)" in res.output
    assert "SIG0" in res.output and "SIG1" in res.output  # the per-ticker table
    data = json.loads((out / "study.json").read_text())
    assert [t["ticker"] for t in data["tickers"]] == ["SIG0", "SIG1"]
    row = data["tickers"][0]
    for col in ("ensemble", "buy_and_hold", "vol_target", "sma_50_200", "ts_mom_252", "cash"):
        assert {"sharpe", "total_return", "max_drawdown", "turnover", "costs_paid"} <= set(row["curves"][col])
    assert set(row["sweep"]) == {"0", "10"}
    assert np.isfinite(data["aggregate"]["mean_sharpe"]["policy"])
    html = (out / "study.html").read_text()
    assert html.count("data:image/png;base64,") >= 3  # scatter, small multiples, cost sensitivity


def test_cli_study_refuses_bad_input_in_one_line(tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for args, needle in [
        (["--mode", "sideways"], "--mode"),
        (["--seeds", ""], "--seeds"),
        (["--folds", "3", "--train-end", "2010-12-31"], "--folds"),
        (["--market", "cached", "--data-dir", str(empty)], "tradea3c fetch"),
    ]:
        res = CliRunner().invoke(app, ["study", *args, "--out", str(tmp_path / "s"), "--quiet"])
        assert res.exit_code == 2 and needle in res.output, res.output
        assert "Traceback" not in res.output and res.output.strip().count("\n") == 0, res.output


def test_cli_backtest_scores_a_ticker_the_policy_never_saw(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    _write_cache(cache)
    run = tmp_path / "run"
    train = ["train", "--strategy", "signal", "--market", "SIG0", "--data-dir", str(cache), "--steps", "500"]
    train += ["--workers", "1", "--train-end", SPLIT[0], "--val-end", SPLIT[1], "--out", str(run), "--quiet"]
    assert CliRunner().invoke(app, train).exit_code == 0
    res = CliRunner().invoke(app, ["backtest", str(run), "--ticker", "SIG1", "--costs", "10"])
    assert res.exit_code == 0, res.output
    assert "SIG1 was not in the policy's training universe" in res.output
    missing = CliRunner().invoke(app, ["backtest", str(run), "--ticker", "NOPE"])
    assert missing.exit_code == 2 and "NOPE" in missing.output and "Traceback" not in missing.output


def test_walk_forward_study_scores_each_fold_after_its_own_validation(tmp_path: Path) -> None:
    from tradea3c.experiment.study import windows

    market = planted_signal_universe(1200, 2, seed=1)
    spec = replace(small_spec(), seeds=(0,), folds=2)
    spec = replace(spec, strategy=replace(spec.strategy, a3c=replace(spec.strategy.a3c, total_steps=1000)))
    res = run_study(spec, tmp_path, market=market, progress=False)
    cuts = windows(spec, market)
    assert [(r.ticker, r.fold) for r in res.tickers] == [("SIG0", 1), ("SIG1", 1), ("SIG0", 2), ("SIG1", 2)]
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == [
        "SIG0-f1-s0",
        "SIG0-f2-s0",
        "SIG1-f1-s0",
        "SIG1-f2-s0",
    ]
    for w in cuts:  # each fold trained on its own split and was scored on the bars after its val_end
        stored = json.loads((tmp_path / "runs" / f"SIG0-f{w.fold}-s0" / "summary.json").read_text())
        assert stored["status"] == "completed"
        row = next(r for r in res.tickers if r.ticker == "SIG0" and r.fold == w.fold)
        assert len(row.returns[0]) == w.test_end - market.dates.searchsorted(np.datetime64(w.split.val_end))
    assert cuts[0].test_end < cuts[1].test_end == market.n_bars - 1
    assert res.dates[0] == cuts[0].split.val_end and res.dates[-1] == str(market.dates[-1])[:10]
    assert res.dsr is not None and res.aggregate["n_tickers"] == 4


def test_portfolio_study_scores_one_row_against_the_portfolio_baselines(tmp_path: Path) -> None:
    from tradea3c.a3c.config import ModelConfig

    spec = small_spec("portfolio")
    cfg = spec.strategy
    anchored = replace(
        cfg.portfolio, window=2, action="simplex", anchor="equal_weight", features=cfg.env.features
    )
    a3c = replace(
        cfg.a3c, model=ModelConfig(kind="per_asset", hidden=(16, 16)), kl_coef=0.05, prior="benchmark"
    )
    spec = replace(spec, strategy=replace(cfg, portfolio=anchored, a3c=a3c))
    res = run_study(spec, tmp_path, market=universe(), progress=False)
    assert sorted(p.name for p in (tmp_path / "runs").iterdir()) == ["portfolio-s0", "portfolio-s1"]
    (row,) = res.tickers
    assert row.ticker == "portfolio" and len(row.seeds) == 2
    # the equal-weight basket held is the benchmark column; every portfolio baseline is a column
    assert {"ensemble", "buy_and_hold", "equal_weight_rebal21", "vol_target_equal_weight", "cash"} <= set(
        row.curves
    )
    assert "equal_weight_hold" not in row.curves
    agg = res.aggregate
    assert agg["n_tickers"] == 1 and "buy_and_hold" in agg["ensemble_wins"]
    sig = agg["significance"]["ensemble"]["buy_and_hold"]
    assert sig.n_pairs == 1 and 0.0 <= sig.portfolio.p_value <= 1.0
    assert res.dsr is not None and res.dsr.n_trials == 2
    assert (tmp_path / "study.json").is_file()


def test_the_same_study_started_twice_is_turned_away_with_the_holders_pid(tmp_path: Path) -> None:
    """Issue 25: a second process on the same --out used to train every run again into the same
    folders; now it gets one line naming the first's PID, and nothing of the first is touched."""
    out = tmp_path / "study"
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_STUDY.format(tests=str(Path(__file__).parent), out=str(out))],
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while (
            not (out / ".tradea3c.lock.pid").exists() and child.poll() is None and time.monotonic() < deadline
        ):
            time.sleep(0.05)
        assert (out / ".tradea3c.lock.pid").exists(), child.poll()
        second = subprocess.run(
            [sys.executable, "-c", KILLED_STUDY.format(tests=str(Path(__file__).parent), out=str(out))],
            capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert second.returncode != 0
        assert f"{out} is in use by PID {child.pid} (a study)" in second.stderr
    finally:
        os.killpg(child.pid, signal.SIGKILL)
        child.wait()


def test_cross_sectional_study_skips_members_not_listed_in_validation_or_test(tmp_path: Path) -> None:
    """A member delisted before the validation range (SIG2) or before the test range (SIG3) is
    skipped with a note, as the per-ticker study skips it; the others are trained and scored."""
    m = planted_signal_universe(700, 4, seed=1)
    listed = np.ones((m.n_bars, m.n_assets), bool)
    listed[300:, 2] = False  # gone during training
    listed[480:, 3] = False  # gone during validation: never trades in the test range
    m = replace(m, tradable=listed)
    spec = small_spec("cross-sectional")
    a3c = replace(spec.strategy.a3c, total_steps=300, eval_every=300)
    spec = replace(spec, seeds=(0,), holdout=0.0, strategy=replace(spec.strategy, a3c=a3c))
    res = run_study(spec, tmp_path, market=m, progress=False)
    assert [r.ticker for r in res.tickers] == ["SIG0", "SIG1"]
    assert set(res.skipped) == {"SIG2", "SIG3"}, res.skipped
    assert "validation range" in res.skipped["SIG2"] and "skipped" in res.skipped["SIG2"]
    assert "SIG3 is not listed in" in res.skipped["SIG3"], res.skipped["SIG3"]
    assert all("\n" not in why for why in res.skipped.values())


def test_cli_study_of_a_value_based_method_ensembles_its_q_values(tmp_path: Path) -> None:
    """``--set a3c.mode=nstep_q``: every seed's run is an n-step Q run and the seeds' ensemble
    (averaged Q-values) is scored like an A3C study's."""
    from tradea3c.a3c import load_checkpoint

    cache = tmp_path / "cache"
    _write_cache(cache)
    out = tmp_path / "study"
    res = CliRunner().invoke(app, _tiny_study_args(cache, out, "--set", "a3c.mode=nstep_q"))
    assert res.exit_code == 0, res.output
    checkpoints = sorted(out.rglob("latest.pt"))
    assert len(checkpoints) == 2 and {load_checkpoint(c).config.mode for c in checkpoints} == {"nstep_q"}
    data = json.loads((out / "study.json").read_text())
    for row in data["tickers"]:
        assert np.isfinite(row["curves"]["ensemble"]["sharpe"]), row["ticker"]
