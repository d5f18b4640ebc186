"""Worker profiles: TOML files under ``strategies/profiles`` (shipped in the package, or the user's).

A profile = price/episode perturbations + reward/risk settings + cost level (+ optional horizon
and position range). Worker ``i`` trades profile ``i mod P`` with seed ``base_seed + i``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from tradea3c import resources
from tradea3c.config import load_toml
from tradea3c.envs.config import EnvConfig, MarketEnvConfig, RewardConfig
from tradea3c.envs.execution import CostConfig
from tradea3c.envs.perturb import PerturbConfig

C = TypeVar("C", bound=EnvConfig)


@dataclass(frozen=True)
class WorkerProfile:
    name: str
    description: str = ""
    perturb: PerturbConfig = field(default_factory=PerturbConfig)
    reward: RewardConfig = field(default_factory=RewardConfig)
    costs: CostConfig = field(default_factory=CostConfig)
    episode_length: int = 0
    """Steps per episode; 0 keeps the env config's."""
    positions: tuple[float, ...] = ()
    """Range of target weights this profile may hold (its min and max); empty keeps the env's."""

    def apply(self, cfg: C) -> C:
        """``cfg`` with this profile's perturbations, reward, costs and horizon.

        All workers share one network, hence one action space: the env's ``positions`` stay the
        action set, and the profile's ``positions`` only bound the range it may hold (a long-only
        profile turns "short" into "flat"), so a risk profile restricts behaviour without changing
        the policy head. An anchored env's positions are tilts: the profile bounds its
        ``exposure_range`` instead."""
        cfg = replace(cfg, perturb=self.perturb, reward=self.reward, costs=self.costs)
        if self.episode_length:
            cfg = replace(cfg, episode_length=self.episode_length)
        if isinstance(cfg, MarketEnvConfig) and self.positions:
            lo, hi = min(self.positions), max(self.positions)
            if cfg.anchor != "none":  # tilts stay tilts; the exposures they reach are bounded
                elo, ehi = cfg.exposure_range
                cfg = replace(cfg, exposure_range=(max(elo, lo), max(min(ehi, hi), max(elo, lo))))
            else:
                cfg = replace(cfg, positions=tuple(min(max(p, lo), hi) for p in cfg.positions))
        return cfg


def load_profile(name: str | Path) -> WorkerProfile:
    """A profile by name (user's ``strategies/profiles`` first, then shipped) or by path."""
    return load_toml(WorkerProfile, resources.find_toml("profiles", str(name)))


def load_profiles(directory: str | Path | None = None) -> list[WorkerProfile]:
    """Every ``*.toml`` profile in ``directory`` (default: the available profiles), sorted by name."""
    files = sorted(Path(directory).glob("*.toml")) if directory is not None else resources.listing("profiles")
    if not files:
        raise FileNotFoundError(f"no worker profiles (*.toml) in {directory}")
    return [load_toml(WorkerProfile, f) for f in files]


def profile_for_worker(
    profiles: Sequence[WorkerProfile], worker: int, base_seed: int = 0
) -> tuple[WorkerProfile, int]:
    """Worker ``i`` gets profile ``i mod P`` and seed ``base_seed + i``."""
    if not profiles:
        raise ValueError("need at least one profile")
    return profiles[worker % len(profiles)], base_seed + worker
