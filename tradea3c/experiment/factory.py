"""Picklable env factories and the validation evaluator that connect market envs to the A3C engine.

The engine starts workers with forkserver/spawn, so everything it receives must pickle: these are
small frozen dataclasses holding the `Market` (a few MB at most) and configs, never closures.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any, Literal

import gymnasium as gym
import numpy as np

from tradea3c.backtest.metrics import max_drawdown, returns_from_equity, sharpe_ratio, total_return
from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, MarketEnvConfig, PortfolioEnvConfig, RewardConfig, Split
from tradea3c.envs.market_env import MarketEnv
from tradea3c.envs.perturb import PerturbConfig
from tradea3c.envs.portfolio_env import PortfolioEnv
from tradea3c.envs.profiles import WorkerProfile, profile_for_worker
from tradea3c.envs.vector import MarketVectorEnv

EnvConfig = MarketEnvConfig | PortfolioEnvConfig


def apply_profile(profile: WorkerProfile, cfg: EnvConfig) -> EnvConfig:
    """``cfg`` with the profile's perturbations, reward, costs and horizon.

    All workers share one network, hence one action space: the strategy's ``positions`` stay the
    action set, and a profile's ``positions`` only bound the range it may hold (a long-only profile
    turns "short" into "flat"), so a risk profile restricts behaviour without changing the head."""
    cfg = replace(cfg, perturb=profile.perturb, reward=profile.reward, costs=profile.costs)
    if profile.episode_length:
        cfg = replace(cfg, episode_length=profile.episode_length)
    if isinstance(cfg, MarketEnvConfig) and profile.positions:
        lo, hi = min(profile.positions), max(profile.positions)
        cfg = replace(cfg, positions=tuple(min(max(p, lo), hi) for p in cfg.positions))
    return cfg


def make_env(market: Market, cfg: EnvConfig, split: DateSplit, split_name: Split) -> gym.Env:
    if isinstance(cfg, PortfolioEnvConfig):
        return PortfolioEnv(market, cfg, split=split, split_name=split_name)
    return MarketEnv(market, cfg, split=split, split_name=split_name)


@dataclass(frozen=True, eq=False)
class TradingEnvFactory:
    """``factory(i)``: worker i's env (profile i mod P, seed base_seed + i), reset and ready.

    ``num_envs > 1`` gives worker i a native `MarketVectorEnv` of K perturbed replays (one asset).
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
            cfg = apply_profile(profile, cfg)
        if self.num_envs > 1:
            if not isinstance(cfg, MarketEnvConfig):
                raise ValueError("envs_per_worker > 1 needs the one-asset market env")
            venv = MarketVectorEnv(self.num_envs, self.market, cfg, split=self.split, split_name="train")
            venv.reset(seed=seed * self.num_envs)
            return venv
        env = make_env(self.market, cfg, self.split, "train")
        env.reset(seed=seed)
        return env


def evaluation_config(cfg: EnvConfig) -> EnvConfig:
    """The unperturbed env used to score a policy: the whole range in one episode, fixed start,
    plain log-return reward, the strategy's own costs, no ruin stop before the end."""
    return replace(
        cfg,
        perturb=PerturbConfig(random_start=False),
        episode_length=0,
        reward=RewardConfig(),
        ruin_floor=0.0,
    )


def run_greedy(model: Any, env: gym.Env, greedy: bool = True) -> np.ndarray:
    """Equity path (initial equity first) of the model's policy over one full episode."""
    from tradea3c.a3c.models import Policy

    policy = Policy(model, greedy=greedy)
    obs, info = env.reset(seed=0)
    equity = [info["equity"]]
    done = False
    while not done:
        obs, _, terminated, truncated, info = env.step(policy.act(obs))
        equity.append(info["equity"])
        done = terminated or truncated
    return np.asarray(equity)


def score_equity(equity: np.ndarray) -> dict[str, float]:
    r = returns_from_equity(equity)
    return {"sharpe": sharpe_ratio(r), "total_return": total_return(r), "max_drawdown": max_drawdown(r)}


@dataclass(frozen=True, eq=False)
class ValidationEvaluator:
    """``evaluate_fn`` for the engine: greedy policy over the whole validation range -> Sharpe,
    total return, max drawdown, and buy-and-hold's total return on the same bars for reference."""

    market: Market
    config: EnvConfig
    split: DateSplit
    split_name: Split = "val"

    def __call__(self, model: Any) -> dict[str, float]:
        env = make_env(self.market, evaluation_config(self.config), self.split, self.split_name)
        metrics = score_equity(run_greedy(model, env))
        ep = env.unwrapped.episode
        close = ep.track.close[ep.start : ep.start + ep.n_steps + 1]
        metrics["buy_hold_return"] = float(np.mean(close[-1] / close[0]) - 1.0)
        return metrics


def env_kind_config(
    kind: Literal["market", "portfolio"], env: MarketEnvConfig, portfolio: PortfolioEnvConfig
) -> EnvConfig:
    return env if kind == "market" else portfolio
