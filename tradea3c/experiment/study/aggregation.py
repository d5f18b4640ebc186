"""The study's answer across tickers: mean/median Sharpe per column, the agent's wins against each
baseline, big losses, seen vs held-out tickers, cost sensitivity, whether the differences are
significant (pooled tests across tickers), and the deflated Sharpe of the best seed's portfolio."""

from __future__ import annotations

from typing import Any

import numpy as np

from tradea3c.backtest.dsr import DeflatedSharpe, deflated_sharpe_of
from tradea3c.backtest.significance import Pooled, pooled_test
from tradea3c.experiment.study.types import CASH, ENSEMBLE, POLICY, TickerResult, row_label


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
    sig = significance(rows)
    if sig:
        out["significance"] = sig
        left_out = [row_label(r) for r in rows if ENSEMBLE not in r.curve_returns]
        if left_out:
            out["significance_left_out"] = left_out
    out["cost_sensitivity"] = {
        f"{c:g}": {
            k: float(np.nanmean([r.sweep[f"{c:g}"][k].sharpe for r in rows if f"{c:g}" in r.sweep]))
            for k in (ENSEMBLE, "buy_and_hold")
        }
        for c in costs
    }
    return out


def _agent_returns(row: TickerResult, agent: str) -> np.ndarray:
    """The ensemble's per-bar returns, or every seed's (one row each) for the mean policy."""
    if agent == ENSEMBLE:
        return np.asarray(row.curve_returns[ENSEMBLE], dtype=np.float64)
    n = min(len(r) for r in row.returns)
    return np.array([r[:n] for r in row.returns], dtype=np.float64)


def significance(rows: list[TickerResult]) -> dict[str, dict[str, Pooled]]:
    """agent (ensemble, policy) -> baseline column -> `Pooled`: the paired t-test of the per-ticker
    Sharpe differences and the HAC Sharpe-difference test of the equal-weight portfolio of the
    agent on every ticker against that of the baseline (walk-forward folds: the portfolios are
    built within each fold, then chained, as in `study_dsr`).

    The policy is the mean over seeds: its per-ticker Sharpe the seeds' mean (the study table's
    "policy" column), its portfolio leg every seed on every ticker alike. Rows scored before the
    per-bar returns were kept (empty ``curve_returns``) are left out; {} when none has them."""
    usable = [r for r in rows if ENSEMBLE in r.curve_returns]
    if not usable:
        return {}
    periods = usable[0].periods
    columns = [c for c in rows[0].curves if c != ENSEMBLE]
    out: dict[str, dict[str, Pooled]] = {}
    for agent in (ENSEMBLE, POLICY):
        tests: dict[str, Pooled] = {}
        for col in columns:
            pairs, blocks = [], []
            for r in usable:
                ag = _agent_returns(r, agent)
                n = ag.shape[-1]
                if col == CASH:
                    base = np.zeros(n)
                elif col in r.curve_returns:
                    base = np.asarray(r.curve_returns[col], dtype=np.float64)
                else:
                    continue
                n = min(n, len(base))
                pairs.append((ag[..., :n], base[:n]))
                blocks.append(r.fold)
            if pairs:
                tests[col] = pooled_test(pairs, periods, blocks=blocks)
        out[agent] = tests
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
