"""Perturbed replays: seeded, composable market perturbations for decorrelated A3C workers.

Price perturbations map a `Market` to a new `Market` with consistent OHLC (low <= open, close <=
high, prices > 0); envs apply them to the episode window (plus feature warm-up history) at reset
and recompute the features causally from the perturbed prices. Episode-level perturbations (random
window, cost jitter, latency) are drawn by the episode sampler. All randomness comes from the
``rng`` passed in (the env's ``np_random``).

Masked markets (`Market.tradable`, `Market.halted`): the masks stay as they are, on the same bars,
and a bar where an asset is not listed (a placeholder) or halted stays flat -- placeholders at the
(new) first open before the listing and the last close after it, a halt at the last close, volume
0 -- so every perturbation keeps what the envs and the features assume of those bars. The block
bootstrap draws an asset's listed bars only from its own real returns (see `block_bootstrap`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradea3c.data.market import Market


@dataclass(frozen=True)
class PerturbConfig:
    """Which perturbations a worker's replay uses (all off = plain history with random windows)."""

    random_start: bool = True
    """Random episode window: start uniformly within the split (else at its first usable bar)."""
    bootstrap_block: float = 0.0
    """Stationary block bootstrap of bars, mean block length in bars (0 = off)."""
    vol_scale: tuple[float, float] = (1.0, 1.0)
    """Volatility scale drawn log-uniformly from [lo, hi] per episode ((1, 1) = off)."""
    price_noise: float = 0.0
    """Std of i.i.d. multiplicative per-bar log noise on prices (fraction, e.g. 0.002; 0 = off)."""
    cost_jitter: float = 0.0
    """Std of a per-episode log-normal multiplier on cost rates (0 = off)."""
    latency_prob: float = 0.0
    """Probability that an episode fills one bar later than configured (0 = never)."""
    obs_noise: float = 0.0
    """Regularisation: std of Gaussian noise added to each observed feature value (the features are
    z-scores, so 0.1 is a tenth of a typical move); prices and fills are untouched (0 = off)."""

    def __post_init__(self) -> None:
        lo, hi = self.vol_scale
        if not 0 < lo <= hi:
            raise ValueError("vol_scale must be (lo, hi) with 0 < lo <= hi")
        if min(self.bootstrap_block, self.price_noise, self.cost_jitter, self.obs_noise) < 0:
            raise ValueError("bootstrap_block, price_noise, cost_jitter and obs_noise must be >= 0")
        if not 0.0 <= self.latency_prob <= 1.0:
            raise ValueError("latency_prob must be in [0, 1]")

    @property
    def changes_prices(self) -> bool:
        return self.bootstrap_block > 0 or self.vol_scale != (1.0, 1.0) or self.price_noise > 0


def _decompose(m: Market) -> tuple[np.ndarray, ...]:
    """Bars as close-to-close log returns plus open/high/low relative to the close (logs)."""
    lc = np.log(m.close)
    ret = np.diff(lc, axis=0, prepend=lc[:1])
    return ret, np.log(m.open) - lc, np.log(m.high) - lc, np.log(m.low) - lc


def _like(m: Market, open_, high, low, close, volume) -> Market:
    """A Market of ``m``'s tickers, dates, labels and masks with these prices."""
    return Market(
        m.tickers,
        m.dates,
        open_,
        high,
        low,
        close,
        volume,
        source=m.source,
        adjusted=m.adjusted,
        name=m.name,
        tradable=m.tradable,
        keep=m.keep,
        halted=m.halted,
        interval=m.interval,
    )


def _listed(m: Market) -> np.ndarray:
    """Bool (n_bars, n_assets): inside each asset's listing (first to last tradable bar)."""
    rows = np.arange(m.n_bars)[:, None]
    spans = np.array([m.listed_span(j) for j in range(m.n_assets)]).reshape(-1, 2)
    return (rows >= spans[:, 0]) & (rows <= spans[:, 1])


def _flat_rows(m: Market) -> np.ndarray | None:
    """Bars whose prices are not the asset's own moves: outside its listing or halted (None: none)."""
    if m.tradable is None:
        return None
    flat = ~_listed(m)
    return flat if m.halted is None else flat | m.halted


def _source_rows(flat: np.ndarray) -> np.ndarray:
    """For each bar and asset the bar whose price a flat bar repeats: the previous non-flat bar, or
    (before the first one) the first one; a non-flat bar itself."""
    n = len(flat)
    rows = np.broadcast_to(np.arange(n)[:, None], flat.shape)
    last = np.maximum.accumulate(np.where(flat, -1, rows), axis=0)
    first = np.argmax(~flat, axis=0)
    return np.where(last >= 0, last, first[None, :])


def _rebuild(m: Market, close0: np.ndarray, ret, o, h, lo, volume=None) -> Market:
    """Consistent OHLC from returns and relative logs (high/low widened to contain open/close).
    With listings: bars before an asset's listing repeat its first open."""
    lc = np.log(close0) + np.cumsum(ret, axis=0) - ret[0]
    h = np.maximum(h, np.maximum(o, 0.0))
    lo = np.minimum(lo, np.minimum(o, 0.0))
    prices = [np.exp(lc + o), np.exp(lc + h), np.exp(lc + lo), np.exp(lc)]
    if m.tradable is not None:
        for j in range(m.n_assets):
            a = m.listed_span(j)[0]
            if 0 < a < m.n_bars:
                first_open = prices[0][a, j]
                for p in prices:
                    p[:a, j] = first_open
    return _like(m, *prices, m.volume if volume is None else volume)


def block_bootstrap(m: Market, rng: np.random.Generator, mean_block: float) -> Market:
    """Stationary block bootstrap (Politis-Romano): an alternative history made of blocks of real
    bars (geometric lengths, mean ``mean_block``) -- same return distribution and short-range
    autocorrelation, different path. All assets share the resampled rows (keeps co-movement).

    Masked markets: the masks stay on their bars. An asset's bar inside its listing (not halted)
    takes the shared row when that row holds a real return of the asset (listed and not halted on
    it and on the bar before), else a row drawn uniformly from those (extra draws from ``rng``,
    only for such markets); a bar outside its listing or halted gets no move (flat, volume 0). So a
    placeholder never moves into a listing, nor a listed move into a placeholder or a halt."""
    n = m.n_bars
    idx = np.empty(n, dtype=np.int64)
    starts = rng.integers(0, n, size=n)
    new_block = rng.random(n) < 1.0 / max(mean_block, 1.0)
    idx[0] = starts[0]
    for i in range(1, n):
        idx[i] = starts[i] if new_block[i] else (idx[i - 1] + 1) % n
    ret, o, h, lo = _decompose(m)
    flat = _flat_rows(m)
    if flat is None:
        ret = ret[idx]
        ret[0] = 0.0
        return _rebuild(m, m.close[0], ret, o[idx], h[idx], lo[idx], volume=m.volume[idx])
    real = ~flat
    real[1:] &= ~flat[:-1]  # a real close-to-close return: this bar and the one before moved
    real[0] = False
    rows = np.repeat(idx[:, None], m.n_assets, axis=1)
    for j in range(m.n_assets):
        pool = np.flatnonzero(real[:, j])
        bad = np.flatnonzero(~flat[:, j] & ~real[idx, j])
        if len(bad) and len(pool):
            rows[bad, j] = pool[rng.integers(0, len(pool), size=len(bad))]
        elif len(bad):  # no real return at all (listed one bar): no move
            flat[bad, j] = True
    cols = np.arange(m.n_assets)[None, :]
    pick = [np.where(flat, 0.0, x[rows, cols]) for x in (ret, o, h, lo)]
    pick[0][0] = 0.0
    volume = np.where(flat, 0.0, m.volume[rows, cols])
    return _rebuild(m, m.close[0], *pick, volume=volume)


def scale_volatility(m: Market, factor: float) -> Market:
    """A calmer (factor < 1) or wilder (factor > 1) regime: close-to-close log returns and intrabar
    ranges scaled by ``factor`` (bar by bar, so the path stays causal: bar t uses bars <= t)."""
    ret, o, h, lo = _decompose(m)
    ret = factor * ret
    return _rebuild(m, m.close[0], ret, factor * o, factor * h, factor * lo)


def price_noise(m: Market, rng: np.random.Generator, sigma: float) -> Market:
    """Measurement/microstructure noise: every bar's OHLC multiplied by one factor exp(sigma*eps)."""
    f = np.exp(sigma * rng.standard_normal(m.close.shape))
    flat = _flat_rows(m)
    if flat is not None:  # a flat bar repeats the (noisy) price it repeats
        f = np.take_along_axis(f, _source_rows(flat), axis=0)
    return _like(m, m.open * f, m.high * f, m.low * f, m.close * f, m.volume)


def perturb_prices(m: Market, cfg: PerturbConfig, rng: np.random.Generator) -> Market:
    """Apply the price perturbations of ``cfg`` in a fixed order: bootstrap, volatility, noise."""
    if cfg.bootstrap_block > 0:
        m = block_bootstrap(m, rng, cfg.bootstrap_block)
    lo, hi = cfg.vol_scale
    if (lo, hi) != (1.0, 1.0):
        m = scale_volatility(m, float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
    if cfg.price_noise > 0:
        m = price_noise(m, rng, cfg.price_noise)
    return m


def cost_multiplier(cfg: PerturbConfig, rng: np.random.Generator) -> float:
    """Cost-level jitter: brokers, spreads and liquidity differ; one log-normal factor per episode."""
    return float(np.exp(cfg.cost_jitter * rng.standard_normal())) if cfg.cost_jitter > 0 else 1.0


def extra_latency(cfg: PerturbConfig, rng: np.random.Generator) -> int:
    """Latency: with probability ``latency_prob`` the episode's orders fill one bar later."""
    return int(rng.random() < cfg.latency_prob) if cfg.latency_prob > 0 else 0
