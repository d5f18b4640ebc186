"""`run_study`: does the agent beat the baselines, out of sample, after costs? One call answers it.

A study trains a strategy on a universe and scores every policy on the test range (after the
validation end) against buy-and-hold, the rule baselines and cash, at the strategy's costs and at
each level of a cost sweep:

* ``per-ticker``: one agent per (ticker, seed), each trained on that ticker's own history;
* ``cross-sectional``: one single-asset agent per seed trained over the universe's tickers (each
  episode draws its ticker), scored on every ticker, including held-out tickers it never saw.

The test range follows the strategy's validation end, or, with ``folds``, each anchored
walk-forward fold tests on its own block (one row per ticker and fold).

Per ticker, the seeds' checkpoints also form an ensemble (averaged action probabilities). Every
(ticker, seed[, fold]) run is a normal run directory under ``<out>/runs``, and every score is cached next
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
from tradea3c.experiment.walkforward import fold_bounds
from tradea3c.metrics import Stats

Mode = Literal["per-ticker", "cross-sectional"]
POLICY, ENSEMBLE, CASH = "policy", "ensemble", "cash"
SPEC_FILE, RESULT_FILE, SCORE_FILE = "study_spec.json", "study.json", "score.json"


@dataclass(frozen=True)
class StudySpec:
    """What a study runs; stored in the study directory so a resume cannot silently change it."""

    strategy: StrategyConfig
    mode: Mode = "cross-sectional"
    seeds: tuple[int, ...] = (0, 1, 2)
    costs_bps: tuple[float, ...] = (0.0, 5.0, 10.0, 25.0)
    """Cost sweep (flat bps per side); the main table uses the strategy's own costs."""
    holdout: float = 0.2
    """cross-sectional: share of tickers (every 1/holdout-th, by name) never seen in training."""
    trials: int = 0
    """Configurations tried so far for this question, for the deflated Sharpe (0 = just the seeds)."""
    folds: int = 0
    """Anchored walk-forward folds instead of the strategy's date split (0 = the date split): the
    universe's calendar is cut into ``folds + 1`` blocks, fold k trains on blocks 0..k-1 (its last
    20% validates) and tests on block k; each (ticker, fold) is a row of the table."""

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
    fold: int = 0
    """Walk-forward fold of this row (0: the study's date split)."""


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


@dataclass(frozen=True)
class Window:
    """One train/validation/test cut: the study's date split (fold 0) or a walk-forward fold."""

    fold: int
    split: SplitSpec
    test_end: int | None
    """Last test bar (None: the end of the data)."""

    def run_name(self, name: str, seed: int) -> str:
        return f"{name}-f{self.fold}-s{seed}" if self.fold else f"{name}-s{seed}"

    def market(self, market: Market) -> Market:
        """The bars this window may use at all (its test range ends the market)."""
        return market if self.test_end is None else market.take(slice(0, self.test_end + 1))


def windows(spec: StudySpec, market: Market) -> list[Window]:
    """The study's cuts: its date split, or ``spec.folds`` anchored walk-forward folds."""
    if not spec.folds:
        split = spec.strategy.split.resolve(market)
        return [Window(0, SplitSpec(split.train_end, split.val_end), None)]
    day = lambda i: str(np.datetime_as_string(market.dates[i], unit="D"))  # noqa: E731
    bounds = fold_bounds(market.n_bars, spec.folds)
    return [
        Window(k, SplitSpec(day(b.train_end), day(b.val_end)), b.test_end) for k, b in enumerate(bounds, 1)
    ]


def _run_strategy(
    spec: StudySpec, name: str, tickers: list[str], seed: int, window: Window
) -> StrategyConfig:
    base = spec.strategy
    return replace(
        base,
        name=f"{base.name}-{window.run_name(name, seed)}",
        split=window.split,
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
    cuts = windows(spec, market)
    if not spec.folds:
        spec = replace(spec, strategy=replace(spec.strategy, split=cuts[0].split))
    out.mkdir(parents=True, exist_ok=True)
    _check_spec(out, spec)
    tickers = list(market.tickers)
    held = _holdout(tickers, spec.holdout) if spec.mode == "cross-sectional" else []
    seen = [t for t in tickers if t not in held]
    skipped: dict[str, str] = {}
    runs: dict[tuple[str, int], list[Path]] = {}
    n_train = len(cuts) * len(spec.seeds) * (1 if spec.mode == "cross-sectional" else len(tickers))
    with Progress(disable=not progress, transient=True) as bar:
        task = bar.add_task("study: training", total=n_train + len(cuts) * len(tickers))
        for w in cuts:
            if spec.mode == "cross-sectional":
                sub = w.market(market.select(seen))
                xs = [out / "runs" / w.run_name("xs", s) for s in spec.seeds]
                for seed, run in zip(spec.seeds, xs, strict=True):
                    _train(_run_strategy(spec, "xs", seen, seed, w), run, sub)
                    bar.advance(task)
                runs.update({(t, w.fold): xs for t in tickers})
                continue
            for t in tickers:
                paths = [out / "runs" / w.run_name(t, s) for s in spec.seeds]
                try:
                    for seed, run in zip(spec.seeds, paths, strict=True):
                        _train(_run_strategy(spec, t, [t], seed, w), run, w.market(market.select(t)))
                        bar.advance(task)
                    runs[(t, w.fold)] = paths
                except PreflightError as exc:
                    skipped[_label(t, w.fold)] = str(exc)
                    bar.advance(task, len(spec.seeds))
        bar.update(task, description="study: scoring")
        rows, fold_dates = [], {}
        for w in cuts:
            for t in tickers:
                if (t, w.fold) in runs:
                    try:
                        s = _score(runs[(t, w.fold)], w.market(market), t, spec.costs_bps)
                    except BacktestError as exc:
                        skipped[_label(t, w.fold)] = str(exc)
                    else:
                        rows.append(_row(t, t not in held, s, w.fold))
                        fold_dates.setdefault(w.fold, s["dates"])
                bar.advance(task)
    dates = [d for i, ds in enumerate(fold_dates.values()) for d in (ds if i == 0 else ds[1:])]
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


def _row(ticker: str, seen: bool, s: dict[str, Any], fold: int = 0) -> TickerResult:
    return TickerResult(
        ticker,
        seen,
        [_stats(x) for x in s["seeds"]],
        {k: _stats(v) for k, v in s["curves"].items()},
        {c: {k: _stats(v) for k, v in d.items()} for c, d in s["sweep"].items()},
        s["equity"],
        s["returns"],
        fold,
    )


def _label(ticker: str, fold: int) -> str:
    return f"{ticker} f{fold}" if fold else ticker


def row_label(row: TickerResult) -> str:
    """The ticker, with its walk-forward fold when there are folds ("AAPL f2")."""
    return _label(row.ticker, row.fold)


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
