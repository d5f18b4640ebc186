"""Episode sampling shared by every env: split bounds, base track, perturbed tracks at reset.

A *track* is the arrays one episode steps through (track-local bar indices): features, fill and
close prices and cost rates. Unperturbed episodes share the base track of the split's market;
price-perturbed episodes get a fresh track built at reset from the episode window plus enough
history for the features' warm-up, with features recomputed from the perturbed prices.
The split is enforced structurally: the source keeps only bars up to the split end.

Cross-sectional sampling (``one_asset=True`` with a multi-asset market, as `MarketEnv` uses it):
each episode first draws one asset uniformly from the rng, then everything else as usual; its
track holds that asset alone (one column), base or perturbed. With one asset there is no draw.

Listings (`Market.tradable`): a one-asset market is cut to its listed bars; a cross-sectional
draw picks among the assets whose listing holds a whole episode after warm-up inside the split,
and the episode lies inside that listing. A multi-asset (portfolio) track carries ``tradable``
and the features' ``valid`` mask for the env's execution.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tradea3c.data.market import Market
from tradea3c.envs.config import DateSplit, MarketEnvConfig, PortfolioEnvConfig, Split
from tradea3c.envs.execution import cost_rates, fill_prices
from tradea3c.envs.perturb import cost_multiplier, extra_latency, perturb_prices
from tradea3c.features.compute import compute_features, features_for


@dataclass(frozen=True, eq=False)
class Track:
    features: np.ndarray  # float32 (T, n_assets, n_features), C-contiguous
    fill: np.ndarray  # float64 (T, n_assets): price of a fill at bar t
    close: np.ndarray  # float64 (T, n_assets)
    rates: np.ndarray  # float64 (T, n_assets): cost rate of a fill at bar t
    bar0: int  # source-market bar of track row 0
    market: Market  # the (possibly perturbed) prices of this track
    tradable: np.ndarray | None = None  # bool (T, n_assets): listed at bar t (None: always)
    valid: np.ndarray | None = None  # bool (T, n_assets): listed and features warmed up (None: always)


@dataclass(frozen=True, eq=False)
class Episode:
    track: Track
    start: int  # track-local bar of the first decision
    n_steps: int
    latency: int
    rate_mult: float  # cost-jitter multiplier of this episode
    asset: int = 0  # index of the traded asset in the source market (one-asset sources)
    ticker: str = ""  # its name ("" for a multi-asset episode)


class EpisodeSource:
    """Draws episodes of one market/config/split; all randomness from the rng passed to `sample`."""

    def __init__(
        self,
        market: Market,
        cfg: MarketEnvConfig | PortfolioEnvConfig,
        split: DateSplit | None = None,
        split_name: Split = "train",
        *,
        one_asset: bool = False,
    ) -> None:
        if market.tradable is not None and market.n_assets == 1:
            a, b = market.listed_span(0)
            if b < a:
                raise ValueError(f"{market.tickers[0]} is never listed in this market")
            market = market.take(slice(a, b + 1))
        lo, hi = split.bounds(market, split_name) if split is not None else (0, market.n_bars - 1)
        self.cfg = cfg
        self.split, self.split_name = split, split_name
        self.market = market.take(slice(0, hi + 1))  # nothing after the split end exists here
        self.lo, self.hi = lo, hi
        fs = features_for(self.market, cfg.features)
        self.warmup = fs.first_valid + cfg.window - 1  # bars of history a decision bar needs
        self.first_decision = max(lo, self.warmup)
        available = hi - self.first_decision  # steps from the first decision to the split end
        self.one_asset = one_asset
        self.draws_asset = one_asset and self.market.n_assets > 1
        spans = self._asset_spans(fs.valid) if self.draws_asset and fs.valid is not None else None
        if spans is not None:
            available = max((b - a for a, b in spans.values()), default=0)
        n = cfg.episode_length or available
        if spans is not None:  # assets whose listing holds a whole episode
            spans = {j: ab for j, ab in spans.items() if ab[1] - ab[0] >= n}
            self._eligible = np.array(sorted(spans), dtype=np.int64)
        if available < 1 or n > available:
            raise ValueError(
                f"split {split_name!r} has {max(available, 0)} usable steps after warm-up "
                f"({self.warmup} bars) but episode_length={cfg.episode_length}; use a longer split "
                "or a shorter episode_length / window"
            )
        self.n_steps = n
        self._spans = spans  # asset -> (first decision, last bar) of its listing in the split
        self.base = Track(
            fs.values,
            fill_prices(self.market, cfg.fill),
            self.market.close,
            cost_rates(self.market, cfg.costs),
            0,
            self.market,
            self.market.tradable,
            fs.valid,
        )
        self.tickers = self.market.tickers
        self._asset_tracks: dict[int, Track] = {} if self.draws_asset else {0: self.base}
        self._by_asset: np.ndarray | None = None  # features (n_assets, T, F) once an asset is drawn

    def _asset_spans(self, valid: np.ndarray) -> dict[int, tuple[int, int]]:
        """For each asset: (first decision bar, last bar an episode may reach) within the split --
        after its listing plus the market's warm-up and its own feature warm-up, up to its delisting."""
        out = {}
        for j in range(self.market.n_assets):
            a, b = self.market.listed_span(j)
            rows = np.flatnonzero(valid[:, j])
            if b < a or not len(rows):
                continue
            first = max(self.first_decision, a + self.warmup, int(rows[0]) + self.cfg.window - 1)
            last = min(self.hi, b)
            if last > first:
                out[j] = (first, last)
        return out

    def asset_track(self, j: int) -> Track:
        """The base track of asset ``j`` alone (``base`` itself for a one-asset market)."""
        tr = self._asset_tracks.get(j)
        if tr is None:
            if self._by_asset is None:  # one transposed copy: each asset's rows contiguous
                self._by_asset = np.ascontiguousarray(self.base.features.transpose(1, 0, 2))
            b, col = self.base, slice(j, j + 1)
            tr = Track(
                self._by_asset[j][:, None, :],
                np.ascontiguousarray(b.fill[:, col]),
                np.ascontiguousarray(b.close[:, col]),
                np.ascontiguousarray(b.rates[:, col]),
                0,
                self.market.select(self.tickers[j]),
            )
            self._asset_tracks[j] = tr
        return tr

    def is_base(self, track: Track) -> bool:
        """Whether ``track`` is an unperturbed base track of this source (shared between episodes)."""
        return track is self.base or any(t is track for t in self._asset_tracks.values())

    @property
    def n_features(self) -> int:
        return self.base.features.shape[2]

    def sample(self, rng: np.random.Generator) -> Episode:
        """One episode. Draw order: asset (cross-sectional sources with several assets only),
        start, latency, cost multiplier, price perturbations."""
        cfg, p = self.cfg, self.cfg.perturb
        n = self.n_steps
        first, last = self.first_decision, self.hi
        if self._spans is None:
            asset = int(rng.integers(len(self.tickers))) if self.draws_asset else 0
        else:
            asset = int(self._eligible[rng.integers(len(self._eligible))])
            first, last = self._spans[asset]
        ticker = self.tickers[asset] if self.one_asset else ""
        start = first
        if p.random_start:
            start = int(rng.integers(first, last - n + 1))
        latency = cfg.latency + extra_latency(p, rng)
        mult = cost_multiplier(p, rng)
        if not p.changes_prices:
            base = self.asset_track(asset) if self.draws_asset else self.base
            return Episode(base, start, n, latency, mult, asset, ticker)
        s0 = start - self.warmup
        window = self.market.take(slice(s0, start + n + 1))
        if self.draws_asset:
            window = window.select(ticker)
        sub = perturb_prices(window, p, rng)
        fs = compute_features(sub, cfg.features)
        if fs.first_valid + cfg.window - 1 > self.warmup:
            raise RuntimeError(
                "perturbed window has a longer feature warm-up than the market; lower the perturbation"
            )
        track = Track(
            fs.values,
            fill_prices(sub, cfg.fill),
            sub.close,
            cost_rates(sub, cfg.costs),
            s0,
            sub,
            sub.tradable,
            fs.valid,
        )
        return Episode(track, self.warmup, n, latency, mult, asset, ticker)
