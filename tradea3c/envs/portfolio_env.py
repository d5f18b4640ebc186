"""`PortfolioEnv`: N assets plus cash, rebalanced every step to target weights (costs on turnover).

Action: continuous ``Box(-1, 1, (n+1,))``; ``LOGIT_SCALE * action`` are logits mapped by
softmax onto the simplex (cash, asset_1..asset_n); or "simplex" ``Box(0, 1, (n+1,))``: the weights
themselves (normalised to sum 1; what a Dirichlet policy emits); or ``Discrete(n+1)``: 0 = all
cash, i = all in asset i. Execution and costs are those of `execution.rebalance` (``replay(mode="always")``
reproduces the equity path).
Observation: the window of features of every asset (bar, asset, feature; row-major), then the
held weights (cash first) at the last close and equity / initial - 1.
Listings (`Market.tradable`): the action's weights are renormalised over the assets whose
features are valid at the decision bar (a masked softmax; the others get 0), and at the fill an
asset that is not listed gets 0 and a delisted holding is sold (`execution.delist`). ``info``
carries the decided ``target`` so a replay reproduces the path.
Halts (`Market.halted`): at a fill on a bar where an asset is halted its units do not change (no
buy, no sale) and it is marked at its flat halt price (the last close); the order's other weights
are filled over the equity not held in halted assets (`rebalance_halted`).
Reward kind "active" (benchmark "asset") measures against the equal-weight buy-and-hold basket of
the env's assets bought at the close of the episode's first decision bar; with listings only of
the members listed at each bar (`rewards.basket_log_returns`, `basket_listed`).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, PortfolioEnvConfig, Split
from tradea3c.envs.episode import Episode, EpisodeSource
from tradea3c.envs.execution import delist, listed_target, rebalance, rebalance_halted
from tradea3c.envs.market_env import default_market
from tradea3c.envs.rewards import ScalarReward, basket_reward_aux, needs_benchmark, reward_periods

LOGIT_SCALE = 5.0  # action +-1 -> logits +-5: weights from ~0 to ~1 are reachable

# The step calls the ufuncs behind numpy's Python wrappers (np.clip, ndarray.sum, np.max), which
# cost more than the work on ~30 numbers: the same operations, so the same bits.
_sum, _max = np.add.reduce, np.maximum.reduce


def basket_listed(track, end: int) -> np.ndarray | None:
    """The members of the "active" reward's basket at each of the track's first ``end`` bars:
    tradable or halted (a halt keeps its member in the basket, at its flat last price); None: all."""
    if track.tradable is None:
        return None
    halted = track.market.halted
    listed = track.tradable[:end]
    return listed if halted is None else listed | halted[:end]


def softmax_weights(logits: np.ndarray) -> np.ndarray:
    """Map logits (cash first) onto the simplex."""
    z = np.exp(np.asarray(logits, dtype=np.float64) - _max(logits, axis=None))
    return z / _sum(z)


def simplex_weights(action: np.ndarray) -> np.ndarray:
    """Non-negative weights (cash first) normalised to sum 1; all-zero means all cash."""
    w = np.maximum(np.asarray(action, dtype=np.float64), 0.0)  # np.clip(w, 0, None) is this
    total = _sum(w)
    if total <= 0.0:
        out = np.zeros_like(w)
        out[0] = 1.0
        return out
    return w / total


def clip_unit(action) -> np.ndarray:
    """``np.clip(action, -1.0, 1.0)`` (same values, dtype and NaNs) without its wrapper."""
    return np.minimum(np.maximum(action, -1.0), 1.0)


def portfolio_windows(features: np.ndarray, window: int) -> np.ndarray:
    """Read-only strided view ``rows[r] == features[r:r+window].ravel()`` of contiguous
    ``(T, n_assets, n_features)`` features (bar, asset, feature): observation windows, no copies."""
    bar = features.shape[1] * features.shape[2]
    return sliding_window_view(np.ascontiguousarray(features).reshape(-1), window * bar)[::bar]


def portfolio_spaces(cfg: PortfolioEnvConfig, n_assets: int, n_features: int) -> tuple[gym.Space, gym.Space]:
    """Observation space (features, held weights cash first, equity) and action space of a
    portfolio env of ``n_assets`` (`PortfolioEnv`, and each sub-env of `PortfolioVectorEnv`)."""
    n, dim, clip = n_assets, cfg.window * n_assets * n_features, cfg.features.clip
    low = np.concatenate([np.full(dim, -clip), np.full(n + 1, -1.0), [-1.0]]).astype(np.float32)
    high = np.concatenate([np.full(dim, clip), np.full(n + 1, 2.0), [1e3]]).astype(np.float32)
    obs = gym.spaces.Box(low, high, dtype=np.float32)
    if cfg.action == "continuous":
        return obs, gym.spaces.Box(-1.0, 1.0, (n + 1,), np.float32)
    if cfg.action == "simplex":
        return obs, gym.spaces.Box(0.0, 1.0, (n + 1,), np.float32)
    return obs, gym.spaces.Discrete(n + 1)


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
        self.observation_space, self.action_space = portfolio_spaces(self.config, n, self.source.n_features)
        self._reward = ScalarReward(self.config.reward, self.config.initial_equity)
        self._bench = needs_benchmark(self.config.reward)
        self._blr: list[float] | None = None
        self._floor = self.config.ruin_floor * self.config.initial_equity
        self.episode: Episode | None = None

    def target_weights(self, action, valid: np.ndarray | None = None) -> np.ndarray:
        """Asset weights (without cash) that ``action`` asks for; with ``valid`` (bool per asset),
        the weights of the other assets are 0 and the rest renormalised (cash included)."""
        if self.config.action == "continuous":
            w = softmax_weights(LOGIT_SCALE * clip_unit(action))
        elif self.config.action == "simplex":
            w = simplex_weights(action)
        else:
            w = np.zeros(self.n_assets + 1)
            w[int(action)] = 1.0
        if valid is not None and not valid.all():
            w[1:][~valid] = 0.0
            total = _sum(w)
            w = w / total if total > 0 else np.eye(1, self.n_assets + 1)[0]
        return w[1:]

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        self.episode = ep = self.source.sample(self.np_random)
        tr = ep.track
        self._fill, self._close, self._rates = tr.fill, tr.close, tr.rates * ep.rate_mult
        self._feats = tr.features
        self._rows = portfolio_windows(tr.features, self.config.window)
        self._w1, self._e0 = self.config.window - 1, self.config.initial_equity
        self._tradable, self._valid = tr.tradable, tr.valid
        self._halted = tr.market.halted  # the track's rows are its market's
        self._t, self._end = ep.start, ep.start + ep.n_steps
        e0 = self.config.initial_equity
        self._units, self._cash, self._equity = np.zeros(self.n_assets), e0, e0
        self._queue = [np.zeros(self.n_assets)] * ep.latency
        self._reward.reset(e0)
        if self._bench:
            end = self._end + 1
            listed = basket_listed(tr, end)
            self._blr = basket_reward_aux(
                self.config.reward, tr.close[:end], ep.start, listed, reward_periods(tr.market)
            ).tolist()
        return self._obs(), {"equity": e0, "cost": 0.0, "target": np.zeros(self.n_assets)}

    def _obs(self) -> np.ndarray:
        t, dim = self._t, self._dim
        obs = np.empty(dim + self.n_assets + 2, dtype=np.float32)
        obs[:dim] = self._rows[t - self._w1]  # features[t - window + 1 : t + 1].ravel()
        held = self._units * self._close[t] / self._equity
        obs[dim] = 1.0 - _sum(held)
        obs[dim + 1 : -1] = held
        state = obs[dim:-1]
        np.maximum(state, -1.0, out=state)  # np.clip(state, -1.0, 2.0), in place
        np.minimum(state, 2.0, out=state)
        obs[-1] = min(self._equity / self._e0 - 1.0, 1e3)
        return obs

    def step(self, action):
        decided = target = self.target_weights(action, None if self._valid is None else self._valid[self._t])
        if self._queue:
            self._queue.append(target)
            target = self._queue.pop(0)
        t1 = self._t + 1
        traded0 = cost0 = 0.0
        halt = None if self._halted is None or not self._halted[t1].any() else self._halted[t1]
        if self._tradable is not None:
            listed = self._tradable[t1]
            self._units, self._cash, traded0, cost0 = delist(
                self._units, self._cash, listed, self._fill[t1], self._rates[t1], halt
            )
            target = listed_target(target, listed if halt is None else listed | halt)
        if halt is None:
            self._units, self._cash, traded, cost = rebalance(
                self._units, self._cash, target, self._fill[t1], self._rates[t1]
            )
        else:
            self._units, self._cash, traded, cost = rebalance_halted(
                self._units, self._cash, target, self._fill[t1], self._rates[t1], halt
            )
        traded, cost = traded0 + traded, cost0 + cost
        e0, e1 = self._equity, float(self._cash + self._units @ self._close[t1])
        self._equity, self._t = e1, t1
        reward = self._reward(e0, e1) if self._blr is None else self._reward(e0, e1, self._blr[t1])
        info = {"equity": e1, "cost": float(cost), "turnover": float(traded) / e0, "target": decided}
        return self._obs(), reward, e1 < self._floor, t1 == self._end, info

    @property
    def equity(self) -> float:
        return self._equity
