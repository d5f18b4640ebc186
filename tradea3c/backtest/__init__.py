"""Backtests: replay policies through the envs' execution model, metrics, reports."""

from tradea3c.backtest.metrics import (
    annual_volatility,
    max_drawdown,
    returns_from_equity,
    sharpe_ratio,
    total_return,
)

__all__ = ["annual_volatility", "max_drawdown", "returns_from_equity", "sharpe_ratio", "total_return"]
