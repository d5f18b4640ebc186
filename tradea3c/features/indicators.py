"""Indicator registry: name -> function of one ticker's OHLCV frame, computed with the `ta` package.

Every function is causal (its value at bar t uses bars <= t only; proven by the leak tests) and
returns a scale-free float64 array (prices are divided out so levels of different tickers compare).
``warmup`` is the number of leading bars that are masked to NaN (ta writes 0 there for some
indicators, e.g. ATR/ADX); ``normalise`` says whether the causal rolling z-score is applied
(bounded indicators are instead mapped to about [-1, 1] by a fixed affine map).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pandas as pd
from ta.momentum import ROCIndicator, RSIIndicator, StochasticOscillator, WilliamsRIndicator
from ta.trend import MACD, ADXIndicator, CCIIndicator, SMAIndicator
from ta.volatility import AverageTrueRange, BollingerBands
from ta.volume import OnBalanceVolumeIndicator


@dataclass(frozen=True)
class Indicator:
    fn: Callable[[pd.DataFrame], pd.Series | np.ndarray]
    warmup: int
    normalise: bool
    doc: str


def _roc(k: int) -> Callable[[pd.DataFrame], pd.Series]:
    return lambda df: ROCIndicator(df["close"], window=k).roc() / 100.0


def _macd(df: pd.DataFrame) -> MACD:
    return MACD(df["close"], window_slow=26, window_fast=12, window_sign=9)


def _log_ret(df: pd.DataFrame) -> pd.Series:
    return np.log(1.0 + ROCIndicator(df["close"], window=1).roc() / 100.0)


def _obv_flow(df: pd.DataFrame) -> pd.Series:
    obv = OnBalanceVolumeIndicator(df["close"], df["volume"]).on_balance_volume()
    return (obv - obv.shift(20)) / df["volume"].rolling(20).sum().replace(0.0, np.nan)


def _volume_z(df: pd.DataFrame) -> pd.Series:
    lv = np.log1p(df["volume"])
    return (lv - lv.rolling(20).mean()) / lv.rolling(20).std()


def _hlc(df: pd.DataFrame) -> tuple[pd.Series, pd.Series, pd.Series]:
    return df["high"], df["low"], df["close"]


def _rsi(df: pd.DataFrame) -> pd.Series:
    return (RSIIndicator(df["close"], 14).rsi() - 50.0) / 50.0


def _bb_pctb(df: pd.DataFrame) -> pd.Series:
    return BollingerBands(df["close"], 20, 2).bollinger_pband() - 0.5


def _bb_width(df: pd.DataFrame) -> pd.Series:
    return BollingerBands(df["close"], 20, 2).bollinger_wband() / 100.0


def _atr(df: pd.DataFrame) -> pd.Series:
    return AverageTrueRange(*_hlc(df), 14).average_true_range() / df["close"]


def _adx(df: pd.DataFrame) -> pd.Series:
    return ADXIndicator(*_hlc(df), 14).adx() / 100.0


def _cci(df: pd.DataFrame) -> pd.Series:
    return CCIIndicator(*_hlc(df), 20).cci() / 100.0


def _vol20(df: pd.DataFrame) -> pd.Series:
    return _log_ret(df).rolling(20).std() * np.sqrt(252.0)


def _dist_sma(k: int) -> Callable[[pd.DataFrame], pd.Series]:
    """Distance of the close from its k-bar simple moving average, as a fraction of the average."""
    return lambda df: df["close"] / SMAIndicator(df["close"], window=k).sma_indicator() - 1.0


def _vol_regime(df: pd.DataFrame) -> pd.Series:
    """log(20-bar volatility / 252-bar volatility): > 0 in a turbulent regime, < 0 in a calm one."""
    r = _log_ret(df)
    return np.log(r.rolling(20).std() / r.rolling(252).std())


def _stoch(df: pd.DataFrame) -> pd.Series:
    return (StochasticOscillator(*_hlc(df), 14).stoch() - 50.0) / 50.0


def _willr(df: pd.DataFrame) -> pd.Series:
    return (WilliamsRIndicator(*_hlc(df), 14).williams_r() + 50.0) / 50.0


INDICATORS: dict[str, Indicator] = {
    "ret_1": Indicator(_roc(1), 1, True, "1-bar simple return (ta ROC)"),
    "ret_5": Indicator(_roc(5), 5, True, "5-bar simple return (ta ROC)"),
    "ret_20": Indicator(_roc(20), 20, True, "20-bar simple return (ta ROC)"),
    "rsi": Indicator(_rsi, 14, False, "RSI(14) -> [-1, 1]"),
    "macd": Indicator(lambda df: _macd(df).macd() / df["close"], 26, True, "MACD(12, 26) line / close"),
    "macd_signal": Indicator(lambda df: _macd(df).macd_signal() / df["close"], 34, True, "MACD signal"),
    "macd_diff": Indicator(lambda df: _macd(df).macd_diff() / df["close"], 34, True, "MACD hist / close"),
    "bb_pctb": Indicator(_bb_pctb, 20, False, "Bollinger %B(20, 2) - 0.5"),
    "bb_width": Indicator(_bb_width, 20, True, "Bollinger band width (fraction of the middle band)"),
    "atr": Indicator(_atr, 14, True, "ATR(14) / close"),
    "adx": Indicator(_adx, 28, True, "ADX(14) / 100 (ta's ADX uses DI up to t-1)"),
    "cci": Indicator(_cci, 20, True, "CCI(20) / 100"),
    "obv": Indicator(_obv_flow, 21, False, "20-bar change of ta OBV / 20-bar volume (in [-1, 1])"),
    "vol_20": Indicator(_vol20, 21, True, "20-bar rolling volatility of log returns, annualised"),
    "volume_z": Indicator(_volume_z, 20, False, "z-score of log1p(volume) over 20 bars"),
    "mom_60": Indicator(_roc(60), 60, True, "60-bar simple return (optional; about a quarter)"),
    "mom_120": Indicator(_roc(120), 120, True, "120-bar simple return (optional; about half a year)"),
    "mom_252": Indicator(_roc(252), 252, True, "252-bar simple return (optional; 12-month momentum)"),
    "dist_sma_200": Indicator(_dist_sma(200), 200, True, "close / SMA(200) - 1 (optional; the trend filter)"),
    "vol_regime": Indicator(_vol_regime, 253, True, "log(vol 20 / vol 252) (optional; volatility regime)"),
    "stoch_k": Indicator(_stoch, 14, False, "Stochastic %K(14) -> [-1, 1] (optional)"),
    "willr": Indicator(_willr, 14, False, "Williams %R(14) -> [-1, 1] (optional)"),
}
