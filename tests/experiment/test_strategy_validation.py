"""Strategy-level refusals: an empty market name, absurd envs per worker, worker counts below 1 on
the command line; each one line naming the input and the fix."""

from __future__ import annotations

import pytest
import typer
from typer.testing import CliRunner

from tradea3c.cli.options import EnvsPerWorker, Workers
from tradea3c.config import ConfigError, apply_overrides
from tradea3c.data import DataError
from tradea3c.data.spec import MarketSpec, load_market_spec
from tradea3c.experiment import StrategyConfig


@pytest.mark.parametrize("source", ["", "  ", ","])
def test_an_empty_market_name_lists_the_choices(source: str) -> None:
    with pytest.raises(DataError) as err:
        load_market_spec(MarketSpec(source=source))
    msg = str(err.value)
    assert "market name is empty" in msg and "demo" in msg and "sp500" in msg and "\n" not in msg


def test_envs_per_worker_is_capped() -> None:
    with pytest.raises(ConfigError, match=r"envs_per_worker 100000: at most 4096"):
        apply_overrides(StrategyConfig(), ["envs_per_worker=100000"])
    apply_overrides(StrategyConfig(), ["envs_per_worker=64"])


def test_worker_options_refuse_counts_below_one() -> None:
    app = typer.Typer()

    @app.command()
    def cmd(workers: Workers = None, envs_per_worker: EnvsPerWorker = None) -> None:
        typer.echo(f"ok {workers} {envs_per_worker}")

    for args, needle in [
        (["--workers", "0"], "--workers 0: "),
        (["--workers", "-3"], "--workers -3: "),
        (["--envs-per-worker", "0"], "--envs-per-worker 0: "),
        (["--envs-per-worker", "100000"], "--envs-per-worker 100000: "),
    ]:
        res = CliRunner().invoke(app, args)
        assert res.exit_code == 2 and needle in res.output, res.output
        assert len(res.output.strip().splitlines()) == 1, res.output
    res = CliRunner().invoke(app, ["--workers", "2", "--envs-per-worker", "8"])
    assert res.exit_code == 0 and "ok 2 8" in res.output
