"""The study's HTML summary: aggregate table, significance block, per-ticker table and the plots
people would rather see than read (policy-vs-buy-and-hold Sharpe scatter, small-multiple equity
curves, cost sensitivity).

One self-contained file (inline PNGs) rendered from ``study.html.j2`` on the pages' base layout
(`tradea3c.backtest.pages`), every user-supplied string escaped by the template.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from tradea3c.atomic import atomic_write_text
from tradea3c.backtest.figures import figure, png_base64
from tradea3c.backtest.pages import render
from tradea3c.experiment.study import ENSEMBLE, POLICY, StudyResult, row_label


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
    return png_base64(fig)


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
    return png_base64(fig)


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
    return png_base64(fig)


def _f(x: float, pct: bool = False) -> str:
    if x is None or not np.isfinite(x):
        return "n/a"
    return f"{100 * x:.1f}%" if pct else f"{x:.2f}"


SIGNIFICANCE_HEADER = [
    "agent",
    "vs",
    "tickers",
    "mean Sharpe diff",
    "paired t",
    "p (paired)",
    "portfolio Sharpe diff",
    "p (portfolio)",
]


def significance_rows(aggregate: dict[str, Any]) -> list[list[str]]:
    """The aggregate's significance block (`tradea3c.experiment.study.aggregation.significance`)
    as rows under `SIGNIFICANCE_HEADER`: per agent and baseline column, the paired t-test of the
    per-ticker Sharpe differences and the HAC test of the equal-weight portfolios. Also what the
    CLI prints."""
    from tradea3c.backtest.report import fmt_p

    rows = []
    for agent, tests in aggregate.get("significance", {}).items():
        for col, p in tests.items():
            port = p.portfolio
            rows.append(
                [
                    agent,
                    col,
                    str(p.n_pairs),
                    f"{p.mean_diff:+.2f}" if np.isfinite(p.mean_diff) else "n/a",
                    _f(p.t_stat),
                    fmt_p(p.p_value),
                    f"{port.diff:+.2f}" if np.isfinite(port.diff) else "n/a",
                    fmt_p(port.p_value),
                ]
            )
    return rows


def build_html(res: StudyResult) -> str:
    """The study page (``study.html.j2``; every value escaped by the template)."""
    agg, spec = res.aggregate, res.spec
    cols = list(agg.get("mean_sharpe", {}))
    split = spec["strategy"]["split"]
    aggregate = [
        [c, _f(agg["mean_sharpe"][c]), _f(agg["median_sharpe"][c]), _f(agg["mean_total_return"][c], True)]
        for c in cols
    ]
    seen_unseen = [
        (label, ", ".join(f"{k} {v:.2f}" for k, v in agg[f"mean_sharpe_{label}"].items()))
        for label in ("seen", "unseen")
        if cols and f"mean_sharpe_{label}" in agg
    ]
    agents = [
        {
            "name": agent,
            "wins": ", ".join(f"{k} {v}/{agg['n_tickers']}" for k, v in agg[f"{agent}_wins"].items()),
            "losses": ", ".join(agg[f"{agent}_big_losses"]),
        }
        for agent in ((POLICY, ENSEMBLE) if cols else ())
    ]
    header = ["ticker", "seen", "policy Sharpe (seeds)", *(f"{c} Sharpe" for c in cols if c != POLICY)]
    header += ["ensemble return", "buy-and-hold return", "ensemble max DD", "turnover", "costs paid"]
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
    return render(
        "study.html.j2",
        name=str(spec["strategy"].get("name", "")),
        mode=str(spec["mode"]),
        market=str(spec["strategy"]["market"]["source"]),
        seeds=str(spec["seeds"]),
        steps=spec["strategy"]["a3c"]["total_steps"],
        folds=spec.get("folds"),
        train_end=str(split["train_end"]),
        val_end=str(split["val_end"]),
        costs=str(spec["costs_bps"]),
        n_tickers=agg.get("n_tickers", 0),
        aggregate=aggregate,
        seen_unseen=seen_unseen,
        agents=agents,
        dsr=res.dsr,
        significance_header=SIGNIFICANCE_HEADER,
        significance=significance_rows(agg),
        significance_left_out=", ".join(agg.get("significance_left_out", [])),
        scatter_png=scatter_png(res),
        costs_png=costs_png(res),
        ticker_header=header,
        ticker_rows=rows,
        equity_png=equity_png(res) if res.tickers else "",
        skipped=[[k, v] for k, v in res.skipped.items()],
    )


def write_html(res: StudyResult, path: str | Path) -> Path:
    atomic_write_text(path, build_html(res))
    return Path(path)
