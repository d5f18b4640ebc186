"""Worker profiles (TOML under ``strategies/profiles``).

A profile = price/episode perturbations + reward/risk settings + cost level (+ optional horizon
and position set). Worker ``i`` trades profile ``i mod P`` with seed ``base_seed + i``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from tradea3c.config import load_toml
from tradea3c.envs.config import MarketEnvConfig, RewardConfig
from tradea3c.envs.execution import CostConfig
from tradea3c.envs.perturb import PerturbConfig

PROFILES_DIR = Path(__file__).resolve().parents[2] / "strategies" / "profiles"


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
    """Target weights of the discrete actions; empty keeps the env config's."""

    def apply(self, cfg: MarketEnvConfig | None = None) -> MarketEnvConfig:
        """``cfg`` with this profile's perturbations, reward, costs (and horizon/positions)."""
        cfg = replace(cfg or MarketEnvConfig(), perturb=self.perturb, reward=self.reward, costs=self.costs)
        if self.episode_length:
            cfg = replace(cfg, episode_length=self.episode_length)
        if self.positions:
            cfg = replace(cfg, positions=self.positions)
        return cfg


def load_profile(path: str | Path) -> WorkerProfile:
    return load_toml(WorkerProfile, path)


def load_profiles(directory: str | Path | None = None) -> list[WorkerProfile]:
    """Every ``*.toml`` profile in ``directory`` (default: strategies/profiles), sorted by file name."""
    d = Path(directory) if directory is not None else PROFILES_DIR
    files = sorted(d.glob("*.toml"))
    if not files:
        raise FileNotFoundError(f"no worker profiles (*.toml) in {d}")
    return [load_profile(f) for f in files]


def profile_for_worker(
    profiles: Sequence[WorkerProfile], worker: int, base_seed: int = 0
) -> tuple[WorkerProfile, int]:
    """Worker ``i`` gets profile ``i mod P`` and seed ``base_seed + i``."""
    if not profiles:
        raise ValueError("need at least one profile")
    return profiles[worker % len(profiles)], base_seed + worker
