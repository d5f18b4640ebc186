"""`PortfolioVectorEnv`: K multi-asset `PortfolioEnv` replays stepped together in numpy (Gymnasium 1.x).

Equivalent, bit for bit, to K `PortfolioEnv` (same market, config, split) reset with seeds
``s, s + 1, ..., s + K - 1`` and stepped with the same actions: every sub-env draws its episodes
(start, latency, cost multiplier, price perturbations) from its own generator through the same
`EpisodeSource.sample`, and fills through the same `execution.delist` / `listed_target` /
`rebalance`, here on ``(K, n_assets)`` portfolios. Autoreset: ``AutoresetMode.NEXT_STEP`` (the step
after a sub-env ends resets it, returns its first observation with reward 0 and
``terminated = truncated = False``, and ignores its action). ``step`` returns an empty info dict;
per-env equity is the `equity` property.

Storage: unperturbed episodes all read the source's base track (no copies); with price
perturbations each sub-env owns a region of one buffer per array, rewritten at its reset. A
strided view turns any (env, bar) into its observation window, copied straight into the batch.
Rewards use one `ScalarReward` per sub-env (K small Python calls per step): numpy's SIMD ``log`` and
``pow`` may differ from ``math``'s in the last bit, and the single env's rewards are the reference.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from gymnasium.vector import AutoresetMode, VectorEnv
from gymnasium.vector.utils import batch_space

from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, PortfolioEnvConfig, Split
from tradea3c.envs.episode import EpisodeSource
from tradea3c.envs.execution import delist, listed_target, rebalance
from tradea3c.envs.market_env import default_market
from tradea3c.envs.portfolio_env import (
    LOGIT_SCALE,
    basket_listed,
    clip_unit,
    portfolio_spaces,
    portfolio_windows,
    rebalance_halted,
)
from tradea3c.envs.rewards import ScalarReward, basket_reward_aux, needs_benchmark, reward_periods
from tradea3c.envs.vector import reseed


class PortfolioVectorEnv(VectorEnv):
    """K portfolio envs with the constructor arguments of `PortfolioEnv` plus ``num_envs``."""

    def __init__(
        self,
        num_envs: int,
        market: Market | None = None,
        config: PortfolioEnvConfig | None = None,
        *,
        tickers: list[str] | tuple[str, ...] | None = None,
        split: DateSplit | None = None,
        split_name: Split = "train",
        **overrides: Any,
    ) -> None:
        if num_envs < 1:
            raise ValueError("num_envs must be >= 1")
        market = default_market() if market is None else market
        if tickers is not None:
            market = market.select(list(tickers))
        cfg = config or PortfolioEnvConfig()
        self.config = cfg = replace(cfg, **overrides) if overrides else cfg
        self.source = src = EpisodeSource(market, cfg, split, split_name)
        k = self.num_envs = num_envs
        n = self.n_assets = market.n_assets
        f = src.n_features
        self._dim, self._w1 = cfg.window * n * f, cfg.window - 1
        self.metadata = {"autoreset_mode": AutoresetMode.NEXT_STEP, "render_modes": []}
        self.single_observation_space, self.single_action_space = portfolio_spaces(cfg, n, f)
        self.observation_space = batch_space(self.single_observation_space, k)
        self.action_space = batch_space(self.single_action_space, k)
        self._e0 = float(cfg.initial_equity)
        self._floor = cfg.ruin_floor * self._e0
        self._rewards = [ScalarReward(cfg.reward, self._e0) for _ in range(k)]
        self._blr = np.zeros((k, src.n_steps + 2)) if needs_benchmark(cfg.reward) else None
        self._shared = not cfg.perturb.changes_prices
        base = src.base
        listings = base.tradable is not None
        if self._shared:  # every env reads the base track
            self._region = 0
            self._feats, self._fill = base.features, base.fill
            self._close, self._rates = base.close, base.rates
            self._tradable, self._valid = base.tradable, base.valid
            self._halted = base.market.halted
        else:  # each env owns `region` rows (its whole perturbed track) of each buffer
            self._region = r = src.warmup + src.n_steps + 1
            self._feats = np.zeros((k * r, n, f), dtype=np.float32)
            self._fill, self._close, self._rates = (np.ones((k * r, n)) for _ in range(3))
            self._tradable = np.ones((k * r, n), dtype=bool) if listings else None
            self._valid = np.ones((k * r, n), dtype=bool) if listings else None
            halts = base.market.halted is not None
            self._halted = np.zeros((k * r, n), dtype=bool) if halts else None
        self._rows = portfolio_windows(self._feats, cfg.window)
        self._rngs: list[np.random.Generator | None] = [None] * k
        self._lmax = cfg.latency + (1 if cfg.perturb.latency_prob > 0 else 0)
        self._sched = np.zeros((k, self._lmax + 1, n))
        self._lat = np.zeros(k, dtype=np.intp)
        self._mult = np.ones((k, 1))
        self._jitter = self._shared and cfg.perturb.cost_jitter > 0  # else the region holds rates * mult
        self._ar = np.arange(k)
        self._g, self._start, self._end = (np.zeros(k, dtype=np.intp) for _ in range(3))
        self._units, self._cash = np.zeros((k, n)), np.full(k, self._e0)
        self._equity = np.full(k, self._e0)
        self._autoreset = np.zeros(k, dtype=bool)
        self._eye = np.eye(1, n + 1)[0]  # all cash

    # ------------------------------------------------------------------ resets
    def _reset_env(self, i: int) -> None:
        ep = self.source.sample(self._rngs[i])  # type: ignore[arg-type]
        tr = ep.track
        off = 0
        if not self._shared:
            off = i * self._region
            rows = slice(off, off + len(tr.fill))
            self._feats[rows] = tr.features
            self._fill[rows], self._close[rows] = tr.fill, tr.close
            self._rates[rows] = tr.rates * ep.rate_mult  # what PortfolioEnv steps through
            if self._tradable is not None and self._valid is not None:
                self._tradable[rows], self._valid[rows] = tr.tradable, tr.valid
            if self._halted is not None:
                self._halted[rows] = False if tr.market.halted is None else tr.market.halted
        self._g[i] = self._start[i] = off + ep.start
        self._end[i] = off + ep.start + ep.n_steps
        self._lat[i] = ep.latency
        self._mult[i] = ep.rate_mult
        self._sched[i] = 0.0
        self._units[i], self._cash[i], self._equity[i] = 0.0, self._e0, self._e0
        self._rewards[i].reset(self._e0)
        if self._blr is not None:
            end = ep.start + ep.n_steps
            self._blr[i, : ep.n_steps + 1] = basket_reward_aux(
                self.config.reward,
                tr.close[: end + 1],
                ep.start,
                basket_listed(tr, end + 1),
                reward_periods(tr.market),
            )[ep.start :]

    def _weights(self, actions) -> np.ndarray:
        """Asset weights (K, n) asked for by the actions decided at each env's bar (`target_weights`)."""
        kind = self.config.action
        if kind == "continuous":
            logits = LOGIT_SCALE * clip_unit(actions)
            z = np.exp(
                np.asarray(logits, dtype=np.float64) - np.maximum.reduce(logits, axis=1, keepdims=True)
            )
            w = z / np.add.reduce(z, axis=1, keepdims=True)
        elif kind == "simplex":
            w = np.maximum(np.asarray(actions, dtype=np.float64), 0.0)  # np.clip(w, 0, None)
            total = np.add.reduce(w, axis=1)
            pos = total > 0.0
            w = w / np.where(pos, total, 1.0)[:, None]
            w[~pos] = self._eye
        else:
            w = np.zeros((self.num_envs, self.n_assets + 1))
            w[self._ar, np.asarray(actions, dtype=np.intp)] = 1.0
        if self._valid is not None:  # masked renormalisation, only where some asset is not valid
            valid = self._valid[self._g]
            bad = np.flatnonzero(~valid.all(axis=1))
            if len(bad):
                wb = w[bad]
                wb[:, 1:][~valid[bad]] = 0.0
                total = np.add.reduce(wb, axis=1)
                pos = total > 0.0
                wb = wb / np.where(pos, total, 1.0)[:, None]
                wb[~pos] = self._eye
                w[bad] = wb
        return w[:, 1:]

    def _obs(self, close: np.ndarray) -> np.ndarray:
        """Observations at each env's bar; ``close`` is the (K, n) close of that bar."""
        dim = self._dim
        obs = np.empty((self.num_envs, dim + self.n_assets + 2), dtype=np.float32)
        rows = self._rows
        for i, r in enumerate((self._g - self._w1).tolist()):  # one copy per env; a fancy index makes two
            obs[i, :dim] = rows[r]
        held = self._units * close / self._equity[:, None]
        obs[:, dim] = 1.0 - np.add.reduce(held, axis=1)
        obs[:, dim + 1 : -1] = held
        state = obs[:, dim:-1]
        np.maximum(state, -1.0, out=state)  # np.clip(state, -1.0, 2.0)
        np.minimum(state, 2.0, out=state)
        obs[:, -1] = np.minimum(self._equity / self._e0 - 1.0, 1e3)
        return obs

    def reset(self, *, seed: int | list[int | None] | None = None, options: dict[str, Any] | None = None):
        if isinstance(seed, int):
            super().reset(seed=seed)
        reseed(self._rngs, seed)
        for i in range(self.num_envs):
            self._reset_env(i)
        self._autoreset[:] = False
        return self._obs(self._close[self._g]), {}

    # -------------------------------------------------------------------- step
    def step(self, actions):
        target = self._weights(actions)
        if self._lmax:  # each env's order of `latency` steps ago (0 before its first)
            self._sched[self._ar, self._lat] = target
            target = self._sched[:, 0].copy()
            self._sched[:, :-1] = self._sched[:, 1:]
        g1 = np.minimum(self._g + 1, self._end)  # an env at its end (autoreset next) stays put
        price, rate = self._fill[g1], self._rates[g1]
        if self._jitter:
            rate = rate * self._mult
        units, cash = self._units, self._cash
        halt = None
        if self._halted is not None:
            halt = self._halted[g1]
            halt = halt if halt.any() else None
        if self._tradable is not None:
            listed = self._tradable[g1]
            units, cash, _, _ = delist(units, cash, listed, price, rate, halt)
            target = listed_target(target, listed if halt is None else listed | halt)
        if halt is None:
            units, cash, _, _ = rebalance(units, cash, target, price, rate)
        else:  # rows without a halt: the same bits as `rebalance`
            units, cash, _, _ = rebalance_halted(units, cash, target, price, rate, halt)
        close = self._close[g1]
        # matmul of (1, n) by (n, 1) per env: BLAS dot, as PortfolioEnv's `units @ close`
        e1 = cash + np.matmul(units[:, None, :], close[:, :, None])[:, 0, 0]
        e0 = self._equity.tolist()
        self._units, self._cash, self._equity, self._g = units, cash, e1, g1
        done_before = self._autoreset
        live = np.flatnonzero(~done_before).tolist()
        reward = np.zeros(self.num_envs)
        e1l, rew = e1.tolist(), self._rewards
        if self._blr is None:
            reward[live] = [rew[i](e0[i], e1l[i]) for i in live]
        else:
            bench = self._blr[self._ar, g1 - self._start].tolist()
            reward[live] = [rew[i](e0[i], e1l[i], bench[i]) for i in live]
        terminated = e1 < self._floor
        truncated = g1 == self._end
        if done_before.any():
            for i in np.flatnonzero(done_before):
                self._reset_env(int(i))
                close[i] = self._close[self._g[i]]
            terminated[done_before] = False
            truncated[done_before] = False
        self._autoreset = terminated | truncated
        return self._obs(close), reward, terminated, truncated, {}

    @property
    def equity(self) -> np.ndarray:
        """Equity of each sub-env at its current bar (a copy)."""
        return self._equity.copy()
