"""HTML tear sheet: built offline, self-contained, shows the numbers of metrics.json, renders in Chromium."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from pathlib import Path

import pytest

from tradea3c.backtest.report import fmt, write_html
from tradea3c.backtest.results import write_json
from tradea3c.backtest.runner import backtest_run

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="module")
def sheet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict, str]:
    from tradea3c.experiment import load_strategy, train_strategy

    root = tmp_path_factory.mktemp("report")
    cfg = load_strategy("signal")
    cfg = replace(cfg, a3c=replace(cfg.a3c, workers=1, total_steps=1000, tensorboard=False, eval_every=500))
    train_strategy(cfg, root / "run", progress=False)
    html, js = root / "report.html", root / "metrics.json"
    report = backtest_run(root / "run", costs_bps=(0, 10, 25))
    write_json(report, js)
    write_html(report, html)
    return html, json.loads(js.read_text()), html.read_text(encoding="utf-8")


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


def test_in_sample_label_everywhere(sheet, tmp_path: Path) -> None:
    html, _, _ = sheet
    run = html.parent / "run"
    rep = backtest_run(run, "2004-01-02", "2004-12-31", costs_bps=(), allow_in_sample=True, rules=[])
    write_html(rep, tmp_path / "is.html")
    write_json(rep, tmp_path / "is.json")
    page = (tmp_path / "is.html").read_text(encoding="utf-8")
    assert rep.label == "in-sample" and "IN-SAMPLE" in page and "(in-sample)" in page
    assert "out-of-sample" not in page.lower().replace("in-sample", "")
    assert json.loads((tmp_path / "is.json").read_text())["label"] == "in-sample"


@pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install -y chromium)")
def test_renders_in_headless_chromium(sheet, tmp_path: Path) -> None:
    html, _, _ = sheet
    shot = tmp_path / "tearsheet.png"
    from test_report_extras import _chromium

    args = ["--enable-logging=stderr", "--v=0", f"--screenshot={shot}", "--window-size=1400,3000"]
    proc = _chromium([*args, html.resolve().as_uri()], tmp_path / "profile")
    log = proc.stdout + proc.stderr
    console = [line for line in log.splitlines() if ":CONSOLE" in line or "net::ERR" in line]
    assert proc.returncode == 0, log[-2000:]
    assert console == [], console
    assert shot.is_file() and shot.stat().st_size > 50_000
