"""The study's HTML summary: aggregate table, per-ticker table and the plots people would rather see
than read (policy-vs-buy-and-hold Sharpe scatter, small-multiple equity curves, cost sensitivity).

One self-contained file (inline PNGs), every user-supplied string escaped.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np

from tradea3c.atomic import atomic_write_text
from tradea3c.backtest.pages import figure, page, png_base64, table
from tradea3c.experiment.study import ENSEMBLE, POLICY, StudyResult, row_label

CSS = (
    "body{font:13px/1.4 sans-serif;margin:24px;max-width:1200px}"
    "td,th{padding:3px 9px;text-align:right;border-bottom:1px solid #eee}"
    "td:first-child,th:first-child{text-align:left}img{max-width:100%}.bad{color:#c62828}"
)


def img(fig: Any) -> str:
    return f"<img alt='plot' src='data:image/png;base64,{png_base64(fig)}'>"


def scatter_png(res: StudyResult) -> str:
    """Each ticker: the ensemble's Sharpe against buy-and-hold's; above the diagonal = agent better."""
    fig = figure(figsize=(6, 5.5))
    ax = fig.subplots()
    bh = [r.curves["buy_and_hold"].sharpe for r in res.tickers]
    ag = [r.curves[ENSEMBLE].sharpe for r in res.tickers]
    ax.scatter(bh, ag, c=["#1f77b4" if r.seen else "#ff7f0e" for r in res.tickers], s=22)
    for r, x, y in zip(res.tickers, bh, ag, strict=True):
        ax.annotate(row_label(r), (x, y), fontsize=7, xytext=(2, 2), textcoords="offset points")
    lo, hi = min([*bh, *ag, 0.0]) - 0.2, max([*bh, *ag, 0.0]) + 0.2
    ax.plot([lo, hi], [lo, hi], color="#999", lw=1)
    ax.set_xlabel("buy-and-hold Sharpe (test)")
    ax.set_ylabel("agent (seed ensemble) Sharpe (test)")
    ax.set_title("out of sample, after costs (orange: tickers not seen in training)")
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return img(fig)


def equity_png(res: StudyResult) -> str:
    """Small multiples: ensemble vs buy-and-hold equity per ticker over the test range."""
    n = len(res.tickers)
    cols = min(6, max(n, 1))
    rows = int(np.ceil(n / cols)) if n else 1
    fig = figure(figsize=(2.1 * cols, 1.6 * rows + 0.4))
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    for ax, r in zip(axes, res.tickers, strict=False):
        ax.plot(r.equity["buy_and_hold"], color="#999", lw=0.8)
        ax.plot(r.equity[ENSEMBLE], color="#1a7f37", lw=0.9)
        ax.set_title(row_label(r) + ("" if r.seen else " (unseen)"), fontsize=8)
        ax.tick_params(labelsize=6)
    for ax in axes[n:]:
        ax.axis("off")
    fig.suptitle("equity on the test range: agent (green) vs buy-and-hold (grey)", fontsize=9)
    fig.tight_layout()
    return img(fig)


def costs_png(res: StudyResult) -> str:
    """Mean Sharpe across tickers against the cost level (flat bps per side)."""
    sens = res.aggregate.get("cost_sensitivity", {})
    fig = figure(figsize=(6, 3.6))
    ax = fig.subplots()
    levels = [float(c) for c in sens]
    for key, colour in ((ENSEMBLE, "#1a7f37"), ("buy_and_hold", "#666")):
        ax.plot(levels, [sens[c][key] for c in sens], marker="o", color=colour, label=key)
    ax.set_xlabel("cost, bps per side")
    ax.set_ylabel("mean Sharpe across tickers")
    ax.legend()
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return img(fig)


def _f(x: float, pct: bool = False) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{100 * x:.1f}%" if pct else f"{x:.2f}"


def _split_text(spec: dict) -> str:
    if spec.get("folds"):
        return f"anchored walk-forward, {spec['folds']} folds (one row per ticker and fold)"
    split = spec["strategy"]["split"]
    return (
        f"train &le; {html.escape(str(split['train_end']))} &lt; validation &le; "
        f"{html.escape(str(split['val_end']))} &lt; test"
    )


def build_html(res: StudyResult) -> str:
    agg, spec = res.aggregate, res.spec
    cols = list(agg.get("mean_sharpe", {}))
    parts = [
        f"<h1>tradea3c study: {html.escape(str(spec['strategy'].get('name', '')))} "
        f"({html.escape(str(spec['mode']))})</h1>",
        f"<p>market {html.escape(str(spec['strategy']['market']['source']))}, seeds "
        f"{html.escape(str(spec['seeds']))}, steps {spec['strategy']['a3c']['total_steps']}, "
        f"{_split_text(spec)}; costs: the strategy's own "
        f"(sweep {html.escape(str(spec['costs_bps']))} bps). {agg.get('n_tickers', 0)} tickers scored.</p>",
    ]
    if cols:
        rows = [
            [c, _f(agg["mean_sharpe"][c]), _f(agg["median_sharpe"][c]), _f(agg["mean_total_return"][c], True)]
            for c in cols
        ]
        parts += [
            "<h2>Aggregate (test range)</h2>",
            table(["", "mean Sharpe", "median Sharpe", "mean total return"], rows),
        ]
        for label in ("seen", "unseen"):
            if f"mean_sharpe_{label}" in agg:
                means = ", ".join(f"{k} {v:.2f}" for k, v in agg[f"mean_sharpe_{label}"].items())
                parts.append(f"<p>Mean Sharpe on tickers {label} in training: {html.escape(means)}</p>")
        for agent in (POLICY, ENSEMBLE):
            wins = ", ".join(f"{k} {v}/{agg['n_tickers']}" for k, v in agg[f"{agent}_wins"].items())
            losses = agg[f"{agent}_big_losses"]
            parts.append(f"<p><b>{agent}</b> beats on Sharpe: {html.escape(wins)}.")
            cls = "bad" if losses else ""
            parts.append(
                f" <span class='{cls}'>Loses more than 20% while buy-and-hold gains: "
                f"{html.escape(', '.join(losses) or 'none')}</span></p>"
            )
    if res.dsr is not None:
        d = res.dsr
        parts.append(
            "<p>Deflated Sharpe of the best seed's equal-weight portfolio across tickers: "
            f"<b>{d.dsr:.3f}</b> (N = {d.n_trials} configurations tried; PSR(0) {d.psr:.3f}).</p>"
        )
    parts += ["<h2>Agent vs buy-and-hold</h2>", scatter_png(res), costs_png(res)]
    head = ["ticker", "seen", "policy Sharpe (seeds)", *(f"{c} Sharpe" for c in cols if c != POLICY)]
    head += ["ensemble return", "buy-and-hold return", "ensemble max DD", "turnover", "costs paid"]
    rows = []
    for r in res.tickers:
        seeds = [s.sharpe for s in r.seeds]
        e = r.curves[ENSEMBLE]
        rows.append(
            [
                row_label(r),
                "yes" if r.seen else "no",
                f"{np.mean(seeds):.2f} ± {np.std(seeds):.2f}",
                *(_f(r.curves[c].sharpe) for c in cols if c != POLICY),
                _f(e.total_return, True),
                _f(r.curves["buy_and_hold"].total_return, True),
                _f(e.max_drawdown, True),
                _f(e.turnover),
                _f(e.costs_paid, True),
            ]
        )
    parts += ["<h2>Per ticker</h2>", table(head, rows), equity_png(res) if res.tickers else ""]
    if res.skipped:
        parts += ["<h2>Skipped</h2>", table(["ticker", "why"], [[k, v] for k, v in res.skipped.items()])]
    return page(f"tradea3c study {spec['strategy'].get('name', '')}", parts, CSS)


def write_html(res: StudyResult, path: str | Path) -> Path:
    atomic_write_text(path, build_html(res))
    return Path(path)
