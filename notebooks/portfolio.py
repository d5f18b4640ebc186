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
# # A portfolio of Dow stocks
#
# Five Dow members from the local data cache, traded as one portfolio: `PortfolioEnv` holds cash
# plus N assets and rebalances to the policy's target weights every day, paying costs on turnover.
# A short A3C run, then an out-of-sample backtest against equal weight (held and rebalanced), the
# risk-based allocations (inverse volatility, minimum variance, HRP) and the rule baselines.
#
# **Data first.** This notebook reads the parquet cache (`$TRADEA3C_DATA`, default `./data/cache`
# relative to the notebook's working folder) and never goes online. If the tickers below are not
# cached, the first code cell stops and says what to run. From the repository root, for the
# 2006-2017 Dow files that sit next to the checkout:
#
# ```bash
# tradea3c fetch --from-csv ../shared/data/djia30 --data-dir data/cache   # offline import
# export TRADEA3C_DATA=$PWD/data/cache    # then start Jupyter: the notebook reads this cache
# ```
#
# (online instead: `tradea3c fetch AAPL MSFT JPM KO XOM --data-dir data/cache`).

# %%
from tradea3c.data import default_data_dir, list_cache

TICKERS = ["AAPL", "MSFT", "JPM", "KO", "XOM"]  # 5 Dow members from different sectors
TRAIN_END, VAL_END = "2014-12-31", "2015-12-31"  # the test range is everything after VAL_END
STEPS = 30_000  # A3C steps: enough to see the whole path, far too few to expect an edge
DATA_DIR = default_data_dir().resolve()  # $TRADEA3C_DATA, else ./data/cache


class NotCached(RuntimeError):
    def _render_traceback_(self) -> list[str]:  # IPython then shows this message alone, no traceback
        return [f"NotCached: {self}"]


cached = {meta.ticker for meta in list_cache(DATA_DIR)}
missing = [t for t in TICKERS if t not in cached]
if missing:
    raise NotCached(
        f"not cached in {DATA_DIR}: {' '.join(missing)}. Import the Dow files first, from the repo root:\n"
        f"    tradea3c fetch --from-csv ../shared/data/djia30 --data-dir {DATA_DIR}\n"
        f"(or online: tradea3c fetch {' '.join(missing)} --data-dir {DATA_DIR}), "
        "or set $TRADEA3C_DATA to a cache that has them before starting Jupyter; then run this cell again."
    )
print(f"cache {DATA_DIR}: {len(cached)} tickers; using {', '.join(TICKERS)}")

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from tradea3c.backtest import backtest_run
from tradea3c.backtest.report import write_html
from tradea3c.backtest.results import write_json
from tradea3c.config import apply_overrides
from tradea3c.data import load_market
from tradea3c.envs import PortfolioEnv
from tradea3c.experiment import load_strategy, train_strategy
from tradea3c.experiment.train import default_run_dir

# %matplotlib inline

# %% [markdown]
# ## 1. The market
# `load_market(tickers)` validates every cached series and aligns them on one calendar (a member
# listed late or delisted early keeps its history, with a `tradable` mask).

# %%
market = load_market(TICKERS, data_dir=DATA_DIR)
print(market)
market.summary()

# %%
close = market.panel("close")
fig, ax = plt.subplots(figsize=(10, 4))
for ticker in close:
    ax.plot(close.index, close[ticker] / close[ticker].iloc[0], lw=0.8, label=ticker)
ax.axvspan(pd.Timestamp(TRAIN_END), pd.Timestamp(VAL_END), color="grey", alpha=0.15, label="validation")
ax.axvspan(pd.Timestamp(VAL_END), close.index[-1], color="green", alpha=0.08, label="test")
ax.set_yscale("log")
ax.set_title("close, relative to the first bar (log scale)")
ax.legend()
plt.show()

# %% [markdown]
# ## 2. The strategy and its portfolio env
# The shipped `dow30` strategy (10-day window of 7 features per member, Dirichlet target weights
# over cash + members, three worker profiles) on our five tickers, with a small step budget.
# `strategy.env_config(market)` is the resolved `PortfolioEnvConfig` the workers train on.

# %%
strategy = apply_overrides(
    load_strategy("dow30"),
    [
        "name=portfolio",
        f'market.source="{",".join(TICKERS)}"',
        f'market.data_dir="{DATA_DIR}"',
        f'split.train_end="{TRAIN_END}"',
        f'split.val_end="{VAL_END}"',
        f"a3c.total_steps={STEPS}",
        f"a3c.eval_every={STEPS // 4}",
    ],
)
env_config = strategy.env_config(market)
env = PortfolioEnv(market, env_config)
obs, info = env.reset(seed=0)
print("observation:", obs.shape, " action space:", env.action_space, "(weights of cash, then members)")
equal = np.array([0.0] + [1.0] * market.n_assets, dtype=np.float32)  # all in, equal weight
rows = []
for _ in range(5):
    obs, reward, terminated, truncated, info = env.step(equal)
    rows.append(
        {"reward": reward, "equity": info["equity"], "cost": info["cost"], "turnover": info["turnover"]}
    )
pd.DataFrame(rows)

# %% [markdown]
# ## 3. Train briefly
# `train_strategy` is the library call behind `tradea3c train`; `best.pt` keeps the checkpoint with
# the best validation Sharpe (2015).

# %%
run_dir = default_run_dir(strategy)  # runs/portfolio-<time>
print(f"{STEPS:,} steps, {strategy.a3c.num_workers} workers -> {run_dir}")
t0 = time.perf_counter()
result = train_strategy(strategy, run_dir, progress=False, market=market)
print(f"{result.status}: {result.global_step:,} steps in {time.perf_counter() - t0:.1f} s")
print(f"best validation Sharpe {result.best_metric} at step {result.best_step}")

# %% [markdown]
# ## 4. Backtest on 2016-2017, against equal weight and the other allocations
# The same execution and costs for every curve. `equal_weight_hold` buys the equal-weight portfolio
# once, `equal_weight_rebal21` rebalances it every 21 bars; the risk-based allocations refit on the
# trailing 252 returns at each rebalance.

# %%
report = backtest_run(run_dir, costs_bps=(0, 5, 10, 25), market=market)
print(report.label, report.ranges["backtest"], "costs (bps):", report.costs)
metrics = pd.DataFrame({name: vars(stats) for name, stats in report.metrics.items()}).T
metrics[["total_return", "sharpe", "sortino", "max_drawdown", "turnover", "costs_paid"]].round(3)

# %%
sweep = pd.DataFrame(
    {
        (level.cost_bps, name): {"sharpe": s.sharpe}
        for level in report.cost_sweep
        for name, s in level.metrics.items()
    }
).T
sweep.index.names = ["cost bps/side", "curve"]
sweep["sharpe"].unstack("curve").round(3)

# %%
fig, (ax, ax_w) = plt.subplots(2, 1, figsize=(10, 7), sharex=True)
for curve in report.curves:
    ax.plot(
        pd.DatetimeIndex(curve.dates),
        curve.equity,
        lw=1.6 if curve.name == "policy" else 0.8,
        label=curve.name,
    )
ax.axhline(1.0, color="grey", lw=0.5)
ax.set_title(f"equity, {report.label}")
ax.legend(fontsize=8)
policy = report.policy
ax_w.stackplot(pd.DatetimeIndex(policy.dates[1:]), policy.weights.T, labels=report.tickers)
ax_w.set_title("policy weights held at each close (the rest is cash)")
ax_w.legend(fontsize=8, loc="upper left")
plt.show()

# %% [markdown]
# ## 5. The tear sheet

# %%
html = write_html(report, run_dir / "tearsheet.html")
write_json(report, run_dir / "metrics.json")
print(f"tear sheet: {html.resolve()}")
best = max(report.metrics, key=lambda name: report.metrics[name].sharpe)
policy_sharpe, best_sharpe = report.metrics["policy"].sharpe, report.metrics[best].sharpe
print(f"policy Sharpe {policy_sharpe:.2f}; best curve: {best} ({best_sharpe:.2f})")
