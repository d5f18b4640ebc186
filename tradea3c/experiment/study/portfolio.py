"""Portfolio studies (``mode = "portfolio"``): one portfolio agent per seed trained on the whole
universe, scored on the test range as one row of the study table ("portfolio").

The row has the same columns as a ticker's: each seed, their ensemble, and every portfolio
baseline at the same costs (equal weight held and rebalanced, the risk allocations, the
vol-targeted equal weight, the rules, cash). Its ``buy_and_hold`` column is the equal-weight basket
bought at the first decision and held (the backtest's ``equal_weight_hold``), so the study's
benchmark-relative numbers (wins, big losses, the cost sensitivity, the significance block) read
against the passive portfolio."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tradea3c.atomic import atomic_write_json, json_safe
from tradea3c.backtest import backtest_run
from tradea3c.data.market import Market
from tradea3c.experiment.study.scoring import cash_stats
from tradea3c.experiment.study.types import CASH, ENSEMBLE, POLICY, SCORE_FILE

PORTFOLIO = "portfolio"
HOLD, BENCH = "equal_weight_hold", "buy_and_hold"


def _renamed(name: str) -> str:
    return ENSEMBLE if name == POLICY else BENCH if name == HOLD else name


def score_portfolio(runs: list[Path], market: Market, costs: tuple[float, ...]) -> dict[str, Any]:
    """Backtest each seed's portfolio run and their ensemble on the universe (cached like `score`)."""
    cache = runs[0] / f"{SCORE_FILE[:-5]}-{PORTFOLIO}.json"
    if cache.is_file():
        return json.loads(cache.read_text())
    seeds = [backtest_run(r, market=market, costs_bps=()) for r in runs]
    many = len(runs) > 1
    ens = backtest_run(runs if many else runs[0], market=market, costs_bps=costs, ensemble=many)
    curves = {_renamed(k): v for k, v in ens.metrics.items()}
    curves[CASH] = cash_stats(len(ens.policy.returns))
    out = {
        "seeds": [r.metrics[POLICY] for r in seeds],
        "curves": curves,
        "sweep": {
            f"{lv.cost_bps:g}": {ENSEMBLE: lv.metrics[POLICY], BENCH: lv.metrics[HOLD]}
            for lv in ens.cost_sweep
        },
        "equity": {ENSEMBLE: ens.policy.equity.tolist(), BENCH: ens.benchmark.equity.tolist()},
        "returns": [r.policy.returns.tolist() for r in seeds],
        "curve_returns": {_renamed(c.name): c.returns.tolist() for c in ens.curves},
        "periods_per_year": ens.periods_per_year,
        "dates": [str(d)[:10] for d in ens.policy.dates],
    }
    atomic_write_json(cache, out)
    return json.loads(json.dumps(json_safe(out)))
