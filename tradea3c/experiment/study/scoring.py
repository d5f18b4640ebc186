"""Scoring a study's runs on one ticker: each seed and their ensemble backtested on the test range
against the baselines and cash, at the strategy's costs and each level of the sweep; cached as
JSON next to the runs, read back into a `TickerResult` row."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tradea3c.atomic import atomic_write_json, json_safe
from tradea3c.backtest import backtest_run
from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, EnvConfig
from tradea3c.envs.make import make_env
from tradea3c.experiment.study.types import CASH, ENSEMBLE, POLICY, SCORE_FILE, TickerResult
from tradea3c.metrics import PERIODS_PER_YEAR, Stats


def score(runs: list[Path], market: Market, ticker: str, costs: tuple[float, ...]) -> dict[str, Any]:
    """Backtest each seed's run and their ensemble on ``ticker`` (cached in the first run's folder)."""
    cache = runs[0] / f"{SCORE_FILE[:-5]}-{ticker}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    sub = market.select(ticker)
    seeds = [backtest_run(r, market=sub, ticker=ticker, costs_bps=()) for r in runs]
    many = len(runs) > 1
    ens = backtest_run(runs, market=sub, ticker=ticker, costs_bps=costs, ensemble=many) if many else None
    ens = ens or backtest_run(runs[0], market=sub, ticker=ticker, costs_bps=costs)
    curves = {ENSEMBLE: ens.metrics[POLICY], **{k: v for k, v in ens.metrics.items() if k != POLICY}}
    curves[CASH] = cash_stats(len(ens.policy.returns))
    out = {
        "seeds": [r.metrics[POLICY] for r in seeds],
        "curves": curves,
        "sweep": {
            f"{lv.cost_bps:g}": {ENSEMBLE: lv.metrics[POLICY], "buy_and_hold": lv.metrics["buy_and_hold"]}
            for lv in ens.cost_sweep
        },
        "equity": {ENSEMBLE: ens.policy.equity.tolist(), "buy_and_hold": ens.benchmark.equity.tolist()},
        "returns": [r.policy.returns.tolist() for r in seeds],
        "curve_returns": {(ENSEMBLE if c.name == POLICY else c.name): c.returns.tolist() for c in ens.curves},
        "periods_per_year": ens.periods_per_year,
        "dates": [str(d)[:10] for d in ens.policy.dates],
    }
    atomic_write_json(cache, out)
    return json.loads(json.dumps(json_safe(out)))


def unlisted_members(market: Market, tickers: list[str], env: EnvConfig, split: DateSplit) -> dict[str, str]:
    """ticker -> why it is skipped, for the members of ``market`` a one-asset agent cannot be
    validated on: not listed (or too briefly to warm up) in the validation range of ``split``. The
    cross-sectional agent validates on every member it trains on, so these are left out of its
    training and scoring, as the per-ticker study skips a ticker whose run cannot train."""
    if market.tradable is None:  # every member trades on every bar
        return {}
    out = {}
    for t in tickers:
        try:
            make_env(market.select(t), env.for_evaluation(), split, "val").close()
        except ValueError:
            out[t] = (
                f"skipped: not listed (or too briefly to warm up) in the validation range "
                f"({split.train_end} < date <= {split.val_end}); left out of training and scoring"
            )
    return out


def _stats(d: dict[str, Any]) -> Stats:
    return Stats(**{k: (float("nan") if v is None else v) for k, v in d.items()})


def ticker_row(ticker: str, seen: bool, s: dict[str, Any], fold: int = 0) -> TickerResult:
    """A `score` (as stored) as the study table's row for ``ticker``."""
    return TickerResult(
        ticker,
        seen,
        [_stats(x) for x in s["seeds"]],
        {k: _stats(v) for k, v in s["curves"].items()},
        {c: {k: _stats(v) for k, v in d.items()} for c, d in s["sweep"].items()},
        s["equity"],
        s["returns"],
        fold,
        s.get("curve_returns", {}),  # absent from scores cached by older versions
        float(s.get("periods_per_year", PERIODS_PER_YEAR)),
    )


def cash_stats(n_bars: int) -> Stats:
    """Cash: nothing earned, nothing paid."""
    return Stats(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, float(n_bars))
