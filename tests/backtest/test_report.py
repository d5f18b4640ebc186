"""The HTML tear sheet (``tradea3c.backtest.report``): built offline, self-contained, shows the numbers
of metrics.json, renders in Chromium; user strings escaped (also in Chromium), gross vs net equity, the
trade blotter beside it, PBO and the reproducibility block, annualisation by bar interval. All on the
session's shared tiny planted-signal run (``tiny_run``)."""

from __future__ import annotations

import html
import json
import re
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.conftest import run_chromium
from tradea3c.atomic import json_safe
from tradea3c.backtest.baselines import baselines
from tradea3c.backtest.blotter import BLOTTER_COLUMNS
from tradea3c.backtest.report import build_html, fmt, write_html
from tradea3c.backtest.results import write_json
from tradea3c.backtest.runner import backtest_run
from tradea3c.data.market import Market, synthetic_market
from tradea3c.envs.execution import CostConfig
from tradea3c.metrics import annual_volatility, cagr, sharpe_ratio

SCRIPT = "<script>alert('xss')</script>"
IMG = "<img src=x onerror=\"document.title='pwned'\">"


@pytest.fixture(scope="module")
def sheet(tiny_run: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str]:
    root = tmp_path_factory.mktemp("report")
    html, js = root / "report.html", root / "metrics.json"
    report = backtest_run(tiny_run, costs_bps=(0, 10, 25))
    write_json(report, js)
    write_html(report, html)
    return html, json.loads(js.read_text()), html.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def report(tiny_run: Path):
    return backtest_run(tiny_run, costs_bps=(0, 10))


def test_html_shows_the_json_numbers(sheet) -> None:
    _, data, page = sheet
    text = re.sub(r"<[^>]+>", " ", page)
    for name in ("policy", "buy_and_hold"):
        for key in ("total_return", "sharpe", "max_drawdown", "turnover", "costs_paid"):
            assert fmt(key, data["metrics"][name][key]) in text, (name, key)
    for row in data["cost_sweep"]:
        assert fmt("total_return", row["metrics"]["policy"]["total_return"]) in text
    assert f"DSR {data['seeds']['dsr']['dsr']:.4f}" in text
    assert "OUT-OF-SAMPLE" in text and data["fingerprint"]["current"] in text
    for rng in ("train", "val", "test"):
        assert data["ranges"][rng][1] in text


def test_html_is_self_contained(sheet) -> None:
    _, _, page = sheet
    assert "Cumulative Returns" in page  # the quantstats report is there
    assert "data:image/png;base64," in page  # our positions plot, inline
    assert not re.search(r"""(src|href)=["']https?://[^"']*\.(ico|png|js|css|svg|woff2?)""", page)
    assert "<script src" not in page and 'onload="save()"' not in page


def test_in_sample_label_everywhere(tiny_run: Path, tmp_path: Path) -> None:
    rep = backtest_run(tiny_run, "2004-01-02", "2004-12-31", costs_bps=(), allow_in_sample=True, rules=[])
    write_html(rep, tmp_path / "is.html")
    write_json(rep, tmp_path / "is.json")
    page = (tmp_path / "is.html").read_text(encoding="utf-8")
    assert rep.label == "in-sample" and "IN-SAMPLE" in page and "(in-sample)" in page
    assert "out-of-sample" not in page.lower().replace("in-sample", "")
    assert json.loads((tmp_path / "is.json").read_text())["label"] == "in-sample"


@pytest.mark.browser
def test_renders_in_headlessrun_chromium(sheet, tmp_path: Path) -> None:
    html, _, _ = sheet
    shot = tmp_path / "tearsheet.png"
    args = ["--enable-logging=stderr", "--v=0", f"--screenshot={shot}", "--window-size=1400,3000"]
    proc = run_chromium([*args, html.resolve().as_uri()], tmp_path / "profile")
    log = proc.stdout + proc.stderr
    console = [line for line in log.splitlines() if ":CONSOLE" in line or "net::ERR" in line]
    assert proc.returncode == 0, log[-2000:]
    assert console == [], console
    assert shot.is_file() and shot.stat().st_size > 50_000


# ---------------------------------------------------------------- user strings are escaped
def _hostile(report, payload: str):
    """The report with ``payload`` in every user-supplied string the tear sheet shows."""
    strategy = {**report.strategy, "name": payload, "market": {"source": payload}}
    return replace(report, strategy=strategy, warnings=[payload], checkpoint=payload)


def test_strategy_name_is_escaped_in_the_tear_sheet(report) -> None:
    page = build_html(_hostile(report, SCRIPT))
    assert "<script>alert" not in page
    escaped = html.escape(SCRIPT)  # &lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;
    assert escaped in page
    # quantstats' own <h1> holds the title: escaped there too
    h1 = re.search(r"<h1>(.*?)<dt>", page, re.S)
    assert h1 is not None and escaped in h1.group(1)


@pytest.mark.browser
def test_injected_markup_does_not_run_in_chromium(report, tmp_path: Path) -> None:
    """The payload's onerror would set the title to 'pwned' (the control page shows the check can
    see that); in the tear sheet it is text."""
    control = tmp_path / "control.html"
    control.write_text(f"<!DOCTYPE html><html><head><title>t</title></head><body>{IMG}</body></html>")
    dom = run_chromium(["--dump-dom", control.resolve().as_uri()], tmp_path / "p1").stdout
    assert "<title>pwned</title>" in dom, dom[-500:]

    sheet = tmp_path / "sheet.html"
    write_html(_hostile(report, IMG), sheet)
    proc = run_chromium(["--dump-dom", sheet.resolve().as_uri()], tmp_path / "p2")
    assert proc.returncode == 0, proc.stderr[-2000:]
    dom = proc.stdout
    title = re.search(r"<title>(.*?)</title>", dom, re.S)
    assert title is not None and "pwned" not in title.group(1)
    assert "&lt;img src=x onerror=" in dom  # shown as text
    assert '<img src="x"' not in dom and "<img src=x" not in dom


# ---------------------------------------------------------------- gross vs net, blotter, PBO, provenance
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


# ---------------------------------------------------------------- annualisation follows the bar interval
def _weekly(m: Market) -> Market:
    dates = pd.date_range("2000-01-07", periods=m.n_bars, freq="W-FRI").to_numpy()
    return Market(m.tickers, dates, m.open, m.high, m.low, m.close, m.volume, source=m.source, name=m.name)


def test_weekly_market_annualises_with_52(report, tiny_run: Path) -> None:
    weekly = _weekly(synthetic_market(400, 1, seed=4))
    bh = baselines(weekly, 10, 300, CostConfig(), rules=[])[0]
    r, st = bh.returns, bh.metrics()
    assert bh.periods == 52
    assert st.sharpe == pytest.approx(sharpe_ratio(r, 52)) and st.sharpe != pytest.approx(sharpe_ratio(r))
    assert st.volatility == pytest.approx(annual_volatility(r, 52))
    assert st.cagr == pytest.approx(cagr(r, 52))
    # the whole backtest: the policy's own prices relabelled as weekly bars
    rep = backtest_run(tiny_run, costs_bps=(0,), market=_weekly(report.market))
    assert rep.interval == "1wk" and rep.periods_per_year == 52
    pr = rep.policy.returns
    assert rep.metrics["policy"].sharpe == pytest.approx(sharpe_ratio(pr, 52))
    assert rep.seeds.runs[0].stats.cagr == pytest.approx(cagr(pr, 52))
    assert rep.to_json()["annualisation"] == {"interval": "1wk", "periods_per_year": 52.0}
    page = build_html(rep)
    assert "Periods/Year: 52" in page  # quantstats got periods_per_year too
    assert "1wk / 52" in page
