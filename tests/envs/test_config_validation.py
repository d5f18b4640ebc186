"""`MarketEnvConfig` refuses what would silently ruin a run: leverage nobody asked for (positions
outside [-1, 1] without ``max_leverage``), repeated positions, a latency longer than any episode."""

from __future__ import annotations

import pytest

from tradea3c.config import ConfigError, apply_overrides
from tradea3c.envs.config import MarketEnvConfig
from tradea3c.experiment import StrategyConfig


@pytest.mark.parametrize("positions", [(0.0, 50.0), (-1.5, 0.0), (0.0, float("nan"))])
def test_positions_outside_one_need_max_leverage(positions: tuple[float, ...]) -> None:
    with pytest.raises(ValueError, match="max_leverage"):
        MarketEnvConfig(positions=positions)


def test_max_leverage_allows_leveraged_positions() -> None:
    cfg = MarketEnvConfig(positions=(0.0, 50.0), max_leverage=50.0)
    assert cfg.exposure_bounds == (0.0, 50.0)
    with pytest.raises(ValueError, match="max_leverage 2"):
        MarketEnvConfig(positions=(0.0, 3.0), max_leverage=2.0)
    with pytest.raises(ValueError, match="max_leverage"):
        MarketEnvConfig(max_leverage=0.0)
    with pytest.raises(ValueError, match="max_leverage"):
        MarketEnvConfig(anchor="buy_and_hold", positions=(-1.0, 0.0), exposure_range=(0.0, 3.0))


def test_the_strategy_override_names_the_key_and_the_fix() -> None:
    with pytest.raises(ConfigError) as err:
        apply_overrides(StrategyConfig(), ["env.positions=[0, 50]", "env.anchor='none'"])
    msg = str(err.value)
    assert "env.max_leverage" in msg and "50" in msg and "\n" not in msg


def test_duplicate_positions_are_refused() -> None:
    with pytest.raises(ConfigError, match=r"env.positions \[0.5, 0.5\] repeat 0.5"):
        apply_overrides(StrategyConfig(), ["env.positions=[0.5, 0.5]", "env.anchor='none'"])
    MarketEnvConfig(positions=(0.0, 0.0, 1.0))  # what a long-only profile makes of (-1, 0, 1)


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"latency": 100000}, "at most 252"),
    ({"latency": 40, "episode_length": 30}, "episode_length 30"),
])  # fmt: skip
def test_latency_longer_than_an_episode_is_refused(kwargs: dict[str, int], needle: str) -> None:
    with pytest.raises(ValueError, match=needle):
        MarketEnvConfig(**kwargs)
    MarketEnvConfig(latency=5)
