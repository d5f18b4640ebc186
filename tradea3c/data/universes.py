"""Named ticker universes (sp500, dow30, nasdaq100).

Source at run time: the pytickersymbols package (maintained index constituents). Fallback: the
snapshots shipped as package data in ``tradea3c/data/universes/*.csv`` (source and as-of date in
``sources.json``), used when pytickersymbols is missing or fails.
"""

from __future__ import annotations

import json
from importlib import resources

from tradea3c.data.errors import DataError

UNIVERSES: dict[str, str] = {"sp500": "S&P 500", "dow30": "DOW JONES", "nasdaq100": "NASDAQ 100"}


def yahoo_symbol(symbol: str) -> str:
    """Index-list symbol -> Yahoo symbol (class shares use '-': BRK.B -> BRK-B)."""
    return symbol.strip().upper().replace(".", "-")


def _from_pytickersymbols(index: str) -> list[str]:
    from pytickersymbols import PyTickerSymbols

    stocks = PyTickerSymbols().get_stocks_by_index(index)
    return sorted({yahoo_symbol(s["symbol"]) for s in stocks if s.get("symbol")})


def _from_snapshot(name: str) -> list[str]:
    text = (resources.files("tradea3c.data") / "universes" / f"{name}.csv").read_text()
    return [line.strip() for line in text.splitlines()[1:] if line.strip()]


def snapshot_info(name: str) -> dict[str, str]:
    """Source and as-of date of a shipped fallback list."""
    info = json.loads((resources.files("tradea3c.data") / "universes" / "sources.json").read_text())
    return info[name]


def universe_tickers(name: str, *, prefer_snapshot: bool = False) -> tuple[list[str], str]:
    """(sorted Yahoo tickers, source description) of a named universe; `DataError` if unknown."""
    key = name.strip().lower()
    if key not in UNIVERSES:
        raise DataError(f"unknown universe {name!r}: choose one of {', '.join(UNIVERSES)}")
    if not prefer_snapshot:
        try:
            tickers = _from_pytickersymbols(UNIVERSES[key])
            if tickers:
                return tickers, f"pytickersymbols index {UNIVERSES[key]!r}"
        except Exception:  # noqa: BLE001 - any failure of the optional source falls back to the snapshot
            pass
    info = snapshot_info(key)
    return _from_snapshot(key), f"snapshot {info['source']}, as of {info['as_of'][:10]}"
