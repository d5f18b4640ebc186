"""The package's shape: import contracts, a light registering `import tradea3c`, one env config,
shipped strategies found through package data with the user's folder first."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tradea3c.config import ConfigError
from tradea3c.envs.config import (
    MarketEnvConfig,
    PortfolioEnvConfig,
    RewardConfig,
    env_config_from_dict,
    env_config_to_dict,
)
from tradea3c.envs.perturb import PerturbConfig

ROOT = Path(__file__).resolve().parents[1]


def test_import_contracts_hold() -> None:
    """The layers and the engine's independence from market code (pyproject's import-linter contracts)."""
    exe = Path(sys.executable).with_name("lint-imports")
    if not exe.exists():
        pytest.skip("import-linter not installed (pip install -e '.[dev]')")
    res = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stdout[-3000:]
    assert "0 broken" in res.stdout or "broken" not in res.stdout.split("Contracts:")[-1]


def test_import_tradea3c_registers_the_envs_and_stays_light() -> None:
    code = (
        "import sys, json, tradea3c, gymnasium as gym\n"
        "heavy = [m for m in ('torch', 'pandas', 'tradea3c.envs', 'tradea3c.data') if m in sys.modules]\n"
        "env = gym.make('tradea3c/Market-v0')\n"
        "obs, _ = env.reset(seed=0)\n"
        "print(json.dumps({'heavy': heavy, 'obs': list(obs.shape), 'market': tradea3c.Market.__name__}))\n"
    )
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out["heavy"] == [] and out["obs"][0] > 0 and out["market"] == "Market"


def test_env_configs_share_one_base_and_round_trip_as_plain_data() -> None:
    for cfg in (
        MarketEnvConfig(positions=(0.0, 0.5, 1.0), reward=RewardConfig(kind="dsr")),
        PortfolioEnvConfig(action="simplex", window=10),
    ):
        data = env_config_to_dict(cfg)
        assert data["kind"] == cfg.kind and json.loads(json.dumps(data)) == data
        assert env_config_from_dict(data) == cfg
    for bad in (dict(window=0), dict(ruin_floor=1.5), dict(latency=-1)):  # one validation, both kinds
        with pytest.raises(ValueError):
            MarketEnvConfig(**bad)
        with pytest.raises(ValueError):
            PortfolioEnvConfig(**bad)
    with pytest.raises(ConfigError, match="kind"):
        env_config_from_dict({"kind": "futures", "window": 3})
    with pytest.raises(ConfigError, match="did you mean 'window'"):
        env_config_from_dict({"kind": "market", "windw": 3})


def test_evaluation_config_is_unperturbed_whole_range() -> None:
    cfg = PortfolioEnvConfig(episode_length=64, perturb=PerturbConfig(price_noise=0.01), ruin_floor=0.3)
    ev = cfg.for_evaluation()
    assert type(ev) is PortfolioEnvConfig and ev.episode_length == 0 and ev.ruin_floor == 0.0
    assert ev.perturb == PerturbConfig(random_start=False) and ev.reward == RewardConfig()
    assert ev.costs == cfg.costs and ev.window == cfg.window


def test_one_way_to_apply_a_profile() -> None:
    from tradea3c.envs.profiles import load_profile

    conservative = load_profile("conservative")  # long-only: bounds the range, keeps the action set
    market = conservative.apply(MarketEnvConfig(positions=(-1.0, 0.0, 1.0)))
    assert market.positions == (0.0, 0.0, 1.0) and market.costs == conservative.costs
    portfolio = conservative.apply(PortfolioEnvConfig())
    assert type(portfolio) is PortfolioEnvConfig and portfolio.reward == conservative.reward
    assert portfolio.episode_length == conservative.episode_length


def test_user_strategies_folder_wins_over_the_shipped_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tradea3c.backtest.baselines import load_rules
    from tradea3c.envs.profiles import load_profile
    from tradea3c.experiment import load_strategy
    from tradea3c.resources import shipped_dir

    shipped = load_strategy("signal")
    own = tmp_path / "strategies"
    (own / "profiles").mkdir(parents=True)
    (own / "rules").mkdir()
    text = (shipped_dir() / "signal.toml").read_text()
    (own / "signal.toml").write_text(text.replace('name = "signal"', 'name = "mine"'))
    (own / "profiles" / "conservative.toml").write_text('name = "my-conservative"\n')
    (own / "rules" / "sma_fast.toml").write_text('name = "sma_10_30"\nfast = 10\nslow = 30\n')
    monkeypatch.chdir(tmp_path)
    assert load_strategy("signal").name == "mine"
    assert load_strategy("default").name == "default"  # not overridden: the shipped one
    assert load_profile("conservative").name == "my-conservative"
    assert {"sma_50_200", "ts_mom_252", "sma_10_30"} <= {r.name for r in load_rules()}
    assert load_strategy(own / "signal.toml") == replace(shipped, name="mine")
    with pytest.raises(FileNotFoundError, match="use one of"):
        load_strategy("nosuchstrategy")


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_no_strategy_file_is_read_from_outside_the_package() -> None:
    """Package code finds shipped data only through importlib.resources (wheel installs work)."""
    res = subprocess.run(
        ["git", "grep", "-n", "-E", r"parents\[[0-9]\]", "--", "tradea3c"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert res.stdout == "", res.stdout


def test_example_user_strategies_load() -> None:
    from tradea3c.experiment import load_strategy

    examples = sorted((ROOT / "strategies").glob("*.toml"))
    assert examples
    for path in examples:
        cfg = load_strategy(path)
        assert cfg.name == path.stem and cfg.worker_profiles()
