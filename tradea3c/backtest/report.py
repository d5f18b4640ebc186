"""The HTML tear sheet: a tradea3c section (label, config, fingerprint, ranges, metrics, gross vs net
of costs, cost sweep, seeds + DSR + PBO, positions and trades over price, the trade blotter's first
rows, reproducibility) on top of quantstats' full report with buy-and-hold as the benchmark
*series* (quantstats never downloads anything), annualised with the market's bars a year. One
self-contained file: plots are inline SVG (quantstats) or base64 PNG (ours); the remote favicon and
the undefined ``save()`` hook quantstats writes are removed so the page loads offline without
console errors. `write_html` also writes the trade blotter beside it (``NAME.trades.csv``).

Every string that can come from outside (strategy and run names, tickers, paths, config values,
warnings) is HTML-escaped, including the title handed to quantstats (which inserts it raw).
"""

from __future__ import annotations

import html
import logging
import re
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradea3c.backtest.blotter import blotter_path, trade_blotter, write_blotter
from tradea3c.backtest.curve import Curve
from tradea3c.backtest.pages import figure, page, png_base64, table
from tradea3c.backtest.results import BacktestReport
from tradea3c.envs.execution import CostConfig
from tradea3c.metrics import Stats

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


def esc(x: Any) -> str:
    """Any value as HTML text (quotes escaped too)."""
    return html.escape(str(x), quote=True)


def _plain(text: str) -> str:
    """Text for a matplotlib label: "$" would start mathtext (a parse error on odd names)."""
    return str(text).replace("$", r"\$")


def run_name(checkpoint: str) -> str:
    """A checkpoint's run directory name (its file path when it has none)."""
    return Path(checkpoint).parent.name or checkpoint


def positions_png(report: BacktestReport) -> str:
    """Price with fills marked (one asset) or normalised prices (several), and held weights below."""
    from tradea3c.envs.execution import fill_prices

    pc, m = report.policy, report.market
    assert m is not None
    i0 = int(np.searchsorted(m.dates, pc.dates[0]))
    bars = slice(i0, i0 + len(pc.dates))
    dates = pd.DatetimeIndex(pc.dates)
    fig = figure(figsize=(11, 5.2))
    ax, axw = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [3, 1.3]})
    if m.n_assets == 1:
        ax.plot(dates, m.close[bars, 0], color="#333", lw=1, label=_plain(f"{m.tickers[0]} close"))
        w = pc.weights[:, 0]
        prev = np.concatenate([[0.0], w[:-1]])
        fills = np.flatnonzero(pc.trades)
        up, down = fills[w[fills] > prev[fills]], fills[w[fills] < prev[fills]]
        fill_px = fill_prices(m, report.fill)[i0 + 1 : i0 + len(pc.dates), 0]
        ax.scatter(dates[up + 1], fill_px[up], marker="^", color="#1a7f37", s=22, label="buy fill", zorder=3)
        ax.scatter(
            dates[down + 1], fill_px[down], marker="v", color="#c62828", s=22, label="sell fill", zorder=3
        )
        axw.step(dates[1:], w, where="pre", color="#1f77b4")
        axw.set_ylabel("weight")
    else:
        norm = m.close[bars] / m.close[i0]
        for j in range(min(m.n_assets, 10)):
            ax.plot(dates, norm[:, j], lw=0.8, label=_plain(m.tickers[j]))
        axw.stackplot(dates[1:], np.clip(pc.weights, 0, None).T, step="pre")
        axw.set_ylabel("weights")
    ax.set_title(f"positions and trades over price ({report.label})")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    axw.grid(alpha=0.3)
    fig.tight_layout()
    return png_base64(fig)


def _log_if_wide(ax: Any, *curves: np.ndarray) -> None:
    """Log scale for equity that spans more than 20x (planted-signal runs, long walk-forwards)."""
    lo = min(float(np.min(c)) for c in curves)
    if lo > 0 and max(float(np.max(c)) for c in curves) / lo > 20:
        ax.set_yscale("log")


def gross_net_png(report: BacktestReport) -> str:
    """The policy's equity before costs (gross) and after (net), with the benchmark's net."""
    pc, bench = report.policy, report.benchmark
    dates = pd.DatetimeIndex(pc.dates)
    fig = figure(figsize=(11, 3.6))
    ax = fig.subplots()
    ax.plot(dates, pc.gross_equity, color="#1f77b4", lw=1, ls="--", label="policy, gross of costs")
    ax.plot(dates, pc.equity, color="#1f77b4", lw=1.4, label="policy, net of costs")
    ax.plot(dates, bench.equity, color="#888", lw=1, label=_plain(f"{bench.name}, net of costs"))
    _log_if_wide(ax, pc.gross_equity, pc.equity, bench.equity)
    ax.set_title(f"equity gross vs net of costs ({report.label})")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return png_base64(fig)


def gross_net_rows(curves: Sequence[Curve]) -> list[list[str]]:
    """Per curve: gross / net total return, the cost drag, gross / net Sharpe, costs paid."""
    rows = []
    for c in curves:
        g, n = c.gross_metrics(), c.metrics()
        rows.append(
            [
                c.name,
                fmt("total_return", g.total_return),
                fmt("total_return", n.total_return),
                fmt("total_return", g.total_return - n.total_return),
                fmt("sharpe", g.sharpe),
                fmt("sharpe", n.sharpe),
                fmt("costs_paid", n.costs_paid),
            ]
        )
    return rows


def report_blotter(report: BacktestReport) -> pd.DataFrame:
    """The policy's trade blotter (`tradea3c.backtest.blotter`)."""
    assert report.market is not None
    return trade_blotter(report.policy, report.market, CostConfig(**report.costs), report.fill)


def provenance_rows(prov: dict[str, Any], fingerprint: str = "") -> list[list[str]]:
    """The reproducibility block as table rows (escaped by `_table`)."""
    if not prov:
        return [["provenance", "not recorded"]]
    rows = [["git commit", str(prov.get("git", ""))]]
    if prov.get("git_work_tree"):
        rows.append(["git work tree", str(prov["git_work_tree"])])
    rows += [[f"{k} version", str(v)] for k, v in prov.get("packages", {}).items()]
    rows.append(["python", str(prov.get("python", ""))])
    rows.append(["data fingerprint", fingerprint or str(prov.get("data_fingerprint", ""))])
    rows.append(["command line", str(prov.get("command", ""))])
    return rows


def pbo_text(report: BacktestReport) -> str:
    b = report.pbo
    if b is None:
        return "<p>Probability of backtest overfitting: n/a (needs 2+ candidates and 4+ bars).</p>"
    return (
        f"<p>Probability of backtest overfitting (CSCV, Bailey et al. 2015; {b.n_splits} blocks of the "
        f"last {b.n_bars} bars, {b.n_combinations} selection / held-out splits; candidates: "
        f"{esc(', '.join(b.candidates))}): <b>PBO {b.pbo:.4f}</b>, median logit {b.median_logit:.2f}. "
        "PBO is the share of splits where the candidate with the best per-bar Sharpe on the "
        "selection half ranks at or below the median on the held-out half.</p>"
    )


def tradea3c_section(
    report: BacktestReport, blotter: pd.DataFrame | None = None, blotter_file: str | None = None
) -> str:
    """Our section of the tear sheet (HTML fragment); ``blotter``: its first rows are shown,
    ``blotter_file``: the CSV's name, linked."""
    st, names = report.strategy, list(report.metrics)
    a3c, env = st.get("a3c", {}), st.get("env" if report.env_kind == "market" else "portfolio", {})
    cls = "t3-is" if report.label == "in-sample" else "t3-oos"
    parts = [
        f"<div id='tradea3c'><h1>tradea3c backtest: {esc(st.get('name', ''))}</h1>",
        f"<div class='t3-label {cls}'>{esc(report.label.upper())}</div>",
    ]
    parts += [f"<p class='t3-warn'>{esc(w)}</p>" for w in report.warnings]
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
        [
            "bar interval / bars a year",
            f"{report.interval} / {report.periods_per_year:g} (Sharpe, volatility, CAGR, turnover)",
        ],
    ]
    parts += ["<h3>Run</h3>", table(["", ""], config)]
    parts += [
        "<h3>Date ranges</h3>",
        table(["range", "first", "last"], [[k, *(v or ["", ""])] for k, v in report.ranges.items()]),
    ]
    rows = [[k, *(fmt(k, getattr(report.metrics[n], k)) for n in names)] for k in SHOWN]
    parts += [f"<h3>Metrics at the strategy's costs ({report.label})</h3>", table(["metric", *names], rows)]
    parts += [
        "<h3>Gross vs net of costs</h3>",
        "<p>Gross: the net equity plus every cost paid so far (the same fills, the costs kept as "
        "cash); net: as traded. Cost drag = gross - net total return = costs paid.</p>",
        table(
            ["curve", "gross return", "net return", "cost drag", "gross Sharpe", "net Sharpe", "costs paid"],
            gross_net_rows(report.curves[:2]),
        ),
        f"<img alt='gross vs net equity' src='data:image/png;base64,{gross_net_png(report)}'>",
    ]
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
    parts += ["<h3>Cost sweep (flat bps per side replacing the strategy's costs)</h3>", table(head, sweep)]
    sd, keys = report.seeds, ("total_return", "sharpe", "max_drawdown")
    rows = [[run_name(r.run), str(r.seed), *(fmt(k, getattr(r.stats, k)) for k in keys)] for r in sd.runs]
    rows.append(["mean", "", *(fmt(k, sd.summary[k].mean) for k in keys)])
    rows.append(["std", "", *(fmt(k, sd.summary[k].std) for k in keys)])
    d = sd.dsr
    parts += [
        "<h3>Seeds (the ensemble's members, each on its own)</h3>" if report.members else "<h3>Seeds</h3>",
        table(["run", "seed", "return", "Sharpe", "max DD"], rows),
        f"<p>Deflated Sharpe ratio (best of {d.n_trials} trials, SR variance "
        f"{d.sr_variance:.2e}/bar^2, expected max SR {d.expected_max_sr:.4f}/bar): "
        f"<b>DSR {d.dsr:.4f}</b>, PSR(0) {d.psr:.4f}</p>",
        pbo_text(report),
    ]
    parts += [
        "<h3>Positions and trades</h3>",
        f"<img alt='positions' src='data:image/png;base64,{positions_png(report)}'>",
    ]
    if blotter is not None:
        shown = blotter.head(BLOTTER_ROWS_SHOWN)
        link = f"<a href='{esc(blotter_file)}'>{esc(blotter_file)}</a>" if blotter_file else "the CSV"
        parts += [
            f"<h3>Trade blotter ({len(blotter)} fills; all in {link})</h3>",
            table(
                list(shown.columns),
                [
                    [v if isinstance(v, str) else f"{v:.6g}" for v in row]
                    for row in shown.itertuples(index=False)
                ],
            ),
        ]
    parts += [
        "<h3>Reproducibility</h3>",
        table(["", ""], provenance_rows(report.provenance, report.fingerprint.current)),
    ]
    parts.append("<hr></div>")
    return "\n".join(parts)


BLOTTER_ROWS_SHOWN = 10


def _safe_name(name: str) -> str:
    """A series name quantstats may print raw (word characters, '.', '-' only)."""
    return re.sub(r"[^\w.-]", "_", name) or "series"


def quantstats_html(report: BacktestReport, title: str) -> str:
    """quantstats' full report of the policy with the first baseline as benchmark series; ``title``
    must already be HTML text (quantstats inserts it raw)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    import quantstats as qs

    idx = pd.DatetimeIndex(report.policy.dates[1:])
    ret = pd.Series(report.policy.returns, index=idx, name="policy")
    bench = pd.Series(report.benchmark.returns, index=idx, name=_safe_name(report.benchmark.name))
    with tempfile.TemporaryDirectory() as tmp, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out = Path(tmp) / "qs.html"
        qs.reports.html(
            ret,
            benchmark=bench,
            output=str(out),
            title=title,
            periods_per_year=max(int(round(report.periods_per_year)), 1),
        )
        text = out.read_text(encoding="utf-8")
    text = re.sub(r'<link rel="shortcut icon"[^>]*>', "", text)
    return text.replace('<body onload="save()">', "<body>")


def build_html(
    report: BacktestReport, blotter: pd.DataFrame | None = None, blotter_file: str | None = None
) -> str:
    plain_title = f"tradea3c {report.strategy.get('name', '')} ({report.label})"
    title = esc(plain_title)
    section = tradea3c_section(report, blotter, blotter_file)
    try:
        page = quantstats_html(report, title)
    except Exception as exc:  # a short or degenerate series can break quantstats; keep our section
        why = esc(f"{type(exc).__name__}: {exc}")
        note = f"<p class='t3-warn'>quantstats report unavailable: {why}</p>"
        return page(plain_title, [section, note], CSS)
    page = page.replace("</head>", f"<style>{CSS}</style></head>", 1)
    page, n = re.subn(r'(<div class="container">)', lambda mt: mt.group(1) + section, page, count=1)
    if n == 0:
        page = page.replace("<body>", "<body>" + section, 1)
    return page


def write_html(report: BacktestReport, path: str | Path) -> Path:
    """The tear sheet at ``path`` and the policy's trade blotter beside it (``NAME.trades.csv``,
    `blotter.blotter_path`), each atomic."""
    from tradea3c.atomic import atomic_write_text

    blotter, csv = report_blotter(report), blotter_path(path)
    write_blotter(blotter, csv)
    atomic_write_text(path, build_html(report, blotter, csv.name))
    return Path(path)


def walkforward_png(policy: Curve, benchmark: Curve, fold_starts: Sequence[str]) -> str:
    """The chained out-of-sample equity of the folds and the benchmark, fold starts marked."""
    fig = figure(figsize=(11, 3.8))
    ax = fig.subplots()
    dates = pd.DatetimeIndex(policy.dates)
    ax.plot(dates, policy.equity, color="#1f77b4", lw=1.4, label="policy (folds chained), net of costs")
    ax.plot(dates, policy.gross_equity, color="#1f77b4", lw=1, ls="--", label="policy, gross of costs")
    bench_dates = pd.DatetimeIndex(benchmark.dates)
    ax.plot(bench_dates, benchmark.equity, color="#888", lw=1, label=_plain(benchmark.name))
    _log_if_wide(ax, policy.gross_equity, policy.equity, benchmark.equity)
    for k, d in enumerate(fold_starts, 1):
        ax.axvline(pd.Timestamp(d), color="#c62828", lw=0.7, ls=":")
        ax.annotate(f"fold {k}", (pd.Timestamp(d), 1.0), fontsize=7, color="#c62828")
    ax.set_title("walk-forward: chained out-of-sample equity")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return png_base64(fig)


def walkforward_html(
    folds: Sequence[Any],
    overall: dict[str, Stats],
    policy: Curve,
    benchmark: Curve,
    *,
    anchored: bool,
    title: str = "",
    provenance: dict[str, Any] | None = None,
) -> str:
    """A walk-forward results page: per-fold table, overall (chained) row, combined equity.

    ``folds``: objects with ``fold, train, val_end, test, run, label, policy, benchmark``
    (`tradea3c.experiment.walkforward.FoldResult`); ``overall``: "policy" and the benchmark's name
    -> `Stats` of the chained curves."""
    b = benchmark.name
    head = [
        "fold",
        "train",
        "val end",
        "test",
        "label",
        "run",
        "return",
        "Sharpe",
        "max DD",
        "costs paid",
        f"{b} return",
        f"{b} Sharpe",
    ]

    def stat_cells(p: Stats, q: Stats) -> list[str]:
        return [
            fmt("total_return", p.total_return),
            fmt("sharpe", p.sharpe),
            fmt("max_drawdown", p.max_drawdown),
            fmt("costs_paid", p.costs_paid),
            fmt("total_return", q.total_return),
            fmt("sharpe", q.sharpe),
        ]

    rows = [
        [
            str(f.fold),
            "..".join(f.train),
            f.val_end,
            "..".join(f.test),
            f.label,
            run_name(str(Path(f.run) / "best.pt")),
            *stat_cells(f.policy, f.benchmark),
        ]
        for f in folds
    ]
    rng = f"{folds[0].test[0]}..{folds[-1].test[1]}" if folds else ""
    rows.append(["all", "", "", rng, "chained", "", *stat_cells(overall["policy"], overall[b])])
    gross = policy.gross_metrics()
    pol = overall["policy"]
    name = esc(title or "walk-forward")
    body = [
        f"<div id='tradea3c'><h1>tradea3c walk-forward: {name}</h1>",
        f"<p>{'anchored' if anchored else 'rolling'} windows, {len(folds)} folds; each fold trains on "
        "its past, picks best.pt on its validation range and is backtested on the next block at the "
        "strategy's costs; the test ranges are contiguous and chained into one curve. Annualised "
        f"with {policy.periods:g} bars a year.</p>",
        table(head, rows),
        f"<p>Chained policy: net return {fmt('total_return', pol.total_return)}, gross of costs "
        f"{fmt('total_return', gross.total_return)}; Sharpe {fmt('sharpe', pol.sharpe)} net, "
        f"{fmt('sharpe', gross.sharpe)} gross.</p>",
        f"<img alt='walk-forward equity' src='data:image/png;base64,"
        f"{walkforward_png(policy, benchmark, [f.test[0] for f in folds])}'>",
        "<h3>Reproducibility</h3>",
        table(["", ""], provenance_rows(provenance or {})),
        "</div>",
    ]
    return page(f"tradea3c walk-forward {title or 'walk-forward'}", body, "body{margin:20px}" + CSS)
