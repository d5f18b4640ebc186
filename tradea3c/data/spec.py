"""`MarketSpec`: which prices a strategy trades, as plain data, and `load_market_spec` to load them.

It lives with the data layer so that anything holding a spec (a strategy, a checkpoint's metadata)
can rebuild its market without knowing about strategies.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from tradea3c.data.market import Market

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MarketSpec:
    """Which prices to trade."""

    source: str = "demo"
    """"demo" (embedded GOOGL), "signal" (synthetic planted signal), a universe ("sp500", "dow30",
    "nasdaq100"), "cached", or tickers "AAPL,MSFT" (read from the data cache)."""
    data_dir: str | None = None
    """Cache folder (default: $TRADEA3C_DATA or data/cache)."""
    max_tickers: int | None = None
    """Keep only the first N tickers of a universe (laptop-sized runs)."""
    start: str | None = None
    """First date to load (ISO), None = all history."""
    end: str | None = None
    """Last date to load (ISO), None = all history."""
    min_history: int = 0
    """Leave out members with fewer bars than this between start and end (reported by name)."""
    synthetic_bars: int = 2000
    """Bars of the synthetic "signal" market."""
    synthetic_seed: int = 0
    """Seed of the synthetic "signal" market (use another seed for unseen test data)."""
    membership: str | None = None
    """Index membership: None = the default ("pit" for sp500; today's list, logged as
    survivorship-biased, for dow30 and nasdaq100); "pit" = the universe's point-in-time data
    (pitindex); "today" = today's list; else a CSV path (ticker,start,end). With a membership, the
    market holds every member of the range and an asset trades only while listed AND a member."""
    on_exit: Literal["sell", "hold"] = "sell"
    """A holding that leaves the index: "sell" at the next fill (like a delisting); "hold" while
    still listed, sold at the next rebalance (differs from "sell" only for periodic rebalancing)."""
    interval: str = "1d"
    """Bar length: "1d" (daily, ``<cache>/<TICKER>.parquet``) or intraday "1h", "30m", "15m", "5m",
    "1m" (``<cache>/<interval>/<TICKER>.parquet``; cached tickers only: no demo, signal or
    point-in-time membership). Annualisation follows it (`Market.periods_per_year`)."""


def load_market_spec(spec: MarketSpec) -> Market:
    """The `Market` of ``spec`` (demo, synthetic signal, universe or cached tickers); universe
    members that are not cached or left out are logged (INFO, on this module's logger; the CLI
    shows them). A ``data_dir`` that is a file is a
    `DataError` whatever the source (`check_data_dir`), so ``--data-dir FILE`` fails the same everywhere."""
    if not spec.source.replace(",", "").strip():
        from tradea3c.data.errors import DataError
        from tradea3c.data.universes import UNIVERSES

        raise DataError(
            f"--market {spec.source!r} (market.source): the market name is empty; use demo, signal, "
            f"cached, {', '.join(UNIVERSES)}, or tickers like AAPL,MSFT"
        )
    if spec.data_dir is not None:
        from tradea3c.data.cache import check_data_dir

        check_data_dir(spec.data_dir)
    if spec.source == "signal":
        from tradea3c.data.synthetic import planted_signal_market

        if spec.interval != "1d":
            from tradea3c.data.errors import DataError

            raise DataError(f"market.interval {spec.interval!r}: the synthetic signal market is daily only")

        return planted_signal_market(spec.synthetic_bars, seed=spec.synthetic_seed)
    from tradea3c.data.load import load_market_with_report

    market, report = load_market_with_report(
        spec.source,
        data_dir=spec.data_dir,
        start=spec.start,
        end=spec.end,
        max_tickers=spec.max_tickers,
        min_history=spec.min_history,
        membership=spec.membership,
        on_exit=spec.on_exit,
        interval=spec.interval,
    )
    listings = [f for f in report.findings if f.check == "listing"]
    for f in report.findings:
        if f.check == "universe":
            log.info(f"{spec.source}: {f.detail}; training on the {market.n_assets} cached members")
        elif f.check == "membership":
            log.info(f.detail)
        elif f.check == "survivorship":
            log.warning(f.detail)
        elif f.check == "min-history" and "too little history" in f.detail:
            log.info(f"{spec.source}: left out {f.detail} (min_history {spec.min_history})")
    if listings:
        log.info(
            f"{spec.source}: {len(listings)} members listed or delisted inside the range "
            f"({', '.join(f.ticker for f in listings[:8])}{' ...' if len(listings) > 8 else ''}); "
            "they trade only while listed"
        )
    return market
