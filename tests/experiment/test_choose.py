"""The universe decides the model: ``--market`` with several assets and no ``--strategy`` picks the
per-asset policy and says so in one line; a flat MLP whose input grows past the limit is refused."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from tradea3c.a3c.models import BuiltinModelFactory
from tradea3c.cli import app
from tradea3c.config import ConfigError
from tradea3c.data.cache import write_ticker
from tradea3c.data.spec import load_market_spec
from tradea3c.data.synthetic import changing_universe, changing_universe_frames
from tradea3c.envs.portfolio_env import portfolio_spaces
from tradea3c.experiment import StrategyConfig, load_strategy
from tradea3c.experiment.choose import (
    default_strategy,
    describe_choice,
    is_multi_asset,
    model_parameters,
    strategy_name_for,
)

runner = CliRunner()


def _cache(tmp_path: Path, n: int) -> Path:
    cache = tmp_path / "cache"
    for t, frame in list(
        changing_universe_frames(n, 700, late=0, delisted=0, halts=0, placeholders=0).items()
    ):
        write_ticker(cache, t, frame, source="synthetic", adjusted=True)
    return cache


@pytest.mark.parametrize(
    ("source", "name"),
    [
        ("sp500", "sp500_per_asset"),
        ("dow30", "per_asset"),
        ("NASDAQ100", "per_asset"),
        ("AAPL,MSFT", "per_asset"),
        ("AAPL MSFT IBM", "per_asset"),
        ("AAPL", None),
        ("demo", None),
        ("signal", None),
        (None, None),
    ],
)
def test_the_market_names_the_strategy(source: str | None, name: str | None) -> None:
    assert strategy_name_for(source) == name
    cfg, chosen = default_strategy(source)
    assert chosen == name
    assert cfg == (StrategyConfig() if name is None else load_strategy(name))
    if name is not None:
        assert cfg.a3c.model.kind == "per_asset" and cfg.env_kind == "portfolio"


def test_cached_counts_the_files(tmp_path: Path) -> None:
    assert not is_multi_asset("cached", tmp_path / "nothing")
    one = _cache(tmp_path / "one", 1)
    assert not is_multi_asset("cached", one) and strategy_name_for("cached", one) is None
    three = _cache(tmp_path / "three", 3)
    assert is_multi_asset("cached", three) and strategy_name_for("cached", three) == "per_asset"


def test_the_line_counts_the_parameters_the_model_has_on_any_universe() -> None:
    cfg = load_strategy("sp500_per_asset")
    env = cfg.portfolio
    factory = BuiltinModelFactory(cfg.a3c.model, window=env.window)
    for n in (3, 500):  # the per-asset count does not depend on the number of members
        spaces = portfolio_spaces(env, n, len(env.features.names))
        assert sum(p.numel() for p in factory(*spaces).parameters()) == model_parameters(cfg)
    line = describe_choice("sp500", "sp500_per_asset", cfg)
    assert line == (
        f"--market sp500: strategy sp500_per_asset (per-asset policy, {model_parameters(cfg):,} "
        "parameters); --strategy NAME to choose another"
    )


def test_a_flat_model_too_wide_for_the_universe_is_refused_unless_asked_for() -> None:
    market = changing_universe(40, 400)
    cfg = replace(StrategyConfig(), env_kind="portfolio")
    width = cfg.portfolio.window * 40 * len(cfg.portfolio.features.names)
    cfg.model_factory(market)  # under the default limit
    tight = replace(cfg, a3c=replace(cfg.a3c, model=replace(cfg.a3c.model, max_flat_input=width - 1)))
    with pytest.raises(ConfigError, match=r"reads [\d,]+ inputs .*use --strategy per_asset") as err:
        tight.model_factory(market)
    assert f"{width:,} inputs" in str(err.value) and "\n" not in str(err.value)
    lifted = replace(cfg, a3c=replace(cfg.a3c, model=replace(cfg.a3c.model, max_flat_input=0)))
    lifted.model_factory(market)  # asked for explicitly
    load_strategy("per_asset").model_factory(market)  # never refused: its input is one member


def test_train_on_a_universe_announces_the_per_asset_strategy_before_training(tmp_path: Path) -> None:
    cache = _cache(tmp_path, 3)
    out = tmp_path / "run"
    members = tmp_path / "members.csv"  # U2 joins the index half-way: point-in-time membership
    members.write_text("ticker,start,end\nU0,2000-01-01,\nU1,2000-01-01,\nU2,2011-06-01,\n")
    res = runner.invoke(
        app,
        ["train", "--market", "cached", "--data-dir", str(cache), "--steps", "640", "--workers", "1",
         "--quiet", "--out", str(out), "--set", "a3c.eval_every=640", "--set", "portfolio.episode_length=60",
         "--set", "market.min_history=0", "--membership", str(members), "--on-exit", "hold"],
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    first = res.stderr.strip().splitlines()[0]
    assert first.startswith("--market cached: strategy per_asset (per-asset policy, ")
    saved = load_strategy(out / "strategy.toml")
    assert saved.a3c.model.kind == "per_asset"
    assert (saved.market.membership, saved.market.on_exit) == (str(members), "hold")
    market = load_market_spec(saved.market)
    assert market.tradable is not None
    u2 = market.tickers.index("U2")
    joined = market.dates >= np.datetime64("2011-06-01")
    assert not market.tradable[~joined, u2].any() and market.tradable[joined, u2].all()


def test_train_refuses_a_huge_flat_mlp_in_one_line(tmp_path: Path) -> None:
    cache = _cache(tmp_path, 3)
    res = runner.invoke(
        app,
        ["train", "--strategy", "default", "--market", "cached", "--data-dir", str(cache), "--quiet",
         "--out", str(tmp_path / "run"), "--set", "a3c.model.max_flat_input=100"],
    )  # fmt: skip
    assert res.exit_code == 2
    (line,) = res.output.strip().splitlines()
    assert line.startswith("error: a3c.model.kind = 'mlp' on 3 assets reads ") and "per_asset" in line
    assert not (tmp_path / "run").exists()  # refused before anything is written


def test_the_python_verbs_choose_as_the_cli_does(caplog: pytest.LogCaptureFixture) -> None:
    from tradea3c._verbs import _strategy

    with caplog.at_level("INFO", logger="tradea3c._verbs"):
        cfg = _strategy(None, [], market="AAPL,MSFT")
    assert cfg.name == "per_asset" and cfg.market.source == "AAPL,MSFT"
    assert "--market AAPL,MSFT: strategy per_asset (per-asset policy" in caplog.text
    assert _strategy(None, [], choose=False, market="dow30") == replace(
        StrategyConfig(), market=replace(StrategyConfig().market, source="dow30")
    )  # a per-ticker study trades one asset at a time: the default strategy
    assert _strategy("signal", [], market="AAPL,MSFT").name == "signal"  # a named strategy wins
