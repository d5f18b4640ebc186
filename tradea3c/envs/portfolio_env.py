"""`PortfolioEnv`: N assets plus cash, rebalanced every step to target weights (costs on turnover).

Action: continuous ``Box(-1, 1, (n+1,))``; ``LOGIT_SCALE * action`` are logits mapped by
softmax onto the simplex (cash, asset_1..asset_n); or "simplex" ``Box(0, 1, (n+1,))``: the weights
themselves (normalised to sum 1; what a Dirichlet policy emits); or ``Discrete(n+1)``: 0 = all
cash, i = all in asset i. Execution and costs are those of `execution.rebalance` (``replay(mode="always")``
reproduces the equity path).
Observation: the window of features of every asset (bar, asset, feature; row-major), then the
held weights (cash first) at the last close and equity / initial - 1.
Reward kind "active" (benchmark "asset") measures against the equal-weight buy-and-hold basket of
the env's assets bought at the close of the episode's first decision bar.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np

from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, PortfolioEnvConfig, Split
from tradea3c.envs.episode import Episode, EpisodeSource
from tradea3c.envs.execution import rebalance
from tradea3c.envs.market_env import default_market
from tradea3c.envs.rewards import ScalarReward, basket_log_returns, needs_benchmark

LOGIT_SCALE = 5.0  # action +-1 -> logits +-5: weights from ~0 to ~1 are reachable


def softmax_weights(logits: np.ndarray) -> np.ndarray:
    """Map logits (cash first) onto the simplex."""
    z = np.exp(np.asarray(logits, dtype=np.float64) - np.max(logits))
    return z / z.sum()


def simplex_weights(action: np.ndarray) -> np.ndarray:
    """Non-negative weights (cash first) normalised to sum 1; all-zero means all cash."""
    w = np.clip(np.asarray(action, dtype=np.float64), 0.0, None)
    total = w.sum()
    if total <= 0.0:
        out = np.zeros_like(w)
        out[0] = 1.0
        return out
    return w / total


class PortfolioEnv(gym.Env):
    """Multi-asset env. Args as `MarketEnv` (all tickers of ``market`` or ``tickers=``)."""

    metadata = {"render_modes": []}

    def __init__(
        self,
        market: Market | None = None,
        config: PortfolioEnvConfig | None = None,
        *,
        tickers: list[str] | tuple[str, ...] | None = None,
        split: DateSplit | None = None,
        split_name: Split = "train",
        **overrides: Any,
    ) -> None:
        market = default_market() if market is None else market
        if tickers is not None:
            market = market.select(list(tickers))
        cfg = config or PortfolioEnvConfig()
        self.config = replace(cfg, **overrides) if overrides else cfg
        self.source = EpisodeSource(market, self.config, split, split_name)
        self.n_assets = n = market.n_assets
        self._dim = self.config.window * n * self.source.n_features
        clip = self.config.features.clip
        low = np.concatenate([np.full(self._dim, -clip), np.full(n + 1, -1.0), [-1.0]]).astype(np.float32)
        high = np.concatenate([np.full(self._dim, clip), np.full(n + 1, 2.0), [1e3]]).astype(np.float32)
        self.observation_space = gym.spaces.Box(low, high, dtype=np.float32)  # weights: cash first
        if self.config.action == "continuous":
            self.action_space = gym.spaces.Box(-1.0, 1.0, (n + 1,), np.float32)
        elif self.config.action == "simplex":
            self.action_space = gym.spaces.Box(0.0, 1.0, (n + 1,), np.float32)
        else:
            self.action_space = gym.spaces.Discrete(n + 1)
        self._reward = ScalarReward(self.config.reward, self.config.initial_equity)
        self._bench = needs_benchmark(self.config.reward)
        self._blr: list[float] | None = None
        self._floor = self.config.ruin_floor * self.config.initial_equity
        self.episode: Episode | None = None

    def target_weights(self, action) -> np.ndarray:
        """Asset weights (without cash) that ``action`` asks for."""
        if self.config.action == "continuous":
            return softmax_weights(LOGIT_SCALE * np.clip(action, -1.0, 1.0))[1:]
        if self.config.action == "simplex":
            return simplex_weights(action)[1:]
        w = np.zeros(self.n_assets)
        if int(action) > 0:
            w[int(action) - 1] = 1.0
        return w

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.episode = ep = self.source.sample(self.np_random)
        tr = ep.track
        self._fill, self._close, self._rates = tr.fill, tr.close, tr.rates * ep.rate_mult
        self._feats = tr.features
        self._t, self._end = ep.start, ep.start + ep.n_steps
        e0 = self.config.initial_equity
        self._units, self._cash, self._equity = np.zeros(self.n_assets), e0, e0
        self._queue = [np.zeros(self.n_assets)] * ep.latency
        self._reward.reset(e0)
        if self._bench:
            end = self._end + 1
            self._blr = basket_log_returns(tr.close[:end], ep.start).tolist()
        return self._obs(), {"equity": e0, "cost": 0.0}

    def _obs(self) -> np.ndarray:
        t, w = self._t, self.config.window
        obs = np.empty(self._dim + self.n_assets + 2, dtype=np.float32)
        obs[: self._dim] = self._feats[t - w + 1 : t + 1].reshape(-1)
        held = self._units * self._close[t] / self._equity
        obs[self._dim] = 1.0 - held.sum()
        obs[self._dim + 1 : -1] = held
        obs[self._dim : -1] = np.clip(obs[self._dim : -1], -1.0, 2.0)
        obs[-1] = min(self._equity / self.config.initial_equity - 1.0, 1e3)
        return obs

    def step(self, action):
        target = self.target_weights(action)
        if self._queue:
            self._queue.append(target)
            target = self._queue.pop(0)
        t1 = self._t + 1
        self._units, self._cash, traded, cost = rebalance(
            self._units, self._cash, target, self._fill[t1], self._rates[t1]
        )
        e0, e1 = self._equity, float(self._cash + self._units @ self._close[t1])
        self._equity, self._t = e1, t1
        reward = self._reward(e0, e1) if self._blr is None else self._reward(e0, e1, self._blr[t1])
        info = {"equity": e1, "cost": float(cost), "turnover": float(traded) / e0}
        return self._obs(), reward, e1 < self._floor, t1 == self._end, info

    @property
    def equity(self) -> float:
        return self._equity
