"""`MarketEnv`: one asset, discrete target positions, costs charged on fills (see execution.py).

Observation (float32, shape ``(window * n_features + 3,)``): the features of bars
``t - window + 1 .. t`` (row-major: bar, then feature) followed by the agent state: held position
(target weight), equity change since the last entry (0 when flat), and bars in the current
position / 252. ``step`` is pandas-free: Python floats plus one contiguous slice copy.

Cross-sectional training: over a multi-asset market without ``ticker=``, each episode trades one
asset drawn uniformly at reset from ``np_random`` (its name is ``info["ticker"]``); features are
scale-free, so the observation does not depend on which asset is traded.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tradea3c.data.market import Market
from tradea3c.envs.anchors import anchor_exposure, vol_target_for
from tradea3c.envs.config import DateSplit, MarketEnvConfig, Split, flat_bars
from tradea3c.envs.episode import Episode, EpisodeSource
from tradea3c.envs.execution import rebalance_each
from tradea3c.envs.rewards import ScalarReward, needs_benchmark, reward_aux, reward_periods

N_STATE = 3
_F32 = np.dtype(np.float32)  # a dtype object, passed positionally: the cheapest np.empty call
BARS_PER_YEAR = 252.0


def default_market() -> Market:
    """The embedded demo market (GOOGL), loaded once per process."""
    global _DEMO
    if _DEMO is None:
        from tradea3c.data.demo import demo_market

        _DEMO = demo_market()
    return _DEMO


_DEMO: Market | None = None


EQ_CLIP = 10.0  # the "equity change since entry" state feature is clipped to [-10, 10]


def observation_space(cfg: MarketEnvConfig, n_features: int) -> gym.spaces.Box:
    """Features in [-clip, clip]; position in the exposure bounds (`MarketEnvConfig.exposure_bounds`);
    equity change since entry in [-EQ_CLIP, EQ_CLIP]; years in position in [0, 1e4]."""
    wf = cfg.window * n_features
    low = np.full(wf + N_STATE, -cfg.features.clip, dtype=np.float32)
    high = -low
    lo, hi = cfg.exposure_bounds
    low[wf:] = (lo, -EQ_CLIP, 0.0)
    high[wf:] = (hi, EQ_CLIP, 1e4)
    return gym.spaces.Box(low, high, dtype=np.float32)


def window_rows(features: np.ndarray, window: int) -> np.ndarray:
    """Read-only strided view ``rows[r] == features[r:r+window].ravel()`` for one asset's
    ``(T, F)`` (or ``(T, 1, F)``) contiguous features: observation windows without copies."""
    n_feat = features.shape[-1]
    flat = np.ascontiguousarray(features).reshape(-1)
    return sliding_window_view(flat, window * n_feat)[::n_feat]


class MarketEnv(gym.Env):
    """One-asset trading env over a `Market` (default: the demo market).

    Args: ``market``; ``config`` (`MarketEnvConfig`); ``ticker``: trade this asset only (else a
    multi-asset market gives one uniformly drawn asset per episode); ``split``/``split_name``: a
    `DateSplit` and which range to trade (no split: all bars; the same bars for every asset);
    ``**overrides``: `MarketEnvConfig` fields replacing those of ``config``.

    ``info`` (reset and step): ``equity``, ``cost`` (of the step's fill) and ``ticker``; step
    also ``target``, the exposure the action decided (before any latency).

    Anchored (``config.anchor``): the action is a tilt, target = clip(anchor[t] + positions[a],
    exposure_range), with ``anchor[t]`` the anchor's exposure decided at the close of t
    (`tradea3c.envs.anchors`); the zero tilt reproduces the anchor's own backtest.
    """

    metadata = {"render_modes": []}

    def __init__(
        self,
        market: Market | None = None,
        config: MarketEnvConfig | None = None,
        *,
        ticker: str | None = None,
        split: DateSplit | None = None,
        split_name: Split = "train",
        **overrides: Any,
    ) -> None:
        market = default_market() if market is None else market
        if ticker is not None:
            market = market.select(ticker)
        cfg = config or MarketEnvConfig()
        self.config = replace(cfg, **overrides) if overrides else cfg
        self.source = EpisodeSource(market, self.config, split, split_name, one_asset=True)
        self.n_features = self.source.n_features
        self._wf = self.config.window * self.n_features
        self._n_obs = self._wf + N_STATE
        self._obs_noise, self._clip = self.config.perturb.obs_noise, self.config.features.clip
        self.observation_space = observation_space(self.config, self.n_features)
        self.action_space = gym.spaces.Discrete(len(self.config.positions))
        self._positions = [float(p) for p in self.config.positions]
        self._reward = ScalarReward(self.config.reward, self.config.initial_equity)
        self._bench = needs_benchmark(self.config.reward)
        self._aux: list[float] | None = None  # the reward's per-step input, for the step ending at bar t
        self._anchored = self.config.anchor != "none"
        self._anchor: list[float] | None = None
        self._flat: list[bool] | None = None  # flat_at_close: bars that end a session (None: off)
        self._lo, self._hi = self.config.exposure_bounds
        self._floor = self.config.ruin_floor * self.config.initial_equity
        self._lists: dict[int, tuple[Any, ...]] = {}
        self.ticker = ""
        self.episode: Episode | None = None

    # ----------------------------------------------------------------- episode
    def _load(self, ep: Episode) -> None:
        tr = ep.track
        shared = self.source.is_base(tr)
        cached = self._lists.get(id(tr)) if shared else None
        if cached is None:
            cached = (
                tr.fill[:, 0].tolist(),
                tr.close[:, 0].tolist(),
                tr.rates[:, 0].tolist(),
                window_rows(tr.features, self.config.window),
                reward_aux(self.config.reward, tr.close[:, 0], reward_periods(tr.market)).tolist()
                if self._bench
                else None,
                anchor_exposure(
                    self.config.anchor, tr.close[:, 0], vol_target_for(self.config.vol_target, tr.market)
                ).tolist()
                if self._anchored
                else None,
            )
            if shared:
                self._lists[id(tr)] = cached
        self._fill, self._close, rates, self._rows, self._aux, self._anchor = cached
        flat = flat_bars(self.config, tr.market)
        self._flat = None if flat is None else flat.tolist()
        self.ticker = ep.ticker
        self._rates = rates if ep.rate_mult == 1.0 else [r * ep.rate_mult for r in rates]
        self.episode = ep

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None):
        super().reset(seed=seed)
        ep = self.source.sample(self.np_random)
        self._load(ep)
        e0 = self.config.initial_equity
        self._t, self._end = ep.start, ep.start + ep.n_steps
        self._w1 = self.config.window - 1
        self._units, self._cash, self._held = 0.0, e0, 0.0
        self._equity = self._entry = e0
        self._in_state = 0
        self._queue = [0.0] * ep.latency
        self._reward.reset(e0)
        return self._obs(self._t), {"equity": e0, "cost": 0.0, "ticker": self.ticker}

    def _obs(self, t: int) -> np.ndarray:
        obs = np.empty(self._n_obs, _F32)
        obs[: self._wf] = self._rows[t - self._w1]
        if self._obs_noise:
            obs[: self._wf] += self.np_random.normal(0.0, self._obs_noise, self._wf)
            np.clip(obs[: self._wf], -self._clip, self._clip, out=obs[: self._wf])
        held = self._held
        chg = min(max(self._equity / self._entry - 1.0, -EQ_CLIP), EQ_CLIP) if held else 0.0
        obs[self._wf :] = (held, chg, self._in_state / BARS_PER_YEAR)
        return obs

    # -------------------------------------------------------------------- step
    def step(self, action):
        target = self._positions[action]
        if self._anchored:
            target = min(max(self._anchor[self._t] + target, self._lo), self._hi)  # type: ignore[index]
        if self._flat is not None:  # flat_at_close: the fill bar ends a session
            fill_bar = self._t + 1 + len(self._queue)
            if fill_bar < len(self._flat) and self._flat[fill_bar]:
                target = 0.0
        decided = target
        if self._queue:
            self._queue.append(target)
            target = self._queue.pop(0)
        t1 = self._t + 1
        cost = 0.0
        if target != self._held:
            price = self._fill[t1]
            self._units, self._cash, _, cost = rebalance_each(
                self._units, self._cash, target, price, self._rates[t1]
            )
            self._held = target
            self._in_state = 0
            self._entry = self._cash + self._units * price
        else:
            self._in_state += 1
        e0 = self._equity
        e1 = self._cash + self._units * self._close[t1]
        self._equity = e1
        self._t = t1
        reward = self._reward(e0, e1) if self._aux is None else self._reward(e0, e1, self._aux[t1])
        info = {"equity": e1, "cost": cost, "ticker": self.ticker, "target": decided}
        return self._obs(t1), reward, e1 < self._floor, t1 == self._end, info

    # ------------------------------------------------------------------ helpers
    @property
    def bar(self) -> int:
        """Source-market bar index of the current decision bar (track row + track offset)."""
        return self.episode.track.bar0 + self._t  # type: ignore[union-attr]

    @property
    def equity(self) -> float:
        return self._equity
