"""Picklable env factories and the validation evaluator that connect market envs to the A3C engine.

The engine starts workers with forkserver/spawn, so everything it receives must pickle: these are
small frozen dataclasses holding the `Market` (a few MB at most) and a resolved env config, never
closures.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import gymnasium as gym
import numpy as np

from tradea3c.a3c.models import Policy
from tradea3c.a3c.play import run_episode
from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, EnvConfig, MarketEnvConfig, Split
from tradea3c.envs.make import make_env, make_vector_env
from tradea3c.envs.profiles import WorkerProfile, profile_for_worker
from tradea3c.metrics import score_equity


@dataclass(frozen=True, eq=False)
class TradingEnvFactory:
    """``factory(i)``: worker i's env (profile i mod P), reset with seed ``base_seed + i`` and ready.

    In training the engine resets it again with the worker's derived seed (``tradea3c.a3c.seeding``),
    so ``base_seed + i`` only matters to callers that use the factory on their own.

    ``num_envs > 1`` gives worker i a native vector env of K perturbed replays (`MarketVectorEnv`
    for one asset, `PortfolioVectorEnv` for a portfolio).
    """

    market: Market
    config: EnvConfig
    split: DateSplit
    profiles: tuple[WorkerProfile, ...] = ()
    base_seed: int = 0
    num_envs: int = 1

    def __call__(self, worker: int) -> Any:
        cfg, seed = self.config, self.base_seed + worker
        if self.profiles:
            profile, seed = profile_for_worker(self.profiles, worker, self.base_seed)
            cfg = profile.apply(cfg)
        if self.num_envs > 1:
            venv = make_vector_env(self.num_envs, self.market, cfg, self.split, "train")
            venv.reset(seed=seed * self.num_envs)
            return venv
        env = make_env(self.market, cfg, self.split, "train")
        env.reset(seed=seed)
        return env


def run_greedy(model: Any, env: gym.Env, greedy: bool = True) -> np.ndarray:
    """Equity path (initial equity first) of the model's policy over one episode (reset seed 0)."""
    trace = run_episode(Policy(model, greedy=greedy), env, seed=0)
    return np.asarray([info["equity"] for info in trace.infos])


@dataclass(frozen=True, eq=False)
class ValidationEvaluator:
    """``evaluate_fn`` for the engine: greedy policy over the whole validation range -> Sharpe,
    total return, max drawdown, and buy-and-hold's total return on the same bars for reference.

    A one-asset policy trained cross-sectionally (a `MarketEnvConfig` on several tickers) is scored
    on each ticker's validation range and the metrics are averaged over tickers."""

    market: Market
    config: EnvConfig
    split: DateSplit
    split_name: Split = "val"

    def __call__(self, model: Any) -> dict[str, float]:
        if isinstance(self.config, MarketEnvConfig) and self.market.n_assets > 1:
            scores = [self._score(model, self.market.select(t)) for t in self.market.tickers]
            return {k: float(np.mean([s[k] for s in scores])) for k in scores[0]}
        return self._score(model, self.market)

    def _score(self, model: Any, market: Market) -> dict[str, float]:
        env = make_env(market, self.config.for_evaluation(), self.split, self.split_name)
        periods = (
            market.periods_per_year if market.intraday else 252.0
        )  # daily validation stays bit-identical
        metrics = score_equity(run_greedy(model, env), periods)
        ep = env.unwrapped.episode
        close = ep.track.close[ep.start : ep.start + ep.n_steps + 1]
        metrics["buy_hold_return"] = float(np.mean(close[-1] / close[0]) - 1.0)
        return metrics
