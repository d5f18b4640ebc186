"""`run_study`: does the agent beat the baselines, out of sample, after costs? One call answers it.

A study trains a strategy on a universe and scores every policy on the test range (after the
validation end) against buy-and-hold, the rule baselines and cash, at the strategy's costs and at
each level of a cost sweep:

* ``per-ticker``: one agent per (ticker, seed), each trained on that ticker's own history;
* ``cross-sectional``: one single-asset agent per seed trained over the universe's tickers (each
  episode draws its ticker), scored on every ticker, including held-out tickers it never saw.

Per ticker, the seeds' checkpoints also form an ensemble (averaged action probabilities). Every
(ticker, seed) run is a normal run directory under ``<out>/runs``, and every score is cached next
to it, so a study is resumable: re-running it skips finished runs, and an interrupted one loses at
most the run in flight (an unfinished run directory is trained again from scratch).
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from tradea3c.atomic import atomic_write_json, json_safe
from tradea3c.backtest import BacktestError, backtest_run
from tradea3c.backtest.dsr import DeflatedSharpe, deflated_sharpe_of
from tradea3c.config import ConfigError, dump_toml, from_dict, to_dict
from tradea3c.data.market import Market
from tradea3c.data.spec import load_market_spec
from tradea3c.experiment.preflight import PreflightError
from tradea3c.experiment.strategy import SplitSpec, StrategyConfig
from tradea3c.experiment.train import train_strategy
from tradea3c.metrics import Stats

Mode = Literal["per-ticker", "cross-sectional"]
POLICY, ENSEMBLE, CASH = "policy", "ensemble", "cash"
SPEC_FILE, RESULT_FILE, SCORE_FILE = "study_spec.json", "study.json", "score.json"


@dataclass(frozen=True)
class StudySpec:
    """What a study runs; stored in the study directory so a resume cannot silently change it."""

    strategy: StrategyConfig
    mode: Mode = "per-ticker"
    seeds: tuple[int, ...] = (0, 1, 2)
    costs_bps: tuple[float, ...] = (0.0, 5.0, 10.0, 25.0)
    """Cost sweep (flat bps per side); the main table uses the strategy's own costs."""
    holdout: float = 0.2
    """cross-sectional: share of tickers (every 1/holdout-th, by name) never seen in training."""
    trials: int = 0
    """Configurations tried so far for this question, for the deflated Sharpe (0 = just the seeds)."""

    def key(self) -> dict[str, Any]:
        """What identifies the study's runs (``trials`` only changes the deflated Sharpe)."""
        out = json_safe({**to_dict(self), "strategy": to_dict(self.strategy)})
        out.pop("trials", None)
        return out


@dataclass(frozen=True)
class TickerResult:
    ticker: str
    seen: bool
    """False for tickers held out of cross-sectional training."""
    seeds: list[Stats]
    """The policy of each seed (same order as the spec's seeds)."""
    curves: dict[str, Stats]
    """ensemble, buy_and_hold, each rule, cash: at the strategy's costs."""
    sweep: dict[str, dict[str, Stats]]
    """cost bps -> {ensemble, buy_and_hold}."""
    equity: dict[str, list[float]] = field(repr=False)
    """ensemble and buy_and_hold equity paths (for the plots)."""
    returns: list[list[float]] = field(repr=False)
    """each seed's per-bar returns (for the study's deflated Sharpe)."""


@dataclass(frozen=True)
class StudyResult:
    spec: dict[str, Any]
    tickers: list[TickerResult]
    skipped: dict[str, str]
    """ticker -> why it could not be trained or scored."""
    aggregate: dict[str, Any]
    dsr: DeflatedSharpe | None
    dates: list[str] = field(repr=False)

    def to_json(self) -> dict[str, Any]:
        return json_safe(self)


# ------------------------------------------------------------------ runs


def _run_done(run: Path) -> bool:
    try:
        return json.loads((run / "summary.json").read_text())["status"] in ("completed", "stopped")
    except (OSError, ValueError, KeyError):
        return False


def _train(strategy: StrategyConfig, run: Path, market: Market) -> None:
    """Train unless finished; an unfinished directory (killed run) is trained again from scratch."""
    if _run_done(run):
        return
    if run.exists():
        shutil.rmtree(run)
    train_strategy(strategy, run, progress=False, market=market)


def _run_strategy(spec: StudySpec, name: str, tickers: list[str], seed: int) -> StrategyConfig:
    base = spec.strategy
    return replace(
        base,
        name=f"{base.name}-{name}-s{seed}",
        market=replace(base.market, source=",".join(tickers), max_tickers=None),
        env_kind="market",
        a3c=replace(base.a3c, seed=seed),
    )


def _score(runs: list[Path], market: Market, ticker: str, costs: tuple[float, ...]) -> dict[str, Any]:
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
        "dates": [str(d)[:10] for d in ens.policy.dates],
    }
    atomic_write_json(cache, out)
    return json.loads(json.dumps(json_safe(out)))


# ------------------------------------------------------------------ aggregate


def _stats(d: dict[str, Any]) -> Stats:
    return Stats(**{k: (float("nan") if v is None else v) for k, v in d.items()})


def _aggregate(rows: list[TickerResult], costs: tuple[float, ...]) -> dict[str, Any]:
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
            r.ticker
            for r in rows
            if _get(r, agent, "total_return") < -0.2 < _get(r, "buy_and_hold", "total_return")
        ]
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
    """DSR of the best seed's equal-weight portfolio across tickers (one return series per seed),
    deflated by every configuration tried: ``max(trials, seeds)``."""
    if not rows:
        return None
    n = min(len(r.returns[0]) for r in rows)
    series = [np.mean([np.asarray(r.returns[s][:n]) for r in rows], axis=0) for s in range(n_seeds)]
    return deflated_sharpe_of(series, max(trials, n_seeds))


# ------------------------------------------------------------------ the study


def _check_spec(out: Path, spec: StudySpec) -> None:
    path = out / SPEC_FILE
    if path.is_file():
        try:  # parsed, so that fields added by a later version (with their defaults) still match
            before = from_dict(StudySpec, json.loads(path.read_text())).key()
        except (ConfigError, ValueError):
            before = None
        if before != spec.key():
            raise ValueError(
                f"{out} holds a study with another spec ({path}); use a new --out or delete that folder"
            )
    else:
        atomic_write_json(path, spec.key())
        (out / "strategy.toml").write_text(dump_toml(spec.strategy))


def run_study(
    spec: StudySpec,
    out: str | Path,
    *,
    market: Market | None = None,
    progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> StudyResult:
    """Train and score every run of ``spec`` under ``out`` (resumable); see the module docstring."""
    from rich.progress import Progress

    out = Path(out)
    market = market if market is not None else load_market_spec(spec.strategy.market, log)
    if market.n_assets < 1:
        raise ValueError(f"market {spec.strategy.market.source!r} has no tickers; fetch them first")
    split = spec.strategy.split.resolve(market)
    strategy = replace(spec.strategy, split=SplitSpec(split.train_end, split.val_end))
    spec = replace(spec, strategy=strategy)
    out.mkdir(parents=True, exist_ok=True)
    _check_spec(out, spec)
    tickers = list(market.tickers)
    held = _holdout(tickers, spec.holdout) if spec.mode == "cross-sectional" else []
    seen = [t for t in tickers if t not in held]
    skipped: dict[str, str] = {}
    runs: dict[str, list[Path]] = {}
    n_train = len(spec.seeds) * (1 if spec.mode == "cross-sectional" else len(tickers))
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("study: training", total=n_train + len(tickers))
        if spec.mode == "cross-sectional":
            sub = market.select(seen)
            xs = [out / "runs" / f"xs-s{s}" for s in spec.seeds]
            for seed, run in zip(spec.seeds, xs, strict=True):
                _train(_run_strategy(spec, "xs", seen, seed), run, sub)
                bar.advance(task)
            runs = {t: xs for t in tickers}
        else:
            for t in tickers:
                paths = [out / "runs" / f"{t}-s{s}" for s in spec.seeds]
                try:
                    for seed, run in zip(spec.seeds, paths, strict=True):
                        _train(_run_strategy(spec, t, [t], seed), run, market.select(t))
                        bar.advance(task)
                    runs[t] = paths
                except PreflightError as exc:
                    skipped[t] = str(exc)
                    bar.advance(task, len(spec.seeds))
        bar.update(task, description="study: scoring")
        rows, dates = [], []
        for t in tickers:
            if t in runs:
                try:
                    s = _score(runs[t], market, t, spec.costs_bps)
                except BacktestError as exc:
                    skipped[t] = str(exc)
                else:
                    rows.append(_row(t, t not in held, s))
                    dates = s["dates"]
            bar.advance(task)
    result = StudyResult(
        {**spec.key(), "trials": spec.trials},
        rows,
        skipped,
        _aggregate(rows, spec.costs_bps),
        study_dsr(rows, len(spec.seeds), spec.trials),
        dates,
    )
    atomic_write_json(out / RESULT_FILE, result.to_json())
    return result


def _row(ticker: str, seen: bool, s: dict[str, Any]) -> TickerResult:
    return TickerResult(
        ticker,
        seen,
        [_stats(x) for x in s["seeds"]],
        {k: _stats(v) for k, v in s["curves"].items()},
        {c: {k: _stats(v) for k, v in d.items()} for c, d in s["sweep"].items()},
        s["equity"],
        s["returns"],
    )


def _holdout(tickers: list[str], share: float) -> list[str]:
    """Every round(1/share)-th ticker by name, starting with the last of each group (deterministic)."""
    if share <= 0:
        return []
    step = max(int(round(1 / share)), 2)
    ordered = sorted(tickers)
    return [t for i, t in enumerate(ordered) if i % step == step - 1]


def cash_stats(n_bars: int) -> Stats:
    """Cash: nothing earned, nothing paid."""
    return Stats(0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0, float(n_bars))
