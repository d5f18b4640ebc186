"""`MarketVectorEnv`: K one-asset market replays stepped together in numpy (Gymnasium 1.x VectorEnv).

Equivalent to ``SyncVectorEnv([MarketEnv(...)] * K)`` with the same seeds (``reset(seed=s)`` seeds
sub-env i with ``s + i``) and the same actions, but one vectorised `step` instead of K Python
steps. Autoreset mode: ``AutoresetMode.NEXT_STEP`` (the Gymnasium default): the step after a
sub-env terminates or truncates resets it, returns its first observation with reward 0 and
``terminated = truncated = False``, and ignores that env's action. ``step`` returns an empty
info dict; per-env equity is available as `equity`, the ticker each sub-env trades as `tickers`.
Over a multi-asset market (no ``ticker=``) each sub-env draws its asset at each of its resets,
from its own RNG exactly as a `MarketEnv` seeded the same way would.

Storage: unperturbed episodes share the base track (one feature array for all K envs, one region
of (bars + 1 pad) rows per asset); with price perturbations each sub-env owns a region of one flat
buffer that its reset rewrites. A strided view turns any (env, bar) into its observation window,
gathered for all K in one call.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import gymnasium as gym
import numpy as np
from gymnasium.utils import seeding
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from tradea3c.data.market import Market
from tradea3c.envs.anchors import anchor_exposure, vol_target_for
from tradea3c.envs.config import DateSplit, MarketEnvConfig, Split, flat_bars
from tradea3c.envs.episode import EpisodeSource
from tradea3c.envs.execution import rebalance_each
from tradea3c.envs.market_env import (
    BARS_PER_YEAR,
    EQ_CLIP,
    N_STATE,
    default_market,
    observation_space,
    window_rows,
)
from tradea3c.envs.rewards import VectorReward, needs_benchmark, reward_aux, reward_periods


def reseed(rngs: list[np.random.Generator | None], seed: int | list[int | None] | None) -> None:
    """Seed sub-env generators in place as Gymnasium's vector envs do: an int ``s`` seeds sub-env i
    with ``s + i``; a list seeds each (None keeps an existing generator); None seeds only the
    sub-envs that have none yet (from OS entropy)."""
    k = len(rngs)
    if isinstance(seed, int):
        seeds: list[int | None] = [seed + i for i in range(k)]
    else:
        seeds = [None] * k if seed is None else list(seed)
    if len(seeds) != k:
        raise ValueError(f"need {k} seeds, got {len(seeds)}")
    for i, s in enumerate(seeds):
        if s is not None or rngs[i] is None:
            rngs[i], _ = seeding.np_random(s)


class MarketVectorEnv(VectorEnv):
    """K one-asset envs with the constructor arguments of `MarketEnv` plus ``num_envs``."""

    def __init__(
        self,
        num_envs: int,
        market: Market | None = None,
        config: MarketEnvConfig | None = None,
        *,
        ticker: str | None = None,
        split: DateSplit | None = None,
        split_name: Split = "train",
        **overrides: Any,
    ) -> None:
        if num_envs < 1:
            raise ValueError("num_envs must be >= 1")
        market = default_market() if market is None else market
        if ticker is not None:
            market = market.select(ticker)
        cfg = config or MarketEnvConfig()
        self.config = cfg = replace(cfg, **overrides) if overrides else cfg
        self.source = src = EpisodeSource(market, cfg, split, split_name, one_asset=True)
        k = self.num_envs = num_envs
        f = src.n_features
        self._wf, self._w1 = cfg.window * f, cfg.window - 1
        self._obs_noise, self._clip = cfg.perturb.obs_noise, cfg.features.clip
        self.metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}
        self.single_observation_space = observation_space(cfg, f)
        self.single_action_space = gym.spaces.Discrete(len(cfg.positions))
        self.observation_space = batch_space(self.single_observation_space, k)
        self.action_space = batch_space(self.single_action_space, k)
        self._pos = np.asarray(cfg.positions, dtype=np.float64)
        self._e0 = float(cfg.initial_equity)
        self._floor = cfg.ruin_floor * self._e0
        self._reward = VectorReward(cfg.reward, self._e0, k)
        self._shared = not cfg.perturb.changes_prices
        bench = needs_benchmark(cfg.reward)
        self._blr: np.ndarray | None = None  # the reward's per-step input, for the step ending at each row
        self._anchored = cfg.anchor != "none"
        self._lo, self._hi = cfg.exposure_bounds
        base = src.base
        if self._shared:  # one padded copy of the base track serves every env, a region per asset
            self._region = 0
            self._asset_region = len(base.fill) + 1
            cols = range(base.fill.shape[1])
            feats = np.concatenate([base.features[r, j, :] for j in cols for r in (slice(None), [-1])])
            self._fill, self._close, self._rates = (
                np.concatenate([np.append(a[:, j], a[-1, j]) for j in cols])
                for a in (base.fill, base.close, base.rates)
            )
            if bench:
                self._blr = np.concatenate(
                    [
                        np.append(reward_aux(cfg.reward, base.close[:, j], reward_periods(base.market)), 0.0)
                        for j in cols
                    ]
                )
            if self._anchored:
                self._anchor = np.concatenate(
                    [
                        np.append(
                            anchor_exposure(
                                cfg.anchor, base.close[:, j], vol_target_for(cfg.vol_target, base.market)
                            ),
                            0.0,
                        )
                        for j in cols
                    ]
                )
        flat = flat_bars(cfg, base.market) if self._shared else None
        # flat_at_close: per row, whether a fill there ends a session (None: off)
        self._flat: np.ndarray | None = None
        if self._shared and flat is not None:
            self._flat = np.concatenate([np.append(flat, False) for _ in range(base.fill.shape[1])])
        if not self._shared:  # each env owns a region of (track length + 1 pad) rows
            self._region = src.warmup + src.n_steps + 2
            feats = np.zeros((k * self._region, f), dtype=np.float32)
            self._fill, self._close, self._rates = (np.ones(k * self._region) for _ in range(3))
            if bench:
                self._blr = np.zeros(k * self._region)
            if self._anchored:
                self._anchor = np.zeros(k * self._region)
            if flat_bars(cfg, base.market) is not None:
                self._flat = np.zeros(k * self._region, dtype=bool)
        self._feats = feats
        self._rows = window_rows(feats, cfg.window)
        self._offset = np.arange(k) * self._region
        self._rngs: list[np.random.Generator | None] = [None] * k
        self._asset = np.zeros(k, dtype=np.intp)
        self._lmax = cfg.latency + (1 if cfg.perturb.latency_prob > 0 else 0)
        self._sched = np.zeros((k, self._lmax + 1))
        self._lat = np.zeros(k, dtype=np.intp)
        self._mult = np.ones(k)
        self._jitter = cfg.perturb.cost_jitter > 0
        self._ar = np.arange(k)
        z = np.zeros(k)
        self._g, self._end, self._in_state = (np.zeros(k, dtype=np.intp) for _ in range(3))
        self._units, self._cash, self._held = z.copy(), z + self._e0, z.copy()
        self._equity, self._entry = z + self._e0, z + self._e0
        self._autoreset = np.zeros(k, dtype=bool)

    # ------------------------------------------------------------------ resets
    def _reset_env(self, i: int) -> None:
        ep = self.source.sample(self._rngs[i])  # type: ignore[arg-type]
        self._asset[i] = ep.asset
        if self._shared:
            off = ep.asset * self._asset_region
        else:
            off = self._offset[i]
            tr, n = ep.track, len(ep.track.fill)
            self._feats[off : off + n] = tr.features[:, 0, :]
            self._feats[off + n] = tr.features[-1, 0, :]
            for buf, src in ((self._fill, tr.fill), (self._close, tr.close), (self._rates, tr.rates)):
                buf[off : off + n] = src[:, 0]
                buf[off + n] = src[-1, 0]
            if self._blr is not None:
                self._blr[off : off + n] = reward_aux(
                    self.config.reward, tr.close[:, 0], reward_periods(tr.market)
                )
                self._blr[off + n] = 0.0
            if self._anchored:
                self._anchor[off : off + n] = anchor_exposure(
                    self.config.anchor, tr.close[:, 0], vol_target_for(self.config.vol_target, tr.market)
                )
            if self._flat is not None:
                self._flat[off : off + n] = tr.market.session_last
                self._flat[off + n] = False
        self._g[i] = off + ep.start
        self._end[i] = off + ep.start + ep.n_steps
        self._lat[i] = ep.latency
        self._mult[i] = ep.rate_mult
        self._sched[i] = 0.0
        self._units[i], self._cash[i], self._held[i] = 0.0, self._e0, 0.0
        self._equity[i] = self._entry[i] = self._e0
        self._in_state[i] = 0
        self._reward.reset(i, self._e0)

    def _obs(self) -> np.ndarray:
        wf = self._wf
        obs = np.empty((self.num_envs, wf + N_STATE), dtype=np.float32)
        obs[:, :wf] = self._rows[self._g - self._w1]
        if self._obs_noise:  # each sub-env's own generator, in the order a single env draws
            for i, rng in enumerate(self._rngs):
                obs[i, :wf] += rng.normal(0.0, self._obs_noise, wf)  # type: ignore[union-attr]
            np.clip(obs[:, :wf], -self._clip, self._clip, out=obs[:, :wf])
        held = self._held
        obs[:, wf] = held
        chg = self._equity / self._entry
        chg -= 1.0
        np.minimum(chg, EQ_CLIP, out=chg)  # np.clip's wrapper costs more than the clip here
        np.maximum(chg, -EQ_CLIP, out=chg)
        chg[held == 0.0] = 0.0
        obs[:, wf + 1] = chg
        obs[:, wf + 2] = self._in_state / BARS_PER_YEAR
        return obs

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        if isinstance(seed, int):
            super().reset(seed=seed)
        reseed(self._rngs, seed)
        for i in range(self.num_envs):
            self._reset_env(i)
        self._autoreset[:] = False
        return self._obs(), {}

    # -------------------------------------------------------------------- step
    def step(self, actions):
        target = self._pos[np.asarray(actions, dtype=np.intp)]
        if self._anchored:
            target = np.minimum(np.maximum(self._anchor.take(self._g) + target, self._lo), self._hi)
        if self._flat is not None:  # flat_at_close: a decision whose fill bar ends a session targets 0
            target = np.where(self._flat.take(self._g + 1 + self._lat, mode="clip"), 0.0, target)
        if self._lmax:
            self._sched[self._ar, self._lat] = target
            target = self._sched[:, 0].copy()
            self._sched[:, :-1] = self._sched[:, 1:]
        g1 = self._g + 1
        trade = target != self._held
        self._in_state += 1
        if trade.any():  # in-place masked updates: fewer temporaries than np.where
            price = self._fill.take(g1)
            rate = self._rates.take(g1)
            if self._jitter:
                rate *= self._mult
            units, cash, _, _ = rebalance_each(self._units, self._cash, target, price, rate)
            np.copyto(self._units, units, where=trade)
            np.copyto(self._cash, cash, where=trade)
            np.copyto(self._held, target, where=trade)
            np.copyto(self._entry, cash + units * price, where=trade)
            self._in_state[trade] = 0
        e0 = self._equity
        e1 = self._cash + self._units * self._close.take(g1)
        self._equity = e1
        self._g = g1
        reward = self._reward(e0, e1) if self._blr is None else self._reward(e0, e1, self._blr.take(g1))
        terminated = e1 < self._floor
        truncated = g1 == self._end
        done_before = self._autoreset
        if done_before.any():
            for i in np.flatnonzero(done_before):
                self._reset_env(int(i))
            reward[done_before] = 0.0
            terminated[done_before] = False
            truncated[done_before] = False
        self._autoreset = terminated | truncated
        return self._obs(), reward, terminated, truncated, {}

    @property
    def equity(self) -> np.ndarray:
        """Equity of each sub-env at its current bar (a copy)."""
        return self._equity.copy()

    @property
    def tickers(self) -> list[str]:
        """The ticker each sub-env trades in its current episode."""
        return [self.source.tickers[a] for a in self._asset]
