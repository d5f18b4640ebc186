"""The HTML tear sheet: a tradea3c section (label, config, fingerprint, ranges, metrics, significance
against each baseline, gross vs net of costs, cost sweep, seeds + DSR + PBO, positions and trades
over price, the trade blotter's first rows, reproducibility) on top of quantstats' full report
with buy-and-hold as the benchmark *series* (quantstats never downloads anything), annualised with
the market's bars a year. One self-contained file: plots are inline SVG (quantstats) or base64 PNG (ours,
`tradea3c.backtest.figures`); the remote favicon and the undefined ``save()`` hook quantstats writes
are removed so the page loads offline without console errors. `write_html` also writes the trade
blotter beside it (``NAME.trades.csv``). Also the walk-forward page (`walkforward_html`).

The pages are jinja2 templates (`tradea3c.backtest.pages`): every string that can come from outside
(strategy and run names, tickers, paths, config values, warnings) is HTML-escaped there; the title
handed to quantstats (which inserts it raw) is escaped here.
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
from tradea3c.backtest.figures import gross_net_png, positions_png, walkforward_png
from tradea3c.backtest.pages import render
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
BLOTTER_ROWS_SHOWN = 10


def fmt(key: str, value: float | None) -> str:
    """How a metric is shown (the tests look for exactly these strings in the HTML)."""
    if value is None or not np.isfinite(value):
        return "n/a"
    if key in PCT_KEYS:
        return f"{100 * value:.2f}%"
    if key in ("n_trades", "max_dd_bars", "bars"):
        return f"{value:.0f}"
    return f"{value:.2f}"


def fmt_p(p: float | None) -> str:
    """A p-value as shown: three decimals, "<0.001" below that, "n/a" when untestable."""
    if p is None or not np.isfinite(p):
        return "n/a"
    return "<0.001" if p < 0.001 else f"{p:.3f}"


SIGNIFICANCE_HEADER = [
    "baseline",
    "Sharpe diff",
    "p-value",
    "information ratio",
    "tracking error",
    "active return",
    "p (active return)",
]


def significance_rows(report: BacktestReport) -> list[list[str]]:
    """The policy against each baseline (`BacktestReport.significance`), as the tear sheet's and the
    CLI's rows under `SIGNIFICANCE_HEADER`: Sharpe difference and its HAC p-value, information
    ratio, tracking error, annualised active return and its HAC p-value."""
    rows = []
    for name, c in report.significance.items():
        s, a = c.sharpe, c.active
        rows.append(
            [
                name,
                f"{s.diff:+.2f}" if np.isfinite(s.diff) else "n/a",
                fmt_p(s.p_value),
                fmt("sharpe", a.information_ratio),
                fmt("volatility", a.tracking_error),
                fmt("cagr", a.active_return),
                fmt_p(a.p_value),
            ]
        )
    return rows


def esc(x: Any) -> str:
    """Any value as HTML text (quotes escaped too), for HTML built outside the templates."""
    return html.escape(str(x), quote=True)


def run_name(checkpoint: str) -> str:
    """A checkpoint's run directory name (its file path when it has none)."""
    return Path(checkpoint).parent.name or checkpoint


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
    """The reproducibility block as table rows (plain text; the template escapes it)."""
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


def tradea3c_context(
    report: BacktestReport, blotter: pd.DataFrame | None = None, blotter_file: str | None = None
) -> dict[str, Any]:
    """What ``tearsheet_section.html.j2`` shows: plain text and numbers already formatted (the
    template escapes them); ``blotter``: its first rows are shown, ``blotter_file``: the CSV, linked."""
    st, names = report.strategy, list(report.metrics)
    a3c, env = st.get("a3c", {}), st.get("env" if report.env_kind == "market" else "portfolio", {})
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
            "method / steps / workers / lr / seed",
            f"{a3c.get('mode', 'a3c')} / {a3c.get('total_steps')} / {a3c.get('workers') or 'one per core'} / "
            f"{a3c.get('lr')} / {a3c.get('seed')}",
        ],
        [
            "bar interval / bars a year",
            f"{report.interval} / {report.periods_per_year:g} (Sharpe, volatility, CAGR, turnover)",
        ],
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
    sd, keys = report.seeds, ("total_return", "sharpe", "max_drawdown")
    seeds = [[run_name(r.run), str(r.seed), *(fmt(k, getattr(r.stats, k)) for k in keys)] for r in sd.runs]
    seeds.append(["mean", "", *(fmt(k, sd.summary[k].mean) for k in keys)])
    seeds.append(["std", "", *(fmt(k, sd.summary[k].std) for k in keys)])
    shown = None
    if blotter is not None:
        head = blotter.head(BLOTTER_ROWS_SHOWN)
        shown = {
            "fills": len(blotter),
            "file": blotter_file,
            "header": list(head.columns),
            "rows": [
                [v if isinstance(v, str) else f"{v:.6g}" for v in row] for row in head.itertuples(index=False)
            ],
        }
    return {
        "name": st.get("name", ""),
        "label": report.label,
        "label_class": "t3-is" if report.label == "in-sample" else "t3-oos",
        "warnings": report.warnings,
        "config": config,
        "ranges": [[k, *(v or ["", ""])] for k, v in report.ranges.items()],
        "curve_names": names,
        "metrics": [[k, *(fmt(k, getattr(report.metrics[n], k)) for n in names)] for k in SHOWN],
        "gross_net": gross_net_rows(report.curves[:2]),
        "gross_net_png": gross_net_png(report),
        "sweep_header": [
            "cost bps/side",
            *(f"{n} {k}" for n in (pol, bench) for k in ("return", "Sharpe", "max DD")),
        ],
        "sweep": sweep,
        "ensemble": bool(report.members),
        "seeds": seeds,
        "dsr": sd.dsr,
        "pbo": report.pbo,
        "significance_header": SIGNIFICANCE_HEADER,
        "significance": significance_rows(report),
        "positions_png": positions_png(report),
        "blotter": shown,
        "provenance": provenance_rows(report.provenance, report.fingerprint.current),
    }


def tradea3c_section(
    report: BacktestReport, blotter: pd.DataFrame | None = None, blotter_file: str | None = None
) -> str:
    """Our section of the tear sheet (an HTML fragment, ``tearsheet_section.html.j2``)."""
    return render("tearsheet_section.html.j2", **tradea3c_context(report, blotter, blotter_file))


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
    """The whole tear sheet: our section on top of quantstats' report (or alone, with a note, when
    quantstats cannot report on the series)."""
    title = f"tradea3c {report.strategy.get('name', '')} ({report.label})"
    context = tradea3c_context(report, blotter, blotter_file)
    try:
        page = quantstats_html(report, esc(title))
    except Exception as exc:  # a short or degenerate series can break quantstats; keep our section
        error = f"{type(exc).__name__}: {exc}"
        return render("tearsheet.html.j2", title=title, error=error, **context)
    section = render("tearsheet_section.html.j2", **context)
    page = page.replace("</head>", f"<style>{render('tearsheet.css.j2')}</style></head>", 1)
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
    """A walk-forward results page (``walkforward.html.j2``): per-fold table, overall (chained)
    row, combined equity.

    ``folds``: objects with ``fold, train, val_end, test, run, label, policy, benchmark``
    (`tradea3c.experiment.walkforward.FoldResult`); ``overall``: "policy" and the benchmark's name
    -> `Stats` of the chained curves."""
    b = benchmark.name
    header = [
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
    gross, pol = policy.gross_metrics(), overall["policy"]
    return render(
        "walkforward.html.j2",
        name=title or "walk-forward",
        anchored=anchored,
        n_folds=len(folds),
        bars_a_year=f"{policy.periods:g}",
        header=header,
        rows=rows,
        chained={
            "net_return": fmt("total_return", pol.total_return),
            "gross_return": fmt("total_return", gross.total_return),
            "net_sharpe": fmt("sharpe", pol.sharpe),
            "gross_sharpe": fmt("sharpe", gross.sharpe),
        },
        equity_png=walkforward_png(policy, benchmark, [f.test[0] for f in folds]),
        provenance=provenance_rows(provenance or {}),
    )
