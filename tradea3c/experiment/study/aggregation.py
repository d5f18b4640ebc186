"""The study's answer across tickers: mean/median Sharpe per column, the agent's wins against each
baseline, big losses, seen vs held-out tickers, cost sensitivity, and the deflated Sharpe of the
best seed's portfolio."""

from __future__ import annotations

from typing import Any

import numpy as np

from tradea3c.backtest.dsr import DeflatedSharpe, deflated_sharpe_of
from tradea3c.experiment.study.types import ENSEMBLE, POLICY, TickerResult, row_label


def aggregate(rows: list[TickerResult], costs: tuple[float, ...]) -> dict[str, Any]:
    """Mean/median Sharpe per column, wins of the agent against each baseline, big losses."""
    if not rows:
        return {}
    cols = [POLICY, *rows[0].curves]
    sharpe = {c: np.array([_sharpe(r, c) for r in rows]) for c in cols}
    out: dict[str, Any] = {
        "n_tickers": len(rows),
        "mean_sharpe": {c: float(np.nanmean(v)) for c, v in sharpe.items()},
        "median_sharpe": {c: float(np.nanmedian(v)) for c, v in sharpe.items()},
        "mean_total_return": {c: float(np.nanmean([_get(r, c, "total_return") for r in rows])) for c in cols},
    }
    for agent in (POLICY, ENSEMBLE):
        out[f"{agent}_wins"] = {
            c: int(np.sum(sharpe[agent] > sharpe[c])) for c in cols if c not in (POLICY, ENSEMBLE)
        }
        out[f"{agent}_big_losses"] = [
            row_label(r)
            for r in rows
            if _get(r, agent, "total_return") < -0.2 < _get(r, "buy_and_hold", "total_return")
        ]
    if any(not r.seen for r in rows):  # cross-sectional: tickers seen in training vs held out
        for label, part in (
            ("seen", [r for r in rows if r.seen]),
            ("unseen", [r for r in rows if not r.seen]),
        ):
            out[f"mean_sharpe_{label}"] = {c: float(np.nanmean([_sharpe(r, c) for r in part])) for c in cols}
    out["cost_sensitivity"] = {
        f"{c:g}": {
            k: float(np.nanmean([r.sweep[f"{c:g}"][k].sharpe for r in rows if f"{c:g}" in r.sweep]))
            for k in (ENSEMBLE, "buy_and_hold")
        }
        for c in costs
    }
    return out


def _get(row: TickerResult, col: str, key: str) -> float:
    if col == POLICY:
        return float(np.mean([getattr(s, key) for s in row.seeds]))
    return float(getattr(row.curves[col], key))


def _sharpe(row: TickerResult, col: str) -> float:
    return _get(row, col, "sharpe")


def study_dsr(rows: list[TickerResult], n_seeds: int, trials: int) -> DeflatedSharpe | None:
    """DSR of the best seed's equal-weight portfolio across tickers (one return series per seed;
    walk-forward folds one after the other), deflated by every configuration tried:
    ``max(trials, seeds)``."""
    if not rows:
        return None
    series = []
    for s in range(n_seeds):
        parts = []
        for fold in sorted({r.fold for r in rows}):
            block = [r for r in rows if r.fold == fold]
            n = min(len(r.returns[s]) for r in block)
            parts.append(np.mean([np.asarray(r.returns[s][:n]) for r in block], axis=0))
        series.append(np.concatenate(parts))
    return deflated_sharpe_of(series, max(trials, n_seeds))
