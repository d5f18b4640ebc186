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
    close = 100.0 * np.exp(np.cumsum(log_ret))
    open_ = np.concatenate([[100.0], close[:-1]])
    wick = 1.0 + 0.1 * move * rng.random((2, n_bars))
    high = np.maximum(open_, close) * wick[0]
    low = np.minimum(open_, close) / wick[1]
    volume = np.where(spike, 2e6, 1e6) * (1.0 + 0.05 * rng.random(n_bars))
    dates = pd.bdate_range(start, periods=n_bars).to_numpy()
    cols = [a.reshape(-1, 1) for a in (open_, high, low, close, volume)]
    return Market(("SIGNAL",), dates, *cols, source="synthetic-signal", name="signal")


def oracle_targets(market: Market, start: int, n_steps: int) -> np.ndarray:
    """The optimal {flat, long} targets for decisions at bars start..start+n_steps-1: long exactly
    when the next close-to-close move is up. Optimal under costs whenever every move exceeds twice
    the cost rate (then no trade's cost outweighs its move); callers check that."""
    close = market.close[:, 0]
    nxt = close[start + 1 : start + n_steps + 1] / close[start : start + n_steps]
    return (nxt > 1.0).astype(np.float64)


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
