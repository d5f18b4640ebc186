"""`StrategyConfig`: one whole experiment (market, dates, features, env, costs, worker profiles,
A3C hyper-parameters) as a frozen dataclass, written as TOML (shipped ones: `tradea3c/strategies/`)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Literal

import pandas as pd

from tradea3c import resources
from tradea3c.a3c.config import A3CConfig, ModelConfig
from tradea3c.a3c.models import BuiltinModelFactory
from tradea3c.config import ConfigError, load_toml
from tradea3c.data.market import Market
from tradea3c.data.spec import MarketSpec
from tradea3c.envs.config import DateSplit, EnvConfig, MarketEnvConfig, PortfolioEnvConfig
from tradea3c.envs.profiles import WorkerProfile, load_profile

MAX_ENVS_PER_WORKER = 4096
"""K above this is refused: each replay keeps its own episode state and the update batches all of
them (t_max x K rows a push); past a few hundred K buys no speed (docs/results/learn.md)."""


def check_envs_per_worker(k: int, flag: str = "envs_per_worker") -> None:
    """ValueError (one line naming ``flag`` and the fix) for K < 1 or K > `MAX_ENVS_PER_WORKER`."""
    if k < 1:
        raise ValueError(f"{flag} {k}: each worker needs >= 1 replay (1 = classic A3C; default 16)")
    if k > MAX_ENVS_PER_WORKER:
        raise ValueError(
            f"{flag} {k}: at most {MAX_ENVS_PER_WORKER} replays per worker (each keeps its own episode "
            "state and every update batches them all; more than a few hundred buys no speed); use "
            "16-256, or more workers"
        )


@dataclass(frozen=True)
class SplitSpec:
    """Train / validation / test date ranges. Unset dates default to 70% / 15% / 15% of the bars."""

    train_end: str | None = None
    """Last training date (ISO)."""
    val_end: str | None = None
    """Last validation date (ISO); later bars are the out-of-sample test range."""

    def resolve(self, market: Market) -> DateSplit:
        def at(frac: float) -> str:
            return str(pd.Timestamp(market.dates[int(frac * (market.n_bars - 1))]).date())

        return DateSplit(self.train_end or at(0.70), self.val_end or at(0.85))


@dataclass(frozen=True)
class TuningInfo:
    """Where a tuned strategy came from (`tradea3c tune` writes it into ``best.toml``). It changes
    nothing in training; a backtest or study of a run trained from it deflates its Sharpe by
    ``trials`` when no trial count is given."""

    trials: int = 0
    """Configurations the search tried, pruned and failed ones included: the N of the deflated Sharpe."""
    study: str = ""
    """The Optuna study's name (in ``storage``)."""
    storage: str = ""
    """The search's storage URL (``sqlite:///DIR/tune.sqlite``; ``optuna-dashboard`` reads it)."""
    trial: int = -1
    """The trial this configuration is (its run: ``DIR/trials/trial-NNNN``); -1 if unknown."""
    value: float | None = None
    """That trial's best validation Sharpe (the search's objective; never the test range)."""

    def __post_init__(self) -> None:
        if self.trials < 0:
            raise ValueError(f"tuning.trials {self.trials}: the number of configurations tried is >= 0")


@dataclass(frozen=True)
class StrategyConfig:
    """A whole experiment. Every field has a default, so an empty file (or no file) is the demo run."""

    name: str = "default"
    """Label used in run names and reports: letters, digits, ".", "_", "-" (it becomes a folder name
    under runs/, so no path separators)."""
    market: MarketSpec = field(default_factory=MarketSpec)
    split: SplitSpec = field(default_factory=SplitSpec)
    env_kind: Literal["auto", "market", "portfolio"] = "auto"
    """"market": one asset, discrete positions; "portfolio": N assets + cash, simplex weights;
    "auto": market for one ticker, portfolio for several."""
    env: MarketEnvConfig = field(
        default_factory=lambda: MarketEnvConfig(positions=(-1.0, -0.5, 0.0), anchor="buy_and_hold")
    )
    """One-asset env (window, positions, fill, features, costs, reward...). Its positions are the
    action set every worker shares; a profile can only narrow the range (e.g. long-only). The
    default is anchored to buy-and-hold: the actions are tilts (-1, -0.5, 0) of a full position, so
    the untrained agent holds the asset and has to earn every step aside (docs/results/djia30.md:
    on the development protocol the unanchored long/flat agent fell more than 0.25 Sharpe below
    buy-and-hold on 4 of 24 tickers). ``anchor = "none"`` with ``positions = [0.0, 0.5, 1.0]`` is
    the previous long/flat default; ``[-1.0, 0.0, 1.0]`` opts into shorting."""
    portfolio: PortfolioEnvConfig = field(
        default_factory=lambda: PortfolioEnvConfig(action="simplex", window=10)
    )
    """Multi-asset env."""
    profiles: tuple[str, ...] = ("aggressive", "conservative", "volatility")
    """Worker profiles: names (strategies/profiles/NAME.toml, the user's or shipped) or paths;
    worker i gets profile i mod P.
    Empty = every worker trades the env config as is (with its own seed)."""
    envs_per_worker: int = 16
    """K: perturbed replays each worker steps in one native vector env (1 = classic A3C). The
    default, with ``a3c.t_max = 5``, is the configuration that reached the planted signal and
    CartPole fastest in wall-clock time (`tradea3c bench learn`, docs/results/learn.md)."""
    a3c: A3CConfig = field(
        default_factory=lambda: A3CConfig(total_steps=1_000_000, t_max=5, lr=3e-4, eval_every=50_000)
    )
    """Engine hyper-parameters (workers, steps, t_max, gamma, lr, optimiser, model...)."""
    tuning: TuningInfo | None = None
    """Set by `tradea3c tune` in the best configuration it writes (trial count, study, storage);
    None for a hand-written strategy."""

    def __post_init__(self) -> None:
        check_envs_per_worker(self.envs_per_worker)
        from tradea3c.data.intraday import INTERVALS

        if self.market.interval not in INTERVALS:
            raise ValueError(
                f"market.interval {self.market.interval!r} is not supported; use one of "
                f"{', '.join(INTERVALS)}"
            )
        positions = self.env.positions
        repeated = sorted({p for p in positions if positions.count(p) > 1})
        if repeated:  # (a profile may map two onto one, e.g. long-only; the strategy's own may not)
            raise ValueError(
                f"env.positions {list(positions)} repeat {', '.join(f'{p:g}' for p in repeated)}: each "
                "action needs its own target weight; drop the duplicates"
            )
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}", self.name):
            raise ValueError(
                f"name {self.name!r} is not a safe run-folder name: use letters, digits, '.', '_' and '-' "
                "(no path separators), starting with a letter or digit"
            )

    def env_config(self, market: Market) -> EnvConfig:
        """The env config this strategy trades on ``market``: its kind resolved once, here
        ("auto" = the one-asset env for one ticker, the portfolio env for several)."""
        kind = self.env_kind
        if kind == "auto":
            kind = "market" if market.n_assets == 1 else "portfolio"
        return self.env if kind == "market" else self.portfolio

    def model_factory(self, market: Market) -> BuiltinModelFactory:
        """The factory of ``a3c.model`` for the env this strategy trades on ``market``. The
        per-asset model reads each asset's window of features, so it gets the env's window here
        (one source of truth: ``portfolio.window``); it needs the portfolio env with simplex or
        discrete actions (one-line `ConfigError` otherwise). An anchored env passes its anchor to
        the model here (the benchmark action, or the portfolio's anchor concentration)."""
        env = self.env_config(market)
        model = self.a3c.model
        if isinstance(env, MarketEnvConfig) and env.anchor_action is not None:
            model = replace(model, anchor_action=env.anchor_action)
        if isinstance(env, PortfolioEnvConfig) and env.anchor == "equal_weight":
            model = replace(model, anchor_concentration=env.anchor_concentration)
        anchored = model.anchor_action >= 0 or model.anchor_concentration > 0
        if self.a3c.prior == "benchmark" and self.a3c.kl_coef > 0 and not anchored:
            raise ConfigError(
                "a3c.prior = 'benchmark' needs an anchored env: set env.anchor (one asset) or "
                "portfolio.anchor = 'equal_weight' (per_asset model), or use prior = 'uniform'",
                "a3c.prior",
            )
        if model.kind != "per_asset":
            if isinstance(env, PortfolioEnvConfig):
                check_flat_input(model, env, market.n_assets)
            if model.anchor_concentration > 0:
                raise ConfigError(
                    "portfolio.anchor = 'equal_weight' needs a3c.model.kind = 'per_asset'",
                    "portfolio.anchor",
                )
            return BuiltinModelFactory(model)
        if not isinstance(env, PortfolioEnvConfig):
            raise ConfigError(
                "a3c.model.kind = 'per_asset' needs the portfolio env (several tickers or "
                "env_kind = 'portfolio'), not the one-asset env",
                "a3c.model.kind",
            )
        if env.action == "continuous":
            raise ConfigError(
                "a3c.model.kind = 'per_asset' needs portfolio.action = 'simplex' or 'discrete', "
                "not 'continuous'",
                "portfolio.action",
            )
        return BuiltinModelFactory(model, window=env.window)

    def worker_profiles(self) -> tuple[WorkerProfile, ...]:
        return tuple(load_profile(name) for name in self.profiles)


def check_flat_input(model: ModelConfig, env: PortfolioEnvConfig, n_assets: int) -> None:
    """`ConfigError` when a flat model's input (window x members x features) is wider than
    ``model.max_flat_input``: its first layer would grow with the universe; the per-asset policy's
    does not."""
    width = env.window * n_assets * len(env.features.names)
    if model.max_flat_input and width > model.max_flat_input:
        raise ConfigError(
            f"a3c.model.kind = {model.kind!r} on {n_assets} assets reads {width:,} inputs "
            f"(window {env.window} x {n_assets} members x {len(env.features.names)} features; limit "
            f"a3c.model.max_flat_input = {model.max_flat_input:,}): use --strategy per_asset (the "
            "per-asset policy) or --set a3c.model.max_flat_input=0 to train it anyway",
            "a3c.model.kind",
        )


def load_strategy(name: str | Path) -> StrategyConfig:
    """A strategy by path or by name (the user's ``strategies/NAME.toml`` first, then the shipped
    one); unknown keys fail with a did-you-mean hint."""
    return load_toml(StrategyConfig, resources.find_toml("", str(name)))


def shipped_strategies() -> list[Path]:
    """The strategy files that ship inside the package (each is loaded by a test)."""
    return sorted(resources.shipped_dir().glob("*.toml"))
