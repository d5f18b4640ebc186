"""yfinance at its network boundary: one thin download wrapper, frame normalisation, retries.

Today's yfinance (>= 0.2.51, 1.x) behaviour handled explicitly:

* ``yf.download`` returns MultiIndex columns ``(Price, Ticker)`` even for one ticker;
* ``auto_adjust`` defaults to True (no 'Adj Close' column); we always pass it explicitly;
* it never raises: failures (unknown/delisted ticker, DNS failure, rate limit) come back as an
  empty frame plus an error logged on the 'yfinance' logger, which `yf_download` captures and
  turns into a typed `FetchError` (``kind`` = offline / rate_limit / transient / no_data).
"""

from __future__ import annotations

import contextlib
import logging
import re
import warnings
from collections.abc import Callable, Iterator
from datetime import date
from typing import Literal, Protocol

import numpy as np
import pandas as pd

from tradea3c.data.market import FIELDS

FetchKind = Literal["offline", "rate_limit", "transient", "no_data", "bad_response"]
RETRYABLE: frozenset[str] = frozenset({"rate_limit", "transient"})
OFFLINE_HINT = "offline sources: `tradea3c fetch --from-csv DIR` or `tradea3c fetch --market demo`"

_OFFLINE = ("could not resolve", "name resolution", "dnserror", "network is unreachable", "no route to host")
_RATE = ("ratelimit", "rate limit", "too many requests", "429")
_TRANSIENT = ("timeout", "timed out", "connection", "reset by peer", "temporarily", "502", "503", "504")
_NO_DATA = ("delisted", "no price data", "no data found", "no timezone", "not found", "symbol may be")


class FetchError(Exception):
    """A failed download, classified so the fetcher knows whether to retry."""

    def __init__(self, kind: FetchKind, message: str) -> None:
        super().__init__(message)
        self.kind: FetchKind = kind


class Downloader(Protocol):
    """``(ticker, start, end, interval, adjusted) -> raw yfinance-style frame`` (end exclusive)."""

    def __call__(
        self, ticker: str, start: date | None, end: date | None, interval: str, adjusted: bool
    ) -> pd.DataFrame: ...


def classify(message: str) -> FetchKind:
    """Map a yfinance / network error message to a `FetchKind`."""
    m = message.lower()
    for kind, needles in (("offline", _OFFLINE), ("rate_limit", _RATE), ("no_data", _NO_DATA)):
        if any(n in m for n in needles):
            return kind  # type: ignore[return-value]
    if any(n in m for n in _TRANSIENT):
        return "transient"
    return "transient"


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


@contextlib.contextmanager
def _captured_yf_log() -> Iterator[_Capture]:
    """Collect yfinance's logged errors (and keep them off the user's terminal) for one call."""
    logger = logging.getLogger("yfinance")
    cap = _Capture()
    old_propagate = logger.propagate
    logger.addHandler(cap)
    logger.propagate = False
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield cap
    finally:
        logger.removeHandler(cap)
        logger.propagate = old_propagate


def yf_download(
    ticker: str, start: date | None, end: date | None, interval: str, adjusted: bool
) -> pd.DataFrame:
    """The real network call (the one place yfinance is touched); raises `FetchError`."""
    import yfinance as yf

    try:
        from yfinance.exceptions import YFRateLimitError
    except ImportError:  # pragma: no cover - very old yfinance
        YFRateLimitError = RuntimeError  # noqa: N806

    with _captured_yf_log() as cap:
        try:
            raw = yf.download(
                ticker,
                start=None if start is None else start.isoformat(),
                end=None if end is None else end.isoformat(),
                period="max" if start is None else None,
                interval=interval,
                auto_adjust=adjusted,
                actions=False,
                progress=False,
                threads=False,
                multi_level_index=True,
            )
        except YFRateLimitError as exc:
            raise FetchError("rate_limit", f"rate limited by Yahoo ({exc})") from None
        except Exception as exc:  # noqa: BLE001 - network stack errors vary by yfinance/curl version
            msg = f"{type(exc).__name__}: {exc}"
            raise FetchError(classify(msg), msg.splitlines()[0]) from None
    if raw is None or len(raw) == 0:
        raise _empty_error(cap.messages)
    return raw


def _empty_error(messages: list[str]) -> FetchError:
    """Turn the errors yfinance logged for an empty result into one short, classified error."""
    text = " ".join(m.strip() for m in messages if "Failed download" not in m)
    if not text:
        return FetchError("no_data", "no rows returned")
    kind = classify(text)
    host = re.search(r"resolve host:? ([\w.\-]+)", text, flags=re.IGNORECASE)
    if kind == "offline" and host:
        return FetchError(kind, f"DNS lookup of {host.group(1)} failed")
    useful = [m for m in messages if "Failed download" not in m and "crumb" not in m.lower()] or messages
    return FetchError(kind, useful[-1].strip().splitlines()[-1][:160])


def normalize_yf_frame(
    raw: pd.DataFrame, ticker: str, *, adjusted: bool, interval: str = "1d"
) -> pd.DataFrame:
    """Raw yfinance frame -> DatetimeIndex 'date' (tz-naive, ns) and lower-case OHLCV float columns.

    Daily bars keep the exchange-local date; intraday ones (``interval`` not "1d") keep their bar
    start times, converted to America/New_York (yfinance reports the exchange's zone) and tz-naive.

    Accepts MultiIndex columns in either level order (group_by='column' or 'ticker') and flat
    columns (multi_level_index=False / old yfinance). When 'Adj Close' is present (auto_adjust=False)
    and ``adjusted`` is requested, O/H/L/C are scaled by Adj Close / Close.
    """
    df = raw
    if isinstance(df.columns, pd.MultiIndex):
        t = ticker.upper()
        for level in range(df.columns.nlevels):
            values = [str(v).upper() for v in df.columns.get_level_values(level)]
            if t in values:
                df = df.xs(df.columns.get_level_values(level)[values.index(t)], axis=1, level=level)
                break
        else:
            if df.columns.nlevels == 2 and df.columns.get_level_values(1).nunique() == 1:
                df = df.droplevel(1, axis=1)
            else:
                raise FetchError("bad_response", f"columns {list(df.columns)[:6]} do not contain {ticker}")
    cols = {str(c).strip().lower().replace("_", " "): c for c in df.columns}
    missing = [f for f in FIELDS if f not in cols]
    if "close" in missing:
        raise FetchError("bad_response", f"no Close column in response (columns: {list(df.columns)})")
    out = pd.DataFrame({f: pd.to_numeric(df[cols[f]], errors="coerce") for f in FIELDS if f in cols})
    for f in missing:
        out[f] = np.nan
    if "adj close" in cols and adjusted:
        factor = pd.to_numeric(df[cols["adj close"]], errors="coerce") / out["close"]
        for f in ("open", "high", "low", "close"):
            out[f] = out[f] * factor
    idx = pd.DatetimeIndex(df.index)
    if interval != "1d":
        if idx.tz is not None:
            idx = idx.tz_convert("America/New_York").tz_localize(None)
        out.index = idx.as_unit("ns").rename("date")
    else:
        if idx.tz is not None:
            idx = idx.tz_localize(None)
        out.index = idx.normalize().as_unit("ns").rename("date")
    out = out.dropna(how="all", subset=["open", "high", "low", "close"])
    return out[list(FIELDS)].astype("float64")


def backoff_delays(
    retries: int, *, base: float = 1.0, cap: float = 30.0, rng: np.random.Generator | None = None
) -> list[float]:
    """Exponential backoff with full jitter: delay_i ~ U(0.5, 1) * min(cap, base * 2**i)."""
    rng = rng if rng is not None else np.random.default_rng()
    return [float(min(cap, base * 2**i) * rng.uniform(0.5, 1.0)) for i in range(retries)]


def call_with_retries(
    fn: Callable[[], pd.DataFrame],
    *,
    retries: int = 3,
    base_delay: float = 1.0,
    max_delay: float = 30.0,
    sleep: Callable[[float], None],
    rng: np.random.Generator,
    on_retry: Callable[[int, float, FetchError], None] | None = None,
) -> pd.DataFrame:
    """Call ``fn``; retry rate limits and transient errors at most ``retries`` times, sleeping
    between attempts (``sleep`` injected so tests do not wait). Other kinds fail at once."""
    delays = backoff_delays(retries, base=base_delay, cap=max_delay, rng=rng)
    for attempt in range(retries + 1):
        try:
            return fn()
        except FetchError as exc:
            if exc.kind not in RETRYABLE or attempt == retries:
                raise
            if on_retry is not None:
                on_retry(attempt + 1, delays[attempt], exc)
            sleep(delays[attempt])
    raise AssertionError("unreachable")  # pragma: no cover
