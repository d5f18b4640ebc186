"""The universe decides the model: which shipped strategy `train`/`study` use when only ``--market``
is given.

One asset (the demo, the synthetic signal, one ticker): the built-in default strategy (the
one-asset env). Several (a universe name, ``cached`` with several files, ``'A,B,...'``): the
per-asset portfolio policy (``per_asset`` strategies), whose parameter count does not depend on
the number of members, where a flat MLP's input layer grows with window x members x features.
The choice is announced in one line before any work (`describe_choice`).
"""

from __future__ import annotations

from pathlib import Path

from tradea3c.data.universes import UNIVERSES
from tradea3c.experiment.strategy import StrategyConfig, load_strategy

PER_ASSET_STRATEGY = "per_asset"
"""The shipped per-asset portfolio strategy for any multi-asset market."""
UNIVERSE_STRATEGIES = {"sp500": "sp500_per_asset"}
"""Universes with a shipped strategy of their own (same policy, the universe's market settings)."""


def is_multi_asset(source: str, data_dir: str | Path | None = None) -> bool:
    """Whether ``source`` (a ``market.source``) names several assets: a universe, two or more
    tickers, or ``cached`` when the cache holds several files. Cheap: no prices are read."""
    key = source.strip()
    if key.lower() in UNIVERSES:
        return True
    if key.lower() == "cached":
        from tradea3c.data.cache import resolve_data_dir

        ddir = resolve_data_dir(data_dir)
        return ddir.is_dir() and sum(1 for _ in ddir.glob("*.parquet")) > 1
    return len([t for t in key.replace(" ", ",").split(",") if t]) > 1


def strategy_name_for(source: str | None, data_dir: str | Path | None = None) -> str | None:
    """The shipped strategy for ``source`` when no strategy is named, or None for the built-in
    default (one asset, or no market given)."""
    if source is None or not is_multi_asset(source, data_dir):
        return None
    return UNIVERSE_STRATEGIES.get(source.strip().lower(), PER_ASSET_STRATEGY)


def default_strategy(
    source: str | None, data_dir: str | Path | None = None
) -> tuple[StrategyConfig, str | None]:
    """(the strategy to start from, its name when the market chose it, else None)."""
    name = strategy_name_for(source, data_dir)
    return (StrategyConfig(), None) if name is None else (load_strategy(name), name)


def model_parameters(cfg: StrategyConfig) -> int:
    """Parameters of ``cfg``'s portfolio model. Only for per_asset models, whose count does not
    depend on the number of members: counted on a two-member stand-in, no data read."""
    from tradea3c.a3c.models import BuiltinModelFactory
    from tradea3c.envs.portfolio_env import portfolio_spaces

    env = cfg.portfolio
    spaces = portfolio_spaces(env, 2, len(env.features.names))
    return sum(p.numel() for p in BuiltinModelFactory(cfg.a3c.model, window=env.window)(*spaces).parameters())


def describe_choice(source: str, name: str, cfg: StrategyConfig) -> str:
    """The one line that says which strategy ``--market`` chose and how to choose another."""
    model = cfg.a3c.model
    if model.kind == "per_asset":
        what = f"per-asset policy, {model_parameters(cfg):,} parameters"
    else:
        what = f"{model.kind} model"
    return f"--market {source}: strategy {name} ({what}); --strategy NAME to choose another"
