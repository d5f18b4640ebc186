# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # tradea3c quick start
#
# The whole path on one stock, offline, in a couple of minutes on 2 cores: the demo market (daily
# GOOGL 2009-2018, shipped inside gym-anytrading), its causal indicators, the one-asset Gymnasium env
# stepped by hand, a short A3C training run, and an out-of-sample backtest of the best checkpoint
# against buy-and-hold and the rule baselines at several cost levels, ending in an HTML tear sheet.
#
# It is `tradea3c demo` taken apart cell by cell. Runs go to `runs/quickstart-<time>/` under the
# notebook's working folder.

# %%
import time

import matplotlib.pyplot as plt
import pandas as pd

from tradea3c.backtest import backtest_run
from tradea3c.backtest.report import write_html
from tradea3c.backtest.results import write_json
from tradea3c.config import apply_overrides
from tradea3c.data import load_market
from tradea3c.envs import MarketEnv
from tradea3c.experiment import StrategyConfig, train_strategy
from tradea3c.experiment.train import default_run_dir
from tradea3c.features import features_for

# %matplotlib inline

STEPS = 30_000  # A3C steps: enough to see the whole path, far too few to expect an edge

# %% [markdown]
# ## 1. The demo market
# `load_market("demo")` needs no cache and no network. A `Market` holds aligned `(bars, assets)`
# arrays of open/high/low/close/volume; `frame()` gives one ticker as a DataFrame.

# %%
market = load_market("demo")
print(market)
market.summary()

# %%
prices = market.frame()
fig, ax = plt.subplots(figsize=(10, 3.5))
ax.plot(prices.index, prices["close"], lw=0.8, label="close")
ax.plot(prices.index, prices["close"].rolling(50).mean(), lw=0.8, label="SMA 50")
ax.plot(prices.index, prices["close"].rolling(200).mean(), lw=0.8, label="SMA 200")
ax.set_title(f"{market.tickers[0]} (adjusted={market.adjusted})")
ax.legend()
plt.show()

# %% [markdown]
# ## 2. Causal indicators
# `features_for(market)` computes the default `ta` indicators, made scale-free and z-scored on past
# values only, as a float32 array `(bars, assets, features)`. Bars before `first_valid` are the
# warm-up and are never observed by an env.

# %%
fs = features_for(market)
print(f"{fs.values.shape} (bars, assets, features); first valid bar {fs.first_valid}")
feats = pd.DataFrame(fs.values[:, 0, :], index=prices.index, columns=fs.names)
shown = ["rsi", "macd_diff", "bb_pctb", "vol_20"]
fig, axes = plt.subplots(len(shown), 1, figsize=(10, 6), sharex=True)
for ax, name in zip(axes, shown, strict=True):
    ax.plot(feats.index, feats[name], lw=0.6)
    ax.set_ylabel(name)
axes[0].set_title("normalised indicators (clipped to +-5)")
plt.show()

# %% [markdown]
# ## 3. The one-asset env, stepped by hand
# `MarketEnv` is a Gymnasium env: the observation is a window of features plus the agent's state
# (position, equity, ...); action `i` targets the weight `positions[i]` of equity. A decision at the
# close of bar t fills at the open of t+1, costs included. End of data is truncation, ruin is
# termination.

# %%
env = MarketEnv(market, window=30, positions=(0.0, 1.0))
obs, info = env.reset(seed=0)
print("observation space:", env.observation_space.shape, " action space:", env.action_space)
print("obs:", obs.shape, obs.dtype, " info:", info)
rows = []
for action in [1, 1, 1, 0, 0, 1]:  # buy, hold long, hold, sell, stay flat, buy again
    obs, reward, terminated, truncated, info = env.step(action)
    rows.append(
        {"action": action, "reward": reward, "terminated": terminated, "truncated": truncated, **info}
    )
pd.DataFrame(rows)

# %% [markdown]
# ## 4. Train briefly
# `train_strategy` is the library call behind `tradea3c train`. The built-in strategy (the shipped
# `default.toml`) trades the demo market long/flat with three worker profiles; we only shrink the
# step budget. Every `eval_every` steps the greedy policy is scored on the validation range and
# `best.pt` keeps the best validation Sharpe.

# %%
strategy = apply_overrides(
    StrategyConfig(), ["name=quickstart", f"a3c.total_steps={STEPS}", f"a3c.eval_every={STEPS // 4}"]
)
run_dir = default_run_dir(strategy)  # runs/quickstart-<time>
print(f"{STEPS:,} steps, {strategy.a3c.num_workers} workers -> {run_dir}")
t0 = time.perf_counter()
result = train_strategy(strategy, run_dir, progress=False, market=market)
print(f"{result.status}: {result.global_step:,} steps in {time.perf_counter() - t0:.1f} s")
print(f"best validation Sharpe {result.best_metric} at step {result.best_step}: {result.best_checkpoint}")

# %% [markdown]
# ## 5. Backtest out of sample, with costs
# `backtest_run` replays the best checkpoint's greedy policy over the **test** range (after the
# validation end) through the same execution and cost code the env trains on, next to buy-and-hold
# and the rule baselines (`sma_50_200`, `ts_mom_252`) at the same costs. The main table uses the
# strategy's own costs; the sweep replaces them with a flat 0/5/10/25 bps per side.
# On this test range both rules stay long throughout, so their curves lie on buy-and-hold's.

# %%
report = backtest_run(run_dir, costs_bps=(0, 5, 10, 25), market=market)
print(report.label, report.ranges["backtest"], "costs (bps):", report.costs)
metrics = pd.DataFrame({name: vars(stats) for name, stats in report.metrics.items()}).T
metrics[
    ["total_return", "cagr", "sharpe", "sortino", "max_drawdown", "turnover", "exposure", "costs_paid"]
].round(3)

# %%
sweep = pd.DataFrame(
    {
        (level.cost_bps, name): {"total_return": s.total_return, "sharpe": s.sharpe}
        for level in report.cost_sweep
        for name, s in level.metrics.items()
    }
).T
sweep.index.names = ["cost bps/side", "curve"]
sweep.unstack("curve").round(3)

# %%
fig, ax = plt.subplots(figsize=(10, 4))
for curve in report.curves:
    ax.plot(
        pd.DatetimeIndex(curve.dates),
        curve.equity,
        lw=1.6 if curve.name == "policy" else 0.9,
        label=curve.name,
    )
ax.axhline(1.0, color="grey", lw=0.5)
ax.set_title(f"equity, {report.label} ({report.ranges['backtest'][0]} .. {report.ranges['backtest'][1]})")
ax.legend()
plt.show()

# %% [markdown]
# ## 6. The tear sheet
# One self-contained HTML file: run config, metrics, cost sweep, seed table with the deflated Sharpe,
# positions over the price, then quantstats' full report with buy-and-hold as the benchmark.

# %%
html = write_html(report, run_dir / "tearsheet.html")
write_json(report, run_dir / "metrics.json")
print(f"tear sheet: {html.resolve()}\nmetrics:    {(run_dir / 'metrics.json').resolve()}")
policy, bench = report.metrics["policy"], report.metrics[report.benchmark.name]
print(f"policy Sharpe {policy.sharpe:.2f} vs {report.benchmark.name} {bench.sharpe:.2f}")

# %% [markdown]
# A 30k-step agent is not expected to beat buy-and-hold; the docs' "Does it beat buy-and-hold?"
# page says what longer runs over the Dow did.
#
# ## 7. Hourly bars
# The same pipeline runs per bar on intraday data (`interval="1h"`; Data > Intraday). A CSV of
# hourly bars (a synthetic random walk here: 320 sessions of seven 1h bars, New York times) is
# imported into a cache of its own, loaded as a `Market` with `interval="1h"`, trained on briefly
# and backtested; metrics are annualised with 7 x 252 = 1,764 bars a year. Features keep their
# bar counts, so the normalisation window is shortened to fit one year of hourly bars.

# %%
from pathlib import Path

import numpy as np

from tradea3c.data.fetch import import_csv

hourly_dir = Path("hourly")
(hourly_dir / "csv").mkdir(parents=True, exist_ok=True)
sessions = pd.bdate_range("2023-01-03", periods=320)
stamps = [day + pd.Timedelta(hours=9.5 + h) for day in sessions for h in range(7)]  # 09:30 .. 15:30
rng = np.random.default_rng(0)
close = 100 * np.exp(np.cumsum(rng.normal(1e-4, 4e-3, len(stamps))))
pd.DataFrame(
    {
        "date": [s.strftime("%Y-%m-%d %H:%M") for s in stamps],
        "open": close,
        "high": close * (1 + rng.uniform(0, 3e-3, len(stamps))),
        "low": close * (1 - rng.uniform(0, 3e-3, len(stamps))),
        "close": close,
        "volume": rng.integers(500_000, 2_000_000, len(stamps)),
    }
).to_csv(hourly_dir / "csv" / "HRLY.csv", index=False)
import_csv(hourly_dir / "csv", interval="1h", data_dir=hourly_dir / "cache")
hourly = load_market("HRLY", interval="1h", data_dir=hourly_dir / "cache")
print(f"{hourly.n_bars} bars of {hourly.interval}, {hourly.periods_per_year:.0f} bars a year")

hourly_cfg = apply_overrides(
    StrategyConfig(),
    [
        "name=hourly", "a3c.total_steps=3000", "a3c.workers=1", "a3c.eval_every=1500",
        "a3c.tensorboard=false", "envs_per_worker=2", "profiles=[]", "env.window=10",
        "env.episode_length=50", "env.features.norm_window=50", "env.features.norm_min_periods=20",
        f'split.train_end="{sessions[230].date()}"', f'split.val_end="{sessions[275].date()}"',
    ],
)  # fmt: skip
hourly_run = train_strategy(hourly_cfg, default_run_dir(hourly_cfg), market=hourly, progress=False)
hourly_report = backtest_run(hourly_run.run_dir, market=hourly)
print(hourly_report.ranges["backtest"], {k: round(m.sharpe, 2) for k, m in hourly_report.metrics.items()})

# %% [markdown]
# Next: `portfolio.ipynb` trains on several stocks.
