"""The backtest pages' plots (matplotlib, headless), each returned as base64 PNG for an inline
``<img>``: positions and trades over price, equity gross vs net of costs, the walk-forward's
chained equity. `figure` and `png_base64` are the one way every page (the study's too) makes one."""

from __future__ import annotations

import base64
import io
import logging
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from tradea3c.backtest.curve import Curve
from tradea3c.backtest.results import BacktestReport


def figure(**kwargs: Any) -> Any:
    """A headless matplotlib ``Figure`` (Agg; no pyplot state), 90 dpi; ``kwargs`` as ``Figure``'s."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
    from matplotlib.figure import Figure

    return Figure(dpi=90, **kwargs)


def png_base64(fig: Any) -> str:
    """``fig`` as base64 PNG (for ``<img src='data:image/png;base64,...'>``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return base64.b64encode(buf.getvalue()).decode()


def plain(text: str) -> str:
    """Text for a matplotlib label: "$" would start mathtext (a parse error on odd names)."""
    return str(text).replace("$", r"\$")


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
        ax.plot(dates, m.close[bars, 0], color="#333", lw=1, label=plain(f"{m.tickers[0]} close"))
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
            ax.plot(dates, norm[:, j], lw=0.8, label=plain(m.tickers[j]))
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
    ax.plot(dates, bench.equity, color="#888", lw=1, label=plain(f"{bench.name}, net of costs"))
    _log_if_wide(ax, pc.gross_equity, pc.equity, bench.equity)
    ax.set_title(f"equity gross vs net of costs ({report.label})")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return png_base64(fig)


def walkforward_png(policy: Curve, benchmark: Curve, fold_starts: Sequence[str]) -> str:
    """The chained out-of-sample equity of the folds and the benchmark, fold starts marked."""
    fig = figure(figsize=(11, 3.8))
    ax = fig.subplots()
    dates = pd.DatetimeIndex(policy.dates)
    ax.plot(dates, policy.equity, color="#1f77b4", lw=1.4, label="policy (folds chained), net of costs")
    ax.plot(dates, policy.gross_equity, color="#1f77b4", lw=1, ls="--", label="policy, gross of costs")
    bench_dates = pd.DatetimeIndex(benchmark.dates)
    ax.plot(bench_dates, benchmark.equity, color="#888", lw=1, label=plain(benchmark.name))
    _log_if_wide(ax, policy.gross_equity, policy.equity, benchmark.equity)
    for k, d in enumerate(fold_starts, 1):
        ax.axvline(pd.Timestamp(d), color="#c62828", lw=0.7, ls=":")
        ax.annotate(f"fold {k}", (pd.Timestamp(d), 1.0), fontsize=7, color="#c62828")
    ax.set_title("walk-forward: chained out-of-sample equity")
    ax.legend(loc="upper left", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return png_base64(fig)
