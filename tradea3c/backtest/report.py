"""The HTML tear sheet: a tradea3c section (label, config, fingerprint, ranges, metrics, cost sweep,
seeds + DSR, positions and trades over price) on top of quantstats' full report with buy-and-hold
as the benchmark *series* (quantstats never downloads anything). One self-contained file: plots are
inline SVG (quantstats) or base64 PNG (ours); the remote favicon and the undefined ``save()`` hook
quantstats writes are removed so the page loads offline without console errors.
"""

from __future__ import annotations

import base64
import html
import io
import logging
import re
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from tradea3c.backtest.results import BacktestReport

PCT_KEYS = {
    "total_return",
    "cagr",
    "volatility",
    "max_drawdown",
    "exposure",
    "hit_rate",
    "avg_trade",
    "costs_paid",
}
SHOWN = (
    "total_return",
    "cagr",
    "volatility",
    "sharpe",
    "sortino",
    "max_drawdown",
    "max_dd_bars",
    "calmar",
    "turnover",
    "exposure",
    "hit_rate",
    "n_trades",
    "avg_trade",
    "costs_paid",
)
CSS = """
#tradea3c{font:13px/1.4 sans-serif;margin-bottom:30px}#tradea3c table{width:auto;margin:0 0 20px}
#tradea3c td,#tradea3c th{padding:3px 10px;text-align:right;border-bottom:1px solid #eee}
#tradea3c td:first-child,#tradea3c th:first-child{text-align:left}
.t3-label{font-size:20px;font-weight:700;padding:8px 14px;color:#fff;display:inline-block;margin:8px 0}
.t3-oos{background:#1a7f37}.t3-is{background:#c62828}.t3-warn{color:#c62828;font-weight:700}
#tradea3c img{width:100%;max-width:960px}
"""


def fmt(key: str, value: float | None) -> str:
    """How a metric is shown (the tests look for exactly these strings in the HTML)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if key in PCT_KEYS:
        return f"{100 * value:.2f}%"
    if key in ("n_trades", "max_dd_bars", "bars"):
        return f"{value:.0f}"
    return f"{value:.2f}"


def _table(header: list[str], rows: list[list[str]]) -> str:
    h = "".join(f"<th>{html.escape(c)}</th>" for c in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{h}</tr></thead><tbody>{body}</tbody></table>"


def run_name(checkpoint: str) -> str:
    """A checkpoint's run directory name (its file path when it has none)."""
    return Path(checkpoint).parent.name or checkpoint


def positions_png(report: BacktestReport) -> str:
    """Price with fills marked (one asset) or normalised prices (several), and held weights below."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    from matplotlib.figure import Figure

    pc, m = report.policy, report.market
    assert m is not None
    i0 = int(np.searchsorted(m.dates, pc.dates[0]))
    bars = slice(i0, i0 + len(pc.dates))
    dates = pd.DatetimeIndex(pc.dates)
    fig = Figure(figsize=(11, 5.2), dpi=90)
    ax, axw = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    if m.n_assets == 1:
        ax.plot(dates, m.close[bars, 0], color="#333", lw=1, label=f"{m.tickers[0]} close")
        w = pc.weights[:, 0]
        prev = np.concatenate([[0.0], w[:-1]])
        fills = np.flatnonzero(pc.trades)
        up, down = fills[w[fills] > prev[fills]], fills[w[fills] < prev[fills]]
        fill_px = m.open[i0 + 1 : i0 + len(pc.dates), 0]
        ax.scatter(dates[up + 1], fill_px[up], marker="^", color="#1a7f37", s=22, label="buy fill", zorder=3)
        ax.scatter(
            dates[down + 1], fill_px[down], marker="v", color="#c62828", s=22, label="sell fill", zorder=3
        )
        axw.step(dates[1:], w, where="pre", color="#1f77b4")
        axw.set_ylabel("weight")
    else:
        norm = m.close[bars] / m.close[i0]
        for j in range(min(m.n_assets, 10)):
            ax.plot(dates, norm[:, j], lw=0.8, label=m.tickers[j])
        axw.stackplot(dates[1:], np.clip(pc.weights, 0, None).T, step="pre")
        axw.set_ylabel("weights")
    ax.set_title(f"positions and trades over price ({report.label})")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    axw.grid(alpha=0.3)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode()


def tradea3c_section(report: BacktestReport) -> str:
    """Our section of the tear sheet (HTML fragment)."""
    st, names = report.strategy, list(report.metrics)
    a3c, env = st.get("a3c", {}), st.get("env" if report.env_kind == "market" else "portfolio", {})
    cls = "t3-is" if report.label == "in-sample" else "t3-oos"
    parts = [
        f"<div id='tradea3c'><h1>tradea3c backtest: {html.escape(str(st.get('name', '')))}</h1>",
        f"<div class='t3-label {cls}'>{report.label.upper()}</div>",
    ]
    parts += [f"<p class='t3-warn'>{html.escape(w)}</p>" for w in report.warnings]
    fp = report.fingerprint
    names_of = ", ".join(run_name(m) for m in report.members)
    config = [
        ["ensemble", f"ensemble of {len(report.members)}: {names_of}"]
        if report.members
        else ["checkpoint", report.checkpoint],
        ["env", report.env_kind],
        ["tickers", ", ".join(report.tickers)],
        ["market", str(st.get("market", {}).get("source", ""))],
        [
            "fingerprint (trained / now)",
            f"{fp.trained} / {fp.current}" + (" CHANGED" if fp.changed else ""),
        ],
        ["window / positions", f"{env.get('window')} / {env.get('positions', env.get('action'))}"],
        ["fill / latency", f"{env.get('fill')} / {env.get('latency')}"],
        [
            "costs (bps: commission, half-spread, slippage; ATR k)",
            ", ".join(f"{v:g}" for v in report.costs.values()),
        ],
        [
            "A3C steps / workers / lr / seed",
            f"{a3c.get('total_steps')} / {a3c.get('workers') or 'one per core'} / "
            f"{a3c.get('lr')} / {a3c.get('seed')}",
        ],
    ]
    parts += ["<h3>Run</h3>", _table(["", ""], config)]
    parts += [
        "<h3>Date ranges</h3>",
        _table(["range", "first", "last"], [[k, *(v or ["", ""])] for k, v in report.ranges.items()]),
    ]
    rows = [[k, *(fmt(k, getattr(report.metrics[n], k)) for n in names)] for k in SHOWN]
    parts += [f"<h3>Metrics at the strategy's costs ({report.label})</h3>", _table(["metric", *names], rows)]
    pol, bench = names[0], names[1]
    sweep = [
        [
            f"{level.cost_bps:g}",
            *(
                fmt(k, getattr(level.metrics[n], k))
                for n in (pol, bench)
                for k in ("total_return", "sharpe", "max_drawdown")
            ),
        ]
        for level in report.cost_sweep
    ]
    head = ["cost bps/side", *(f"{n} {k}" for n in (pol, bench) for k in ("return", "Sharpe", "max DD"))]
    parts += ["<h3>Cost sweep (flat bps per side replacing the strategy's costs)</h3>", _table(head, sweep)]
    sd, keys = report.seeds, ("total_return", "sharpe", "max_drawdown")
    rows = [[run_name(r.run), str(r.seed), *(fmt(k, getattr(r.stats, k)) for k in keys)] for r in sd.runs]
    rows.append(["mean", "", *(fmt(k, sd.summary[k].mean) for k in keys)])
    rows.append(["std", "", *(fmt(k, sd.summary[k].std) for k in keys)])
    d = sd.dsr
    parts += [
        "<h3>Seeds (the ensemble's members, each on its own)</h3>" if report.members else "<h3>Seeds</h3>",
        _table(["run", "seed", "return", "Sharpe", "max DD"], rows),
        f"<p>Deflated Sharpe ratio (best of {d.n_trials} trials, SR variance "
        f"{d.sr_variance:.2e}/bar^2, expected max SR {d.expected_max_sr:.4f}/bar): "
        f"<b>DSR {d.dsr:.4f}</b>, PSR(0) {d.psr:.4f}</p>",
    ]
    parts += [
        "<h3>Positions and trades</h3>",
        f"<img alt='positions' src='data:image/png;base64,{positions_png(report)}'>",
    ]
    parts.append("<hr></div>")
    return "\n".join(parts)


def quantstats_html(report: BacktestReport, title: str) -> str:
    """quantstats' full report of the policy with the first baseline as benchmark series."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    import quantstats as qs

    idx = pd.DatetimeIndex(report.policy.dates[1:])
    ret = pd.Series(report.policy.returns, index=idx, name="policy")
    bench = pd.Series(report.benchmark.returns, index=idx, name=report.benchmark.name)
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = Path(tmp) / "qs.html"
        qs.reports.html(ret, benchmark=bench, output=str(out), title=title)
        text = out.read_text(encoding="utf-8")
    text = re.sub(r'<link rel="shortcut icon"[^>]*>', "", text)
    return text.replace('<body onload="save()">', "<body>")


def build_html(report: BacktestReport) -> str:
    title = f"tradea3c {report.strategy.get('name', '')} ({report.label})"
    section = tradea3c_section(report)
    try:
        page = quantstats_html(report, title)
    except Exception as exc:  # a short or degenerate series can break quantstats; keep our section
        why = html.escape(f"{type(exc).__name__}: {exc}")
        note = f"<p class='t3-warn'>quantstats report unavailable: {why}</p>"
        return (
            f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{CSS}</style></head><body>{section}{note}</body></html>"
        )
    page = page.replace("</head>", f"<style>{CSS}</style></head>", 1)
    page, n = re.subn(r'(<div class="container">)', lambda mt: mt.group(1) + section, page, count=1)
    if n == 0:
        page = page.replace("<body>", "<body>" + section, 1)
    return page


def write_html(report: BacktestReport, path: str | Path) -> Path:
    from tradea3c.atomic import atomic_write_text

    atomic_write_text(path, build_html(report))
    return Path(path)
