"""`Market`: an aligned, validated panel of OHLCV bars (daily, or intraday: ``interval``) for N tickers.

Every later stage (features, envs, backtest) reads prices only through this type, so it is
kept small, immutable and numpy-backed: envs index its arrays inside `step` without pandas.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

FIELDS: tuple[str, ...] = ("open", "high", "low", "close", "volume")


@dataclass(frozen=True, eq=False)
class Market:
    """Aligned OHLCV panel: arrays of shape ``(n_bars, n_assets)``, float64, dates ascending.

    Prices are adjusted (split and dividend) unless ``adjusted`` is False. Values are finite and
    prices positive once a Market exists: construction goes through validation.

    ``tradable`` (bool, same shape, or None = every bar): whether an asset is listed on a bar. A
    universe whose membership changes spans the union of its members' dates; before its listing
    and after its delisting an asset's prices are placeholders (first open / last close, volume
    0) that the execution model never trades at except to sell a delisted holding (see
    `envs.execution`) and that features never read. With an index membership
    (`with_membership`) ``tradable`` is listed AND a member of the index on that bar.

    ``keep`` (bool, same shape, or None = nowhere): bars on which a holding of a non-tradable asset
    is not force-sold (still listed but out of the index, ``on_exit="hold"``): it cannot be bought
    there and is sold at the next rebalance instead of the next fill (`envs.execution.delist`).

    ``halted`` (bool, same shape, or None = nowhere): bars inside an asset's listing on which it had
    no bar (a trading halt; `data.align` fills them flat at the previous close, volume 0). A halted
    bar is not tradable (``tradable`` is False there, whatever was passed) but the asset stays
    listed: the portfolio envs neither buy nor sell it there (a holding keeps its units) and mark it
    at that flat price, its last one.

    ``interval`` (yfinance's spelling: "1d" default, "1h", "30m", "15m", "5m", "1m"): the bar length.
    Intraday ``dates`` are exchange-local (America/New_York), tz-naive bar start times inside the
    regular session. It sets the annualisation (`periods_per_year`) and, when not "1d", enters the
    fingerprint (daily markets keep theirs).
    """

    tickers: tuple[str, ...]
    dates: np.ndarray  # datetime64[ns], shape (n_bars,)
    open: np.ndarray
    high: np.ndarray
    low: np.ndarray
    close: np.ndarray
    volume: np.ndarray
    source: str = "unknown"
    adjusted: bool = True
    name: str = ""
    tradable: np.ndarray | None = None
    keep: np.ndarray | None = None
    halted: np.ndarray | None = None
    interval: str = "1d"
    _fingerprint: list[str] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        from tradea3c.metrics import periods_per_year

        periods_per_year(self.interval)  # a ValueError names the known intervals
        dates = np.asarray(self.dates).astype("datetime64[ns]")
        object.__setattr__(self, "dates", dates)
        shape = (len(dates), len(self.tickers))
        for name in FIELDS:
            arr = np.ascontiguousarray(np.asarray(getattr(self, name), dtype=np.float64))
            if arr.ndim == 1 and len(self.tickers) == 1:
                arr = arr.reshape(-1, 1)
            if arr.shape != shape:
                raise ValueError(f"Market.{name} has shape {arr.shape}, expected {shape} (bars, tickers)")
            arr.setflags(write=False)
            object.__setattr__(self, name, arr)
        if self.halted is not None:
            halted = np.asarray(self.halted, dtype=bool)
            if halted.ndim == 1 and len(self.tickers) == 1:
                halted = halted.reshape(-1, 1)
            if halted.shape != shape:
                raise ValueError(f"Market.halted has shape {halted.shape}, expected {shape} (bars, tickers)")
            if halted.any():
                halted = np.ascontiguousarray(halted)
                halted.setflags(write=False)
                listed = np.ones(shape, dtype=bool) if self.tradable is None else self.tradable
                object.__setattr__(self, "tradable", np.asarray(listed, dtype=bool).reshape(shape) & ~halted)
            else:
                halted = None
            object.__setattr__(self, "halted", halted)
        if self.tradable is not None:
            mask = np.asarray(self.tradable, dtype=bool)
            if mask.ndim == 1 and len(self.tickers) == 1:
                mask = mask.reshape(-1, 1)
            if mask.shape != shape:
                raise ValueError(f"Market.tradable has shape {mask.shape}, expected {shape} (bars, tickers)")
            if mask.all():
                mask = None
            else:
                mask = np.ascontiguousarray(mask)
                mask.setflags(write=False)
            object.__setattr__(self, "tradable", mask)
        if self.keep is not None:
            keep = np.asarray(self.keep, dtype=bool).reshape(shape)
            keep = np.ascontiguousarray(keep) if keep.any() else None
            if keep is not None:
                keep.setflags(write=False)
            object.__setattr__(self, "keep", keep)
        if len(dates) > 1 and not np.all(np.diff(dates.astype(np.int64)) > 0):
            raise ValueError("Market.dates must be strictly increasing; run validation/cleaning first")

    # ------------------------------------------------------------------ shape
    @property
    def n_bars(self) -> int:
        return len(self.dates)

    @property
    def n_assets(self) -> int:
        return len(self.tickers)

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.dates[0])

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.dates[-1])

    @property
    def intraday(self) -> bool:
        """Whether the bars are shorter than a day (``interval`` is not "1d")."""
        return self.interval != "1d"

    @property
    def periods_per_year(self) -> float:
        """Bars a year, for annualising: of ``interval`` when intraday (`tradea3c.metrics.
        periods_per_year`: 1h 7 x 252, 30m 13 x 252, ...); for a "1d" market read off its dates
        (`tradea3c.metrics.periods_of_dates`: daily 252, weekly bars relabelled as such 52, ...)."""
        from tradea3c.metrics import periods_of_dates

        return periods_of_dates(self.dates, self.interval if self.intraday else None)

    @property
    def bar_interval(self) -> str:
        """``interval`` when intraday, else the interval read off the dates ("irregular" if none)."""
        from tradea3c.metrics import infer_interval

        return self.interval if self.intraday else (infer_interval(self.dates) or "irregular")

    @property
    def session_last(self) -> np.ndarray:
        """Bool ``(n_bars,)``: the last bar of each session (calendar date); all True for daily bars."""
        if not self.intraday:
            return np.ones(self.n_bars, dtype=bool)
        day = self.dates.astype("datetime64[D]")
        out = np.ones(self.n_bars, dtype=bool)
        out[:-1] = day[1:] != day[:-1]
        return out

    # ------------------------------------------------------------ listings
    @property
    def tradable_mask(self) -> np.ndarray:
        """``tradable`` as an array (all True for a market without listings)."""
        if self.tradable is None:
            return np.ones((self.n_bars, self.n_assets), dtype=bool)
        return self.tradable

    def listed_span(self, j: int) -> tuple[int, int]:
        """First and last bar (inclusive) on which asset ``j`` is listed; (n_bars, -1) if never."""
        if self.tradable is None:
            return (0, self.n_bars - 1) if self.n_bars else (0, -1)
        rows = np.flatnonzero(self.tradable[:, j])
        return (int(rows[0]), int(rows[-1])) if len(rows) else (self.n_bars, -1)

    # ------------------------------------------------------------ identity
    @property
    def fingerprint(self) -> str:
        """Hash of tickers, dates and every value: two Markets with equal fingerprints hold the same data."""
        if not self._fingerprint:
            h = hashlib.sha256()
            h.update("|".join(self.tickers).encode())
            h.update(self.dates.astype(np.int64).tobytes())
            for name in FIELDS:
                h.update(getattr(self, name).tobytes())
            if self.tradable is not None:  # markets without listings keep their fingerprints
                h.update(self.tradable.tobytes())
            if self.keep is not None:
                h.update(b"keep" + self.keep.tobytes())
            if self.halted is not None:
                h.update(b"halted" + self.halted.tobytes())
            if self.intraday:  # daily markets keep their fingerprints
                h.update(b"interval" + self.interval.encode())
            self._fingerprint.append(h.hexdigest()[:16])
        return self._fingerprint[0]

    # ---------------------------------------------------------- selection
    def between(
        self, start: str | pd.Timestamp | None = None, end: str | pd.Timestamp | None = None
    ) -> Market:
        """Bars with ``start <= date <= end`` (either bound optional)."""
        mask = np.ones(self.n_bars, dtype=bool)
        if start is not None:
            mask &= self.dates >= np.datetime64(pd.Timestamp(start), "ns")
        if end is not None:
            mask &= self.dates <= np.datetime64(pd.Timestamp(end), "ns")
        return self.take(np.flatnonzero(mask))

    def take(self, rows: np.ndarray | slice) -> Market:
        """Rows (bars) by position."""
        return Market(
            tickers=self.tickers,
            dates=self.dates[rows],
            **{f: getattr(self, f)[rows] for f in FIELDS},
            source=self.source,
            adjusted=self.adjusted,
            name=self.name,
            tradable=None if self.tradable is None else self.tradable[rows],
            keep=None if self.keep is None else self.keep[rows],
            halted=None if self.halted is None else self.halted[rows],
            interval=self.interval,
        )

    def select(self, tickers: str | list[str] | tuple[str, ...]) -> Market:
        """A sub-market of some tickers (order as given)."""
        wanted = [tickers] if isinstance(tickers, str) else list(tickers)
        missing = [t for t in wanted if t not in self.tickers]
        if missing:
            raise KeyError(f"tickers {missing} not in market {self.tickers}")
        cols = [self.tickers.index(t) for t in wanted]
        return Market(
            tickers=tuple(wanted),
            dates=self.dates,
            **{f: getattr(self, f)[:, cols] for f in FIELDS},
            source=self.source,
            adjusted=self.adjusted,
            name=self.name,
            tradable=None if self.tradable is None else self.tradable[:, cols],
            keep=None if self.keep is None else self.keep[:, cols],
            halted=None if self.halted is None else self.halted[:, cols],
            interval=self.interval,
        )

    def with_membership(self, member: np.ndarray, *, on_exit: Literal["sell", "hold"] = "sell") -> Market:
        """This market with an index-membership term: ``tradable = listed AND member`` (``member``
        bool ``(n_bars, n_assets)``, the membership on each bar's date). ``on_exit="sell"``: a holding
        that leaves the index is sold at the next fill, like a delisting; ``"hold"``: it stays while
        still listed (``keep``) and is sold at the next rebalance."""
        if on_exit not in ("sell", "hold"):
            raise ValueError(f"on_exit must be 'sell' or 'hold', got {on_exit!r}")
        member = np.asarray(member, dtype=bool)
        if member.shape != self.close.shape:
            raise ValueError(f"membership mask has shape {member.shape}, expected {self.close.shape}")
        listed = self.tradable_mask
        return Market(
            tickers=self.tickers,
            dates=self.dates,
            **{f: getattr(self, f) for f in FIELDS},
            source=self.source,
            adjusted=self.adjusted,
            name=self.name,
            tradable=listed & member,
            keep=listed & ~member if on_exit == "hold" else None,
            halted=self.halted,
            interval=self.interval,
        )

    # ------------------------------------------------------------ pandas
    def frame(self, ticker: str | None = None) -> pd.DataFrame:
        """One ticker's bars as a DataFrame (columns open..volume, DatetimeIndex 'date')."""
        if ticker is None:
            if self.n_assets != 1:
                raise ValueError("frame() needs a ticker for a multi-asset market")
            ticker = self.tickers[0]
        j = self.tickers.index(ticker)
        index = pd.DatetimeIndex(self.dates, name="date")
        return pd.DataFrame({f: getattr(self, f)[:, j] for f in FIELDS}, index=index)

    def panel(self, field_name: str = "close") -> pd.DataFrame:
        """One field for all tickers: DataFrame (dates x tickers)."""
        if field_name not in FIELDS:
            raise KeyError(f"unknown field {field_name!r}; choose one of {FIELDS}")
        return pd.DataFrame(
            getattr(self, field_name),
            index=pd.DatetimeIndex(self.dates, name="date"),
            columns=list(self.tickers),
        )

    @classmethod
    def from_frames(
        cls,
        frames: dict[str, pd.DataFrame],
        *,
        source: str = "unknown",
        adjusted: bool = True,
        name: str = "",
        interval: str = "1d",
    ) -> Market:
        """Build from already clean, already aligned per-ticker frames (same DatetimeIndex, lower-case
        OHLCV columns, optionally bool ``tradable`` and ``halted`` columns). Alignment of ragged
        calendars is the job of `tradea3c.data.align`."""
        if not frames:
            raise ValueError("Market.from_frames needs at least one ticker")
        tickers = tuple(frames)
        index = frames[tickers[0]].index
        for t, df in frames.items():
            if not df.index.equals(index):
                raise ValueError(f"{t}: dates differ from {tickers[0]}; align the frames first")
        arrays = {
            f: np.column_stack([frames[t][f].to_numpy(dtype=np.float64) for t in tickers]) for f in FIELDS
        }

        def column(name: str, default: bool) -> np.ndarray | None:
            if not any(name in df.columns for df in frames.values()):
                return None
            return np.column_stack(
                [
                    frames[t][name].to_numpy(dtype=bool)
                    if name in frames[t].columns
                    else np.full(len(index), default, dtype=bool)
                    for t in tickers
                ]
            )

        tradable, halted = column("tradable", True), column("halted", False)
        return cls(
            tickers=tickers,
            dates=index.to_numpy(),
            **arrays,
            source=source,
            adjusted=adjusted,
            name=name,
            tradable=tradable,
            halted=halted,
            interval=interval,
        )

    def summary(self) -> pd.DataFrame:
        """Per-ticker summary over its listed bars: first/last date, bars, first/last close, total
        return, annualised vol (`periods_per_year`)."""
        rows, periods = [], self.periods_per_year if self.intraday else 252
        for j, t in enumerate(self.tickers):
            a, b = self.listed_span(j)
            c = self.close[a : b + 1, j]
            r = np.diff(np.log(c))
            rows.append(
                {
                    "ticker": t,
                    "first": pd.Timestamp(self.dates[a]).date() if len(c) else None,
                    "last": pd.Timestamp(self.dates[b]).date() if len(c) else None,
                    "bars": len(c),
                    "first_close": c[0] if len(c) else np.nan,
                    "last_close": c[-1] if len(c) else np.nan,
                    "total_return": c[-1] / c[0] - 1.0 if len(c) else np.nan,
                    "ann_vol": float(np.std(r, ddof=1) * np.sqrt(periods)) if len(r) > 1 else float("nan"),
                }
            )
        return pd.DataFrame(rows).set_index("ticker")

    def __repr__(self) -> str:
        span = f"{self.start.date()}..{self.end.date()}" if self.n_bars else "empty"
        label = self.name or self.source
        bars = f"{self.n_bars} {self.interval} bars" if self.intraday else f"{self.n_bars} bars"
        return f"Market({label}: {self.n_assets} tickers, {bars}, {span}, fp={self.fingerprint})"


def synthetic_market(
    n_bars: int = 1000,
    n_assets: int = 1,
    *,
    seed: int = 0,
    drift: float = 0.0002,
    vol: float = 0.01,
    start: str = "2000-01-03",
) -> Market:
    """A geometric-random-walk Market with consistent OHLC (for tests and benchmarks)."""
    rng = np.random.default_rng(seed)
    dates = pd.bdate_range(start, periods=n_bars).to_numpy()
    log_ret = drift + vol * rng.standard_normal((n_bars, n_assets))
    close = 100.0 * np.exp(np.cumsum(log_ret, axis=0))
    prev = np.vstack([np.full((1, n_assets), 100.0), close[:-1]])
    open_ = prev * np.exp(0.3 * vol * rng.standard_normal((n_bars, n_assets)))
    wick = np.abs(vol * rng.standard_normal((2, n_bars, n_assets)))
    high = np.maximum(open_, close) * np.exp(wick[0])
    low = np.minimum(open_, close) * np.exp(-wick[1])
    volume = rng.integers(100_000, 1_000_000, size=(n_bars, n_assets)).astype(np.float64)
    tickers = tuple(f"SYN{i}" for i in range(n_assets))
    return Market(tickers, dates, open_, high, low, close, volume, source="synthetic", name="synthetic")
