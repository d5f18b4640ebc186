"""Env configs (frozen dataclasses, loadable from TOML with `tradea3c.config`) and date splits.

One base, `EnvConfig`, holds the fields every env shares and validates them once."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Literal, Self

import numpy as np
import pandas as pd

from tradea3c.data.market import Market
from tradea3c.envs.anchors import Anchor, VolTargetConfig
from tradea3c.envs.execution import CostConfig
from tradea3c.envs.perturb import PerturbConfig
from tradea3c.features.config import FeatureConfig

Split = Literal["train", "val", "test", "all"]

MAX_LATENCY = 252
"""Bars of latency an env accepts at most (a year of daily bars): more is a typo, not a market."""


@dataclass(frozen=True)
class DateSplit:
    """Train = dates <= train_end; val = (train_end, val_end]; test = dates > val_end (ISO dates)."""

    train_end: str
    val_end: str

    def __post_init__(self) -> None:
        if pd.Timestamp(self.train_end) >= pd.Timestamp(self.val_end):
            raise ValueError(f"DateSplit needs train_end < val_end, got {self.train_end} >= {self.val_end}")

    def bounds(self, market: Market, split: Split) -> tuple[int, int]:
        """Inclusive bar range ``(lo, hi)`` of ``split`` in ``market`` (ValueError if empty)."""
        d = market.dates
        te = np.datetime64(pd.Timestamp(self.train_end), "ns")
        ve = np.datetime64(pd.Timestamp(self.val_end), "ns")
        masks = {"train": d <= te, "val": (d > te) & (d <= ve), "test": d > ve, "all": np.ones(len(d), bool)}
        if split not in masks:
            raise ValueError(f"split must be one of {list(masks)}, got {split!r}")
        rows = np.flatnonzero(masks[split])
        if len(rows) == 0:
            raise ValueError(f"split {split!r} of {self} has no bars in {market!r}")
        return int(rows[0]), int(rows[-1])


@dataclass(frozen=True)
class RewardConfig:
    """Per-step reward. All kinds are computed from equity net of costs."""

    kind: Literal["log_return", "dsr", "drawdown", "active", "vol_scaled"] = "log_return"
    """log_return: log(E[t+1]/E[t]); dsr: differential Sharpe ratio (Moody & Saffell) of simple
    returns; drawdown: log return minus risk_aversion * increase of the drawdown from the peak;
    active: log(E[t+1]/E[t]) - log(B[t+1]/B[t]), the log return in excess of the benchmark B (e.g.
    equity 1.00 -> 1.01 while the close goes 100 -> 102: log(1.01) - log(1.02) = -0.00985);
    vol_scaled: log(E[t+1]/E[t]) * min(10, vol_target / sigma_t), the return scaled by the
    asset's (portfolio: the equal-weight basket's) trailing realised volatility known at the
    decision bar (Zhang, Zohren & Roberts 2020), so calm and wild regimes weigh alike."""
    risk_aversion: float = 1.0
    """Drawdown-penalty weight (kind='drawdown' only), per unit of drawdown fraction."""
    dsr_eta: float = 0.01
    """EMA rate of the differential Sharpe ratio's moment estimates (kind='dsr' only)."""
    scale: float = 1.0
    """Multiplier applied to the reward (e.g. 100 to make daily log returns O(1))."""
    benchmark: Literal["asset", "cash"] = "asset"
    """B of kind='active': asset = hold the asset (portfolio: equal-weight basket); cash = 0 = log_return."""
    vol_target: float = 0.15
    """Annualised volatility the vol_scaled reward normalises to (kind='vol_scaled' only)."""
    vol_window: int = 63
    """Daily log returns in the vol_scaled reward's trailing volatility (kind='vol_scaled' only)."""


@dataclass(frozen=True)
class EnvConfig:
    """Fields and validation shared by every market env; ``kind`` names the concrete env.

    Concrete configs: `MarketEnvConfig` (one asset, discrete target weights) and
    `PortfolioEnvConfig` (N assets + cash). A strategy resolves its kind once, when its market is
    known; the resolved config travels as plain data (`env_config_to_dict`) into checkpoints."""

    kind: ClassVar[str] = ""
    window: int = 30
    """Bars of features in each observation."""
    fill: Literal["open", "close"] = "open"
    """Orders decided at the close of t fill at the open (or the close) of t + 1 (+ latency)."""
    latency: int = 0
    """Extra bars between decision and fill (perturb.latency_prob may add one per episode)."""
    episode_length: int = 256
    """Steps per episode; 0 = from the start to the end of the split."""
    initial_equity: float = 1.0
    ruin_floor: float = 0.5
    """Episode terminates when equity < ruin_floor * initial_equity."""
    features: FeatureConfig = field(default_factory=FeatureConfig)
    costs: CostConfig = field(default_factory=CostConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    perturb: PerturbConfig = field(default_factory=PerturbConfig)

    def __post_init__(self) -> None:
        if self.window < 1 or self.episode_length < 0 or self.latency < 0:
            raise ValueError("need window >= 1, episode_length >= 0, latency >= 0")
        if self.latency > MAX_LATENCY or 0 < self.episode_length <= self.latency:
            raise ValueError(
                f"latency {self.latency} bars is longer than an episode (episode_length "
                f"{self.episode_length}; at most {MAX_LATENCY} bars): no order would fill; use a "
                f"latency below episode_length and at most {MAX_LATENCY} (0 = fill at the next bar)"
            )
        if not 0 <= self.ruin_floor < 1 or self.initial_equity <= 0:
            raise ValueError("need 0 <= ruin_floor < 1 and initial_equity > 0")

    def for_evaluation(self) -> Self:
        """The unperturbed env that scores a policy (validation, backtests): the whole range in one
        episode from a fixed start, plain log-return reward, the config's own costs, no ruin stop."""
        return replace(
            self,
            perturb=PerturbConfig(random_start=False),
            episode_length=0,
            reward=RewardConfig(),
            ruin_floor=0.0,
        )


@dataclass(frozen=True)
class MarketEnvConfig(EnvConfig):
    """One-asset env. Positions are target weights of equity (-1 = fully short, 1 = fully long)."""

    kind: ClassVar[str] = "market"
    positions: tuple[float, ...] = (0.0, 1.0)
    """Discrete action i -> target weight positions[i]; (-1, 0, 1) allows shorting. With an
    ``anchor``, action i is a *tilt*: target = clip(anchor exposure + positions[i], exposure_range)."""
    anchor: Anchor = "none"
    """Benchmark the actions tilt around (`tradea3c.envs.anchors`): "none" (positions are the
    targets), "buy_and_hold" (exposure 1) or "vol_target" (volatility-targeted buy-and-hold,
    ``vol_target``). Anchored, the zero tilt (which positions must contain) trades exactly like
    the anchor, and the model starts there (`anchor_action`)."""
    exposure_range: tuple[float, float] = (0.0, 1.0)
    """Anchored only: the lowest and highest exposure a tilt may reach (0..1 = long/flat)."""
    vol_target: VolTargetConfig = field(default_factory=VolTargetConfig)
    """The rule of ``anchor = "vol_target"`` (and of the vol-targeted baseline)."""
    max_leverage: float = 1.0
    """Largest |target weight| allowed in ``positions`` and ``exposure_range`` (1 = no leverage:
    fully long or fully short). Above 1 the account borrows: a 2% move against a 50x position wipes
    it out, and a backtest then reports the ruin. Raise it only on purpose (e.g. 2.0 for 2x)."""
    flat_at_close: bool = False
    """Intraday bars only (a no-op on daily ones): the position is forced to 0 at the last bar of
    each session, so nothing is held overnight. A decision whose fill bar (next bar + latency) is a
    session's last bar targets 0 whatever the action (anchored or not; `info["target"]` says 0):
    with ``fill = "open"`` the position is closed at that bar's open, with "close" at its close."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if len(self.positions) < 2:
            raise ValueError("positions needs at least two target weights, e.g. (0.0, 1.0)")
        if not math.isfinite(self.max_leverage) or self.max_leverage <= 0:
            raise ValueError(f"max_leverage {self.max_leverage}: use a finite number > 0 (1.0 = no leverage)")
        lev = self.max_leverage
        wide = [p for p in (*self.positions, *self.exposure_range) if not abs(p) <= lev]  # NaN too
        if wide:
            raise ValueError(
                f"positions {list(self.positions)} (exposure_range {list(self.exposure_range)}) hold "
                f"{wide[0]:g}, beyond max_leverage {lev:g}: target weights are fractions of equity in "
                f"[-{lev:g}, {lev:g}]; use weights like [-1.0, 0.0, 1.0], or set env.max_leverage = "
                f"{max(abs(p) for p in wide):g} to trade with leverage on purpose"
            )
        lo, hi = self.exposure_range
        if lo > hi:
            raise ValueError(f"exposure_range needs low <= high, got {self.exposure_range}")
        if self.anchor != "none" and 0.0 not in self.positions:
            raise ValueError(
                f"anchor {self.anchor!r} reads positions as tilts and needs the zero tilt (hold the "
                f"anchor) among them, e.g. positions = [-1.0, -0.5, 0.0]; got {list(self.positions)}"
            )

    @property
    def anchor_action(self) -> int | None:
        """Index of the zero tilt (the action that holds the anchor); None without an anchor."""
        return None if self.anchor == "none" else self.positions.index(0.0)

    @property
    def exposure_bounds(self) -> tuple[float, float]:
        """Lowest and highest exposure the env can hold."""
        if self.anchor == "none":
            return min(self.positions), max(self.positions)
        return self.exposure_range


def flat_bars(cfg: EnvConfig, market: Market) -> np.ndarray | None:
    """``market.session_last`` (bool per bar: a session's last bar) when ``cfg.flat_at_close`` applies
    (a one-asset config on intraday bars); None otherwise (nothing forced)."""
    if getattr(cfg, "flat_at_close", False) and market.intraday:
        return market.session_last
    return None


@dataclass(frozen=True)
class PortfolioEnvConfig(EnvConfig):
    """N assets plus cash, rebalanced to target weights every step (costs on turnover)."""

    kind: ClassVar[str] = "portfolio"
    action: Literal["continuous", "simplex", "discrete"] = "continuous"
    """continuous: Box(-1, 1, n+1) logits -> softmax simplex over (cash, assets...); simplex: Box(0, 1, n+1)
    weights normalised to sum 1 (for a Dirichlet policy); discrete: Discrete(n+1), 0 = all cash,
    i = all in asset i."""
    anchor: Literal["none", "equal_weight"] = "none"
    """equal_weight: the per_asset model's scores tilt the log equal weights of the listed assets
    (2% stays in cash), so the untrained policy holds equal weight (rebalanced every step) and
    learning only adds tilts (``tradea3c.a3c.models.per_asset``); needs action = "simplex"."""
    anchor_concentration: float = 500.0
    """Total Dirichlet concentration of the anchored policy: higher = samples nearer the anchor."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.anchor != "none" and self.action != "simplex":
            raise ValueError(
                f"portfolio anchor {self.anchor!r} needs action = 'simplex', got {self.action!r}"
            )
        if self.anchor_concentration <= 0:
            raise ValueError("anchor_concentration must be > 0")


ENV_CONFIGS: dict[str, type[EnvConfig]] = {c.kind: c for c in (MarketEnvConfig, PortfolioEnvConfig)}


def env_config_to_dict(cfg: EnvConfig) -> dict[str, Any]:
    """Plain data with the kind first: what checkpoints store to rebuild the env without a strategy."""
    from tradea3c.config import to_dict

    return {"kind": cfg.kind, **to_dict(cfg)}


def env_config_from_dict(data: dict[str, Any]) -> EnvConfig:
    """Inverse of `env_config_to_dict` (strict: unknown kinds and keys are errors)."""
    from tradea3c.config import ConfigError, from_dict

    body = dict(data)
    kind = body.pop("kind", None)
    if kind not in ENV_CONFIGS:
        raise ConfigError(f"env config kind {kind!r} is not one of {sorted(ENV_CONFIGS)}")
    return from_dict(ENV_CONFIGS[kind], body, where="env")
