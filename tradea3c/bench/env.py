"""Env stepping benchmarks, interleaved in-process: our `MarketEnv` and `MarketVectorEnv` against
gym-anytrading's ``stocks-v0`` (unwrapped `StocksEnv`, same price series, same window); and our
`PortfolioEnv` / `PortfolioVectorEnv` against FinRL's ``StockTradingEnv`` on the same 30 stocks
(`run_portfolio_benchmark`; FinRL is not a dependency: its env module is executed from the wheel
given explicitly as ``finrl_wheel`` / ``--finrl-wheel PATH``; no wheel is ever looked for).

Each repeat times every candidate once, in turn, over about ``steps`` env-steps of random
actions (resetting at episode end); the table reports per-candidate medians and the ratio to the
gym-anytrading median. Only numpy is used (no BLAS), so stepping is single-threaded; set
OMP_NUM_THREADS=1 before starting Python to pin any thread pools as well.
"""

from __future__ import annotations

import contextlib
import io
import os
import statistics
import time
import types
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from tradea3c.data.market import Market
from tradea3c.envs.config import PortfolioEnvConfig


@dataclass(frozen=True)
class BenchRow:
    name: str
    num_envs: int
    steps_per_s: float  # median env-steps per second
    ratio: float  # steps_per_s / gym-anytrading's steps_per_s


def _time_single(env, actions) -> float:
    """Env-steps/s of one env over ``actions`` (resetting at episode ends)."""
    env.reset(seed=0)
    step, reset = env.step, env.reset
    t0 = time.perf_counter()
    for a in actions:
        _, _, term, trunc, _ = step(a)
        if term or trunc:
            reset()
    return len(actions) / (time.perf_counter() - t0)


def _time_vector(venv, actions: np.ndarray) -> float:
    """Env-steps/s of a vector env over ``actions`` of shape (T, K, ...)."""
    venv.reset(seed=0)
    step = venv.step
    t0 = time.perf_counter()
    for a in actions:
        step(a)
    return len(actions) * actions.shape[1] / (time.perf_counter() - t0)  # T x K env-steps


def run_env_benchmark(
    steps: int = 20_000,
    repeats: int = 5,
    ks: tuple[int, ...] = (1, 16, 64),
    window: int = 30,
    market: Market | None = None,
    seed: int = 0,
) -> list[BenchRow]:
    """Steps/s of gym-anytrading, `MarketEnv` and `MarketVectorEnv` at each K (medians)."""
    from gym_anytrading.envs import StocksEnv

    from tradea3c.envs import MarketEnv, MarketEnvConfig, MarketVectorEnv
    from tradea3c.envs.market_env import default_market

    market = default_market() if market is None else market
    frame = market.frame(market.tickers[0])
    df = frame.rename(columns=str.capitalize)
    cfg = MarketEnvConfig(window=window)
    rng = np.random.default_rng(seed)
    single_actions = rng.integers(0, 2, steps).tolist()

    baseline = StocksEnv(df=df, window_size=window, frame_bound=(window, len(df)))
    candidates: list[tuple[str, int, Callable[[], float]]] = [
        ("gym-anytrading stocks-v0 (unwrapped)", 1, lambda: _time_single(baseline, single_actions)),
    ]
    ours = MarketEnv(market.select(market.tickers[0]), cfg)
    candidates.append(("tradea3c MarketEnv", 1, lambda: _time_single(ours, single_actions)))
    for k in ks:
        venv = MarketVectorEnv(k, market.select(market.tickers[0]), cfg)
        acts = rng.integers(0, 2, (max(steps // k, 10), k))
        candidates.append((f"tradea3c MarketVectorEnv K={k}", k, lambda v=venv, a=acts: _time_vector(v, a)))

    for _, _, fn in candidates:  # warm-up (caches, first allocations)
        fn()
    samples: list[list[float]] = [[] for _ in candidates]
    for _ in range(repeats):
        for i, (_, _, fn) in enumerate(candidates):
            samples[i].append(fn())
    medians = [statistics.median(s) for s in samples]
    base = medians[0]
    return [BenchRow(name, k, m, m / base) for (name, k, _), m in zip(candidates, medians, strict=True)]


# ---------------------------------------------------------------------------------- portfolios
FINRL_VERSION = "0.3.7"
FINRL_ENV_PATH = "finrl/meta/env_stock_trading/env_stocktrading.py"
FINRL_INDICATORS = (  # FinRL's tutorial INDICATORS (config.py), computed here with pandas
    "macd",
    "boll_ub",
    "boll_lb",
    "rsi_30",
    "cci_30",
    "dx_30",
    "close_30_sma",
    "close_60_sma",
)
FINRL_HOW_TO = (
    f"FinRL row skipped: pass --finrl-wheel PATH to compare with FinRL {FINRL_VERSION}'s StockTradingEnv "
    f"(pip download finrl=={FINRL_VERSION} --no-deps -d wheels; the wheel's env module is executed)"
)
DJIA_DIR_ENV = "TRADEA3C_DJIA_DIR"
DJIA_DIRS = ("../shared/data/djia30", "data/djia30")


@dataclass(frozen=True)
class PortfolioBenchRow:
    name: str
    n_assets: int
    num_envs: int
    steps_per_s: float  # median env-steps per second
    ratio: float | None  # steps_per_s / FinRL's (same 30 assets); None: no FinRL row or other assets


@dataclass(frozen=True)
class PortfolioBench:
    rows: list[PortfolioBenchRow]
    data: str  # where the 30-asset market came from
    notes: list[str]  # skipped rows and why


def resolve_finrl_wheel(path: str | Path | None) -> Path | None:
    """The FinRL wheel to execute: ``path`` itself, only when given (None: no FinRL row). Nothing is
    discovered (no folder, no environment variable): running a wheel's code takes an explicit path.
    Raises FileNotFoundError when ``path`` is not a file."""
    if path is None:
        return None
    if not Path(path).is_file():
        raise FileNotFoundError(f"FinRL wheel not found: {path}")
    return Path(path)


def load_finrl_env_class(wheel: Path) -> type:
    """FinRL's ``StockTradingEnv``, executed from its source inside the wheel (a zip; FinRL's
    package ``__init__`` and its heavy dependencies are never imported)."""
    with zipfile.ZipFile(wheel) as z:
        source = z.read(FINRL_ENV_PATH).decode()
    module = types.ModuleType("finrl_env_stocktrading")
    module.__file__ = f"{wheel}/{FINRL_ENV_PATH}"
    exec(compile(source, module.__file__, "exec"), module.__dict__)
    return module.StockTradingEnv


def finrl_frame(market: Market) -> pd.DataFrame:
    """``market`` in FinRL's tutorial format: one row per (date, tic) sorted by date then tic,
    indexed by the day number (``data_split``'s factorised date), with the OHLCV columns, ``day``
    and the tutorial's indicator columns (stockstats' names; same shapes, pandas formulas)."""
    frames = []
    for j, tic in enumerate(market.tickers):
        c = pd.Series(market.close[:, j])
        h, lo = pd.Series(market.high[:, j]), pd.Series(market.low[:, j])
        sma20, sd20 = c.rolling(20, min_periods=1).mean(), c.rolling(20, min_periods=1).std().fillna(0.0)
        delta = c.diff().fillna(0.0)
        up = delta.clip(lower=0).ewm(alpha=1 / 30).mean()
        down = (-delta).clip(lower=0).ewm(alpha=1 / 30).mean()
        tp = (c + h + lo) / 3
        win = sliding_window_view(tp.to_numpy(), 30)  # mean absolute deviation over 30 bars
        mad = pd.Series(
            np.concatenate([np.full(29, np.nan), np.abs(win - win.mean(1, keepdims=True)).mean(1)])
        )
        dm_up, dm_down = h.diff().clip(lower=0).fillna(0.0), (-lo.diff()).clip(lower=0).fillna(0.0)
        df = pd.DataFrame(
            {
                "date": pd.DatetimeIndex(market.dates).strftime("%Y-%m-%d"),
                "tic": tic,
                "open": market.open[:, j],
                "high": h,
                "low": lo,
                "close": c,
                "volume": market.volume[:, j],
                "day": pd.DatetimeIndex(market.dates).day_of_week,
                "macd": c.ewm(span=12).mean() - c.ewm(span=26).mean(),
                "boll_ub": sma20 + 2 * sd20,
                "boll_lb": sma20 - 2 * sd20,
                "rsi_30": (100 - 100 / (1 + up / down.replace(0.0, np.nan))).fillna(50.0),
                "cci_30": (
                    (tp - tp.rolling(30, min_periods=1).mean()) / (0.015 * mad.replace(0.0, np.nan))
                ).fillna(0),
                "dx_30": (100 * (dm_up - dm_down).abs() / (dm_up + dm_down).replace(0.0, np.nan)).fillna(0.0),
                "close_30_sma": c.rolling(30, min_periods=1).mean(),
                "close_60_sma": c.rolling(60, min_periods=1).mean(),
            }
        )
        frames.append(df)
    out = pd.concat(frames).sort_values(["date", "tic"], ignore_index=True)
    out.index = out["date"].factorize()[0]
    return out


def finrl_env(env_cls: type, df: pd.DataFrame):
    """``StockTradingEnv`` with the FinRL tutorial's ``env_kwargs`` (Stock_NeurIPS2018 / FinRL_
    StockTrading: hmax 100, 1e6 initial cash, 0.1 % costs each way, reward scaling 1e-4)."""
    n = df["tic"].nunique()
    return env_cls(
        df=df,
        stock_dim=n,
        hmax=100,
        initial_amount=1_000_000,
        num_stock_shares=[0] * n,
        buy_cost_pct=[0.001] * n,
        sell_cost_pct=[0.001] * n,
        reward_scaling=1e-4,
        state_space=1 + 2 * n + len(FINRL_INDICATORS) * n,
        action_space=n,
        tech_indicator_list=list(FINRL_INDICATORS),
    )


def djia_market(n_assets: int = 30, csv_dir: str | Path | None = None) -> tuple[Market | None, str]:
    """The first ``n_assets`` DJIA members (AABA, not a member, left out) of the shared CSVs, from
    ``csv_dir`` or ``$TRADEA3C_DJIA_DIR`` or ``../shared/data/djia30``; (None, reason) when absent."""
    cands = [csv_dir] if csv_dir is not None else [os.environ.get(DJIA_DIR_ENV), *DJIA_DIRS]
    for d in cands:
        if d and Path(d).is_dir() and any(Path(d).glob("*.csv")):
            from tradea3c.data import load_csv_market

            tickers = sorted(p.stem for p in Path(d).glob("*.csv") if p.stem != "AABA")[:n_assets]
            return load_csv_market(Path(d), tickers=tickers), f"DJIA CSVs in {d}"
    return None, "no DJIA CSVs found"


def run_portfolio_benchmark(
    steps: int = 20_000,
    repeats: int = 5,
    n_assets: int = 30,
    vector_assets: int = 500,
    vector_k: int = 16,
    finrl_wheel: str | Path | None = None,
    csv_dir: str | Path | None = None,
    universe_bars: int = 756,
    synthetic_bars: int = 3020,
    config: PortfolioEnvConfig | None = None,
    seed: int = 0,
) -> PortfolioBench:
    """`PortfolioEnv` on ``n_assets`` stocks (DJIA CSVs when present, else synthetic) next to FinRL's
    ``StockTradingEnv`` (tutorial settings, executed from the wheel at ``finrl_wheel``; without one
    the row is skipped with a note; a ``finrl_wheel`` that is not a file raises FileNotFoundError)
    and `PortfolioVectorEnv` (K = ``vector_k``) on the same stocks and on a synthetic universe
    of ``vector_assets`` assets (``universe_bars`` bars). Our envs use ``config``,
    by default the dow30 strategy's portfolio settings (window 10, 7 features, simplex actions,
    252-step episodes, the default costs). Without DJIA CSVs the stocks are a synthetic market of
    ``synthetic_bars`` bars (about the CSVs' length).

    Interleaved like `run_env_benchmark`: medians of ``repeats`` runs of random actions; FinRL
    steps ``steps // 20`` times per run (it is two orders of magnitude slower), vector envs
    ``steps // K`` vector steps."""
    from tradea3c.data.market import synthetic_market
    from tradea3c.envs import PortfolioEnv, PortfolioVectorEnv
    from tradea3c.experiment import load_strategy

    wheel = resolve_finrl_wheel(finrl_wheel)  # before any work: a wrong path fails at once
    cfg = config or load_strategy("dow30").portfolio
    notes: list[str] = []
    market, data = djia_market(n_assets, csv_dir)
    if market is None or market.n_assets < n_assets:
        notes.append(f"{data}: a synthetic {n_assets}-asset market instead")
        market = synthetic_market(synthetic_bars, n_assets, seed=seed)
        data = f"synthetic, {n_assets} assets x {synthetic_bars} bars"
    rng = np.random.default_rng(seed)
    n = market.n_assets
    candidates: list[tuple[str, int, int, Callable[[], float]]] = []
    if wheel is None:
        notes.append(FINRL_HOW_TO)
    else:
        try:
            finrl = finrl_env(load_finrl_env_class(wheel), finrl_frame(market))
        except (ImportError, KeyError, OSError, zipfile.BadZipFile) as exc:
            notes.append(f"FinRL row skipped: {wheel}: {type(exc).__name__}: {exc}")
        else:
            fa = rng.uniform(-1, 1, (max(steps // 20, 50), n))

            def run_finrl(env=finrl, a=fa) -> float:
                with contextlib.redirect_stdout(io.StringIO()):  # it prints a summary every 10 episodes
                    return _time_single(env, a)

            candidates.append((f"FinRL {FINRL_VERSION} StockTradingEnv", n, 1, run_finrl))
    single = PortfolioEnv(market, cfg)
    sa = rng.random((steps, n + 1)).astype(np.float32)
    candidates.append(("tradea3c PortfolioEnv", n, 1, lambda: _time_single(single, sa)))
    vec30 = PortfolioVectorEnv(vector_k, market, cfg)
    va30 = rng.random((max(steps // vector_k, 10), vector_k, n + 1)).astype(np.float32)
    candidates.append(
        (f"tradea3c PortfolioVectorEnv K={vector_k}", n, vector_k, lambda: _time_vector(vec30, va30))
    )
    universe = synthetic_market(universe_bars, vector_assets, seed=seed)
    big = PortfolioVectorEnv(vector_k, universe, cfg)
    vab = rng.random((max(steps // vector_k // 4, 10), vector_k, vector_assets + 1)).astype(np.float32)
    candidates.append(
        (
            f"tradea3c PortfolioVectorEnv K={vector_k}, synthetic",
            vector_assets,
            vector_k,
            lambda: _time_vector(big, vab),
        )
    )

    for *_, fn in candidates:  # warm-up
        fn()
    samples: list[list[float]] = [[] for _ in candidates]
    for _ in range(repeats):
        for i, (*_, fn) in enumerate(candidates):
            samples[i].append(fn())
    medians = [statistics.median(s) for s in samples]
    base = medians[0] if candidates[0][0].startswith("FinRL") else None
    rows = [
        PortfolioBenchRow(name, na, k, m, m / base if base is not None and na == n else None)
        for (name, na, k, _), m in zip(candidates, medians, strict=True)
    ]
    return PortfolioBench(rows, data, notes)
