"""Issue 15, reports and CLI: escaped user strings (also in Chromium), gross vs net equity, the trade
blotter, PBO (CSCV), the reproducibility block, annualisation by bar interval, the walk-forward
HTML page, ``--version``, shell completion and one meaning of ``--json``."""

from __future__ import annotations

import html
import itertools
import json
import math
import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tradea3c.atomic import json_safe
from tradea3c.backtest.baselines import baselines
from tradea3c.backtest.blotter import BLOTTER_COLUMNS
from tradea3c.backtest.pbo import probability_of_backtest_overfitting
from tradea3c.backtest.provenance import NOT_IN_GIT, git_commit
from tradea3c.backtest.report import build_html, fmt, write_html
from tradea3c.backtest.runner import backtest_run
from tradea3c.data.market import Market, synthetic_market
from tradea3c.envs.execution import CostConfig
from tradea3c.metrics import (
    annual_volatility,
    cagr,
    infer_interval,
    periods_per_year,
    sharpe_ratio,
)

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
SCRIPT = "<script>alert('xss')</script>"
IMG = "<img src=x onerror=\"document.title='pwned'\">"


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from tradea3c.experiment import load_strategy, train_strategy

    root = tmp_path_factory.mktemp("extras")
    cfg = load_strategy("signal")
    cfg = replace(cfg, a3c=replace(cfg.a3c, workers=1, total_steps=1000, tensorboard=False, eval_every=500))
    train_strategy(cfg, root / "run", progress=False)
    return root / "run"


@pytest.fixture(scope="module")
def report(run: Path):
    return backtest_run(run, costs_bps=(0, 10))


def _hostile(report, payload: str):
    """The report with ``payload`` in every user-supplied string the tear sheet shows."""
    strategy = {**report.strategy, "name": payload, "market": {"source": payload}}
    return replace(report, strategy=strategy, warnings=[payload], checkpoint=payload)


def _chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    cmd = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        *args,
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


# --- 1. script injection ---------------------------------------------------------------------------


def test_strategy_name_is_escaped_in_the_tear_sheet(report) -> None:
    page = build_html(_hostile(report, SCRIPT))
    assert "<script>alert" not in page
    escaped = html.escape(SCRIPT)  # &lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;
    assert escaped in page
    # quantstats' own <h1> holds the title: escaped there too
    h1 = re.search(r"<h1>(.*?)<dt>", page, re.S)
    assert h1 is not None and escaped in h1.group(1)


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium)")
def test_injected_markup_does_not_run_in_chromium(report, tmp_path: Path) -> None:
    """The payload's onerror would set the title to 'pwned' (the control page shows the check can
    see that); in the tear sheet it is text."""
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html><head><title>t</title></head><body>{IMG}</body></html>")
    dom = _chromium(["--dump-dom", control.resolve().as_uri()], tmp_path / "p1").stdout
    assert "<title>pwned</title>" in dom, dom[-500:]

    sheet = tmp_path / "sheet.html"
    write_html(_hostile(report, IMG), sheet)
    proc = _chromium(["--dump-dom", sheet.resolve().as_uri()], tmp_path / "p2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None and "pwned" not in title.group(1)
    assert "&lt;img src=x onerror=" in dom  # shown as text
    assert '<img src="x"' not in dom and "<img src=x" not in dom


# --- 2. gross vs net, blotter, PBO, reproducibility ------------------------------------------------


def test_gross_and_net_equity(report, tmp_path: Path) -> None:
    pol = report.policy
    np.testing.assert_allclose(pol.gross_equity - pol.equity, np.concatenate([[0], np.cumsum(pol.costs)]))
    g, n = pol.gross_metrics(), pol.metrics()
    assert pol.costs.sum() > 0 and g.total_return - n.total_return == pytest.approx(n.costs_paid)
    # hand check: buy-and-hold pays one entry cost, so its gross curve is its zero-cost replay
    m = synthetic_market(300, 1, seed=1)
    bh = baselines(m, 50, 200, CostConfig(5.0, 2.0, 1.0), rules=[])[0]
    free = baselines(m, 50, 200, CostConfig.zero(), rules=[])[0]
    np.testing.assert_allclose(bh.gross_equity, free.equity, rtol=0, atol=1e-12)
    assert bh.equity[-1] < free.equity[-1]
    page = build_html(report)
    assert "Gross vs net of costs" in page
    for value in (g.total_return, n.total_return):
        assert fmt("total_return", value) in page
    assert "alt='gross vs net equity' src='data:image/png;base64," in page
    data = report.to_json()
    assert data["gross"]["policy"].total_return == pytest.approx(g.total_return)


def test_trade_blotter_beside_the_html(report, tmp_path: Path) -> None:
    out = write_html(report, tmp_path / "sheet.html")
    csv = tmp_path / "sheet.trades.csv"
    assert out.is_file() and csv.is_file()
    b = pd.read_csv(csv)
    assert tuple(b.columns) == BLOTTER_COLUMNS
    pol, m = report.policy, report.market
    assert len(b) == int(pol.trades.sum())  # one asset: one row per fill
    assert b["cost"].sum() == pytest.approx(pol.costs.sum(), rel=1e-9)
    assert set(b["side"]) <= {"buy", "sell"} and (b["quantity"] > 0).all()
    assert set(np.round(b["weight_after"], 9)) <= {0.0, 1.0}  # the signal strategy's positions
    first = np.flatnonzero(pol.trades)[0]
    fill_day = pd.Timestamp(pol.dates[first + 1])
    assert b["date"][0] == str(fill_day.date())
    assert b["price"][0] == pytest.approx(m.open[np.searchsorted(m.dates, fill_day.to_datetime64()), 0])
    assert b["notional"][0] == pytest.approx(b["quantity"][0] * b["price"][0])
    rate = sum(report.costs[k] for k in ("commission_bps", "half_spread_bps", "slippage_bps")) / 1e4
    assert b["cost"][0] == pytest.approx(rate * b["notional"][0])
    page = out.read_text(encoding="utf-8")
    assert f"Trade blotter ({len(b)} fills" in page and "href='sheet.trades.csv'" in page


def test_pbo_hand_checked() -> None:
    """A and B = -A over 4 blocks of 2 bars with means 3, 2, -1, -1 (values mean +- 1): B is the
    in-sample best only when A's in-sample mean is negative. Of the 6 splits, {1,2} (A best in,
    A worse out: 5 vs -2) and {3,4} (B best in, B worse out) pick a loser: PBO = 2/6."""
    a = np.array([[mk + 1.0, mk - 1.0] for mk in (3, 2, -1, -1)]).ravel()
    res = probability_of_backtest_overfitting(np.c_[a, -a], ["A", "B"], n_splits=4)
    assert res.n_combinations == 6 and res.n_bars == 8
    assert res.pbo == pytest.approx(1 / 3)
    assert res.picked == {"A": 5, "B": 1}
    # logit of rank 1 of 2 (w = 1/3) and rank 2 (w = 2/3)
    assert sorted(set(np.round(res.logits, 12))) == [round(math.log(0.5), 12), round(math.log(2), 12)]
    # a candidate that wins every block never overfits; alternating winners always do
    up = np.array([1.0, 3.0] * 4)
    assert probability_of_backtest_overfitting(np.c_[up, up - 1.5], n_splits=4).pbo == 0.0
    alt = np.array([2.0, 1.0, 2.0, 1.0, -1.0, -2.0, -1.0, -2.0])
    assert probability_of_backtest_overfitting(np.c_[alt, -alt], n_splits=2).pbo == 1.0
    with pytest.raises(ValueError):
        probability_of_backtest_overfitting(np.c_[a], n_splits=4)


def test_pbo_matches_a_direct_implementation() -> None:
    rng = np.random.default_rng(7)
    m = rng.standard_normal((63, 5)) * 0.01 + np.array([0, 1e-3, 2e-3, 0, -1e-3])
    m[:, 3] = 0.0  # a flat candidate (cash) has Sharpe 0
    res = probability_of_backtest_overfitting(m, n_splits=6)
    used = m[3:]  # 63 bars -> 6 blocks of 10, the first 3 dropped
    blocks = np.split(used, 6)

    def sharpe(x: np.ndarray) -> np.ndarray:
        sd = x.std(axis=0, ddof=1)
        return np.where(sd > 0, x.mean(axis=0) / np.where(sd > 0, sd, 1), 0.0)

    overfit = []
    for combo in itertools.combinations(range(6), 3):
        ins = np.vstack([blocks[i] for i in combo])
        outs = np.vstack([blocks[i] for i in range(6) if i not in combo])
        best = int(np.argmax(sharpe(ins)))
        so = sharpe(outs)
        rank = 1 + np.sum(so < so[best]) + 0.5 * (np.sum(so == so[best]) - 1)
        overfit.append(rank / 6 <= 0.5)
    assert res.n_combinations == 20 and res.pbo == pytest.approx(np.mean(overfit))


def test_pbo_and_reproducibility_in_the_report(report) -> None:
    b = report.pbo
    assert b is not None and b.candidates == ["policy", *(c.name for c in report.curves[1:])]
    data = json_safe(report.to_json())
    assert data["pbo"]["pbo"] == b.pbo and "logits" not in data["pbo"]
    prov = report.provenance
    assert set(prov["packages"]) == {"tradea3c", "torch", "numpy", "pandas", "gymnasium", "quantstats"}
    assert prov["packages"]["numpy"] == np.__version__
    assert prov["data_fingerprint"] == report.market.fingerprint and prov["command"]
    page = build_html(report)
    text = re.sub(r"<[^>]+>", " ", page)
    assert f"PBO {b.pbo:.4f}" in text and "DSR " in text
    assert "Reproducibility" in text and "git commit" in text
    assert "numpy version" in text and np.__version__ in text
    assert "command line" in text and report.market.fingerprint in text


def test_git_commit_or_not_in_git(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    if shutil.which("git") and (ROOT / ".git").exists():
        commit, tree = git_commit(ROOT)
        assert re.fullmatch(r"[0-9a-f]{40}( \+ uncommitted changes)?", commit) and Path(tree) == ROOT
    assert git_commit(tmp_path / "run", None) == (NOT_IN_GIT, "") or _inside_git(tmp_path)
    monkeypatch.setattr("tradea3c.backtest.provenance.shutil.which", lambda name: None)
    assert git_commit(ROOT) == (NOT_IN_GIT, "")


def _inside_git(path: Path) -> bool:  # a tmp dir inside some git work tree (unusual)
    return any((p / ".git").exists() for p in [path, *path.parents])


# --- 4. annualisation follows the bar interval -----------------------------------------------------


def test_periods_per_year_table_and_inference() -> None:
    assert [periods_per_year(i) for i in ("1d", "1wk", "1mo", "3mo")] == [252, 52, 12, 4]
    assert periods_per_year("1h") == periods_per_year("60m") == 252 * 6.5
    assert periods_per_year("1m") == 252 * 390
    with pytest.raises(ValueError, match="1wk"):
        periods_per_year("2wk")
    assert infer_interval(pd.bdate_range("2020-01-01", periods=50).to_numpy()) == "1d"
    assert infer_interval(pd.date_range("2020-01-03", periods=50, freq="W-FRI").to_numpy()) == "1wk"
    assert infer_interval(pd.date_range("2020-01-31", periods=30, freq="ME").to_numpy()) == "1mo"
    assert infer_interval(pd.date_range("2020-01-02 09:30", periods=30, freq="h").to_numpy()) == "1h"


def _weekly(m: Market) -> Market:
    dates = pd.date_range("2000-01-07", periods=m.n_bars, freq="W-FRI").to_numpy()
    return Market(m.tickers, dates, m.open, m.high, m.low, m.close, m.volume, source=m.source, name=m.name)


def test_weekly_market_annualises_with_52(report, run: Path) -> None:
    weekly = _weekly(synthetic_market(400, 1, seed=4))
    bh = baselines(weekly, 10, 300, CostConfig(), rules=[])[0]
    r, st = bh.returns, bh.metrics()
    assert bh.periods == 52
    assert st.sharpe == pytest.approx(sharpe_ratio(r, 52)) and st.sharpe != pytest.approx(sharpe_ratio(r))
    assert st.volatility == pytest.approx(annual_volatility(r, 52))
    assert st.cagr == pytest.approx(cagr(r, 52))
    # the whole backtest: the policy's own prices relabelled as weekly bars
    rep = backtest_run(run, costs_bps=(0,), market=_weekly(report.market))
    assert rep.interval == "1wk" and rep.periods_per_year == 52
    pr = rep.policy.returns
    assert rep.metrics["policy"].sharpe == pytest.approx(sharpe_ratio(pr, 52))
    assert rep.seeds.runs[0].stats.cagr == pytest.approx(cagr(pr, 52))
    assert rep.to_json()["annualisation"] == {"interval": "1wk", "periods_per_year": 52.0}
    page = build_html(rep)
    assert "Periods/Year: 52" in page  # quantstats got periods_per_year too
    assert "1wk / 52" in page


# --- 3 and 5. walk-forward HTML, --json, --version, completion -------------------------------------


def test_backtest_json_goes_to_stdout(run: Path, tmp_path: Path) -> None:
    from tradea3c.cli import app

    js, sheet = tmp_path / "m.json", tmp_path / "t.html"
    args = ["backtest", str(run), "--costs", "0", "--json", "--json-out", str(js), "--html", str(sheet)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)  # stdout is the JSON and nothing else
    assert data == json.loads(js.read_text())
    assert data["label"] == "out-of-sample" and data["pbo"]["candidates"][0] == "policy"
    assert "buy_and_hold" in res.stderr and "wrote" in res.stderr  # tables and messages: stderr
    assert (tmp_path / "t.trades.csv").is_file()
    old = CliRunner().invoke(app, ["backtest", str(run), "--json", str(tmp_path / "x.json")])
    assert old.exit_code == 2 and "--json-out" in old.output and "Traceback" not in old.output


def test_walkforward_html_and_json(tmp_path: Path) -> None:
    from tradea3c.cli import app

    js = tmp_path / "wf.json"
    args = ["walkforward", "--strategy", "signal", "--folds", "2", "--steps", "300", "--quiet"]
    args += ["--out", str(tmp_path / "wf"), "--json", "--json-out", str(js)]
    args += ["--set", "a3c.workers=1", "--set", "a3c.tensorboard=false", "--set", "a3c.eval_every=150"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data == json.loads(js.read_text()) and len(data["folds"]) == 2
    assert "walk-forward" in res.stderr
    page = (tmp_path / "wf.html").read_text(encoding="utf-8")  # beside the JSON
    text = re.sub(r"<[^>]+>", " ", page)
    for f in data["folds"]:
        assert "..".join(f["test"]) in text and fmt("total_return", f["policy"]["total_return"]) in text
    assert fmt("total_return", data["overall"]["policy"]["total_return"]) in text and "chained" in text
    assert "alt='walk-forward equity' src='data:image/png;base64," in page
    assert "Reproducibility" in text and "<script" not in page


def test_version() -> None:
    from tradea3c._version import __version__
    from tradea3c.cli import app

    res = CliRunner().invoke(app, ["--version"])
    assert res.exit_code == 0 and res.stdout == f"tradea3c {__version__}\n"


def test_shell_completion_script() -> None:
    from tradea3c.cli import app

    res = CliRunner().invoke(app, ["--show-completion", "bash"], prog_name="tradea3c")
    assert res.exit_code == 0, res.output
    assert "_tradea3c_completion()" in res.stdout and "_TRADEA3C_COMPLETE=complete_bash" in res.stdout
    exe = Path(sys.executable).parent / "tradea3c"
    if exe.exists():  # the installed console script, through the environment variable
        env = {"_TRADEA3C_COMPLETE": "source_bash", "PATH": str(exe.parent)}
        out = subprocess.run([str(exe)], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0 and "_tradea3c_completion()" in out.stdout, out.stderr
