"""A synthetic market with a planted, known-optimal signal (for learning tests and sanity checks).

Today's volume announces the sign of the next bar's move: a high-volume bar (about twice the
usual volume) is followed by a rise, an ordinary bar by a fall, with magnitudes in
[0.5, 1.5] x ``move``. Opens equal the previous close (no overnight gap), so an order decided at the
close of t and filled at the open of t+1 earns exactly the close-to-close move of t+1. A policy
that reads the causal ``volume_z`` feature can therefore be perfect, and the oracle (long exactly
before rises) is computable from the data alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from tradea3c.data.market import Market


def _one_ticker_market(
    ticker: str,
    log_ret: np.ndarray,
    loud: np.ndarray,
    wick_size: float,
    rng: np.random.Generator,
    start: str,
    name: str,
) -> Market:
    """Bars of one ticker from its log returns: opens at the previous close (no overnight gap),
    wicks of up to ``0.1 x wick_size`` beyond the body, volume doubled on the ``loud`` bars (the
    planted announcement) with 5% jitter. Draws the wicks, then the jitter, from ``rng``."""
    n_bars = len(log_ret)
    close = 100.0 * np.exp(np.cumsum(log_ret))
    open_ = np.concatenate([[100.0], close[:-1]])
    wick = 1.0 + 0.1 * wick_size * rng.random((2, n_bars))
    high = np.maximum(open_, close) * wick[0]
    low = np.minimum(open_, close) / wick[1]
    volume = np.where(loud, 2e6, 1e6) * (1.0 + 0.05 * rng.random(n_bars))
    dates = pd.bdate_range(start, periods=n_bars).to_numpy()
    cols = [a.reshape(-1, 1) for a in (open_, high, low, close, volume)]
    return Market((ticker,), dates, *cols, source=f"synthetic-{name}", name=name)


def planted_signal_market(
    n_bars: int = 2000,
    *,
    seed: int = 0,
    move: float = 0.01,
    spike_prob: float = 0.5,
    start: str = "2000-01-03",
) -> Market:
    """One ticker ("SIGNAL") whose next-bar direction is announced by today's volume (see module doc)."""
    rng = np.random.default_rng(seed)
    spike = rng.random(n_bars) < spike_prob
    size = move * (0.5 + rng.random(n_bars))
    log_ret = np.zeros(n_bars)
    log_ret[1:] = np.where(spike[:-1], size[1:], -size[1:])
    return _one_ticker_market("SIGNAL", log_ret, spike, move, rng, start, "signal")


def oracle_targets(market: Market, start: int, n_steps: int) -> np.ndarray:
    """The optimal {flat, long} targets for decisions at bars start..start+n_steps-1: long exactly
    when the next close-to-close move is up. Optimal under costs whenever every move exceeds twice
    the cost rate (then no trade's cost outweighs its move); callers check that."""
    close = market.close[:, 0]
    nxt = close[start + 1 : start + n_steps + 1] / close[start : start + n_steps]
    return (nxt > 1.0).astype(np.float64)


def drift_market(
    n_bars: int = 2000,
    *,
    seed: int = 0,
    drift: float = 0.0005,
    vol: float = 0.01,
    signal_prob: float = 0.0,
    drop: float = 0.02,
    start: str = "2000-01-03",
) -> Market:
    """One ticker ("DRIFT") that rises on average (log return ``drift`` + ``vol`` x N(0, 1) a bar),
    so buy-and-hold is the benchmark to keep; with ``signal_prob`` > 0 a share of the bars announce,
    by a doubled volume, a drop of [0.5, 1.5] x ``drop`` on the next bar: a planted *timing*
    signal on top of the drift (step aside before the drop, hold otherwise). Opens equal the
    previous close, as in `planted_signal_market`."""
    rng = np.random.default_rng(seed)
    warn = rng.random(n_bars) < signal_prob
    warn[-1] = False
    log_ret = np.zeros(n_bars)
    normal = drift + vol * rng.standard_normal(n_bars)
    size = drop * (0.5 + rng.random(n_bars))
    log_ret[1:] = np.where(warn[:-1], -size[1:], normal[1:])
    return _one_ticker_market("DRIFT", log_ret, warn, vol, rng, start, "drift")


def drift_oracle_targets(market: Market, start: int, n_steps: int) -> np.ndarray:
    """The timing oracle of `drift_market`: flat exactly before an announced drop (a bar whose
    volume is above 1.5x the median), long otherwise."""
    vol = market.volume[:, 0]
    warn = vol[start : start + n_steps] > 1.5 * np.median(vol)
    return np.where(warn, 0.0, 1.0)


def planted_signal_universe(
    n_bars: int = 2000, n_assets: int = 6, *, seed: int = 0, move: float = 0.01
) -> Market:
    """``n_assets`` tickers ("SIG0".."SIGn") on one calendar, each an independent planted-signal market
    (ticker i uses seed ``seed * 1000 + i``): the same rule, different paths, for cross-sectional
    training and tests on tickers a policy never saw."""
    parts = [planted_signal_market(n_bars, seed=seed * 1000 + i, move=move) for i in range(n_assets)]
    cols = [np.hstack([getattr(p, f) for p in parts]) for f in ("open", "high", "low", "close", "volume")]
    tickers = tuple(f"SIG{i}" for i in range(n_assets))
    return Market(tickers, parts[0].dates, *cols, source="synthetic-signal", name="signal-universe")


def changing_universe_frames(
    n_assets: int = 8,
    n_bars: int = 600,
    *,
    seed: int = 0,
    late: int = 2,
    delisted: int = 2,
    halts: int = 1,
    placeholders: int = 1,
    start: str = "2010-01-04",
) -> dict[str, pd.DataFrame]:
    """Raw daily frames (as a cache or a CSV folder holds them) of a universe whose membership
    changes: random-walk tickers "U0".."Un" on one business-day calendar, of which the first
    ``late`` list between 1/4 and 1/2 of the range, the next ``delisted`` delist between 1/2 and 3/4,
    the next ``halts`` miss three days inside their listing, and the next ``placeholders`` start
    with a year of penny placeholder prices at zero volume before their real listing (which
    validation must trim). Everything else trades on every bar. Feed it to `build_market`."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=n_bars)
    frames: dict[str, pd.DataFrame] = {}
    kinds = ["late"] * late + ["delisted"] * delisted + ["halt"] * halts + ["placeholder"] * placeholders
    kinds += ["full"] * max(n_assets - len(kinds), 0)
    for i, kind in enumerate(kinds[:n_assets]):
        log_ret = rng.normal(0.0003, 0.015, n_bars)
        close = 20.0 * (1 + i) * np.exp(np.cumsum(log_ret))
        open_ = close * np.exp(rng.normal(0.0, 0.004, n_bars))
        high = np.maximum(open_, close) * (1 + 0.01 * rng.random(n_bars))
        low = np.minimum(open_, close) * (1 - 0.01 * rng.random(n_bars))
        volume = 1e6 * (1 + rng.random(n_bars))
        df = pd.DataFrame(
            {"open": open_, "high": high, "low": low, "close": close, "volume": volume},
            index=pd.DatetimeIndex(dates, name="date"),
        )
        if kind == "late":
            df = df.iloc[int(rng.integers(n_bars // 4, n_bars // 2)) :]
        elif kind == "delisted":
            df = df.iloc[: int(rng.integers(n_bars // 2, 3 * n_bars // 4))]
        elif kind == "halt":
            gone = rng.choice(np.arange(n_bars // 4, 3 * n_bars // 4), 3, replace=False)
            df = df.drop(df.index[gone])
        elif kind == "placeholder":
            k = min(252, n_bars // 3)
            penny = rng.choice([0.001, 0.002, 0.004, 0.006], k)
            df.iloc[:k, :4] = np.repeat(penny[:, None], 4, axis=1)
            df.iloc[:k, 4] = 0.0
        frames[f"U{i}"] = df
    return frames


def changing_universe(n_assets: int = 8, n_bars: int = 600, *, seed: int = 0, **kinds: int) -> Market:
    """`changing_universe_frames` validated and aligned into one `Market` with a `tradable` mask."""
    from tradea3c.data.load import build_market

    frames = changing_universe_frames(n_assets, n_bars, seed=seed, **kinds)
    market, _ = build_market(frames, source="synthetic-universe", adjusted=True, name="changing-universe")
    return market


def planted_cross_section_market(
    n_bars: int = 2000,
    n_assets: int = 8,
    *,
    winners: int = 2,
    seed: int = 0,
    move: float = 0.01,
    start: str = "2000-01-03",
) -> Market:
    """A universe with a planted *cross-sectional* signal: at each bar ``winners`` of the
    ``n_assets`` tickers ("X0".."Xn"), drawn uniformly, trade about twice their usual volume, and
    exactly those rise on the next bar while all the others fall (magnitudes in [0.5, 1.5] x
    ``move``). Opens equal the previous close, as in `planted_signal_market`, so the causal
    ``volume_z`` feature tells which assets to hold, and the oracle (hold the announced assets, in
    equal weights, at every bar) is computable from the closes alone."""
    if not 1 <= winners < n_assets:
        raise ValueError(f"need 1 <= winners < n_assets, got {winners} of {n_assets}")
    rng = np.random.default_rng(seed)
    spike = np.zeros((n_bars, n_assets), dtype=bool)
    picks = np.argsort(rng.random((n_bars, n_assets)), axis=1)[:, :winners]
    np.put_along_axis(spike, picks, True, axis=1)
    size = move * (0.5 + rng.random((n_bars, n_assets)))
    log_ret = np.zeros((n_bars, n_assets))
    log_ret[1:] = np.where(spike[:-1], size[1:], -size[1:])
    close = 100.0 * np.exp(np.cumsum(log_ret, axis=0))
    open_ = np.vstack([np.full((1, n_assets), 100.0), close[:-1]])
    wick = 1.0 + 0.1 * move * rng.random((2, n_bars, n_assets))
    high = np.maximum(open_, close) * wick[0]
    low = np.minimum(open_, close) / wick[1]
    volume = np.where(spike, 2e6, 1e6) * (1.0 + 0.05 * rng.random((n_bars, n_assets)))
    dates = pd.bdate_range(start, periods=n_bars).to_numpy()
    tickers = tuple(f"X{i}" for i in range(n_assets))
    cols = (open_, high, low, close, volume)
    return Market(tickers, dates, *cols, source="synthetic-xs", name="cross-section")
