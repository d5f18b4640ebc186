"""`bench env` loads FinRL's code only from an explicit ``--finrl-wheel PATH`` (issue 25)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradea3c.envs.config import PortfolioEnvConfig

CFG = PortfolioEnvConfig(action="simplex", window=5, episode_length=50)


def _booby_trapped_wheel(path: Path, sentinel: Path) -> Path:
    """A ``FinRL-0.3.7-*.whl`` whose env module writes ``sentinel`` when executed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(
            "finrl/meta/env_stock_trading/env_stocktrading.py",
            f"open({str(sentinel)!r}, 'w').write('ran')\nraise ImportError('planted')\n",
        )
    return path


def _bench(tmp_path: Path, wheel):
    from tradea3c.bench.env import run_portfolio_benchmark

    return run_portfolio_benchmark(
        steps=80,
        repeats=1,
        n_assets=3,
        vector_assets=5,
        vector_k=2,
        finrl_wheel=wheel,
        csv_dir=tmp_path,  # no CSVs: synthetic
        universe_bars=200,
        synthetic_bars=200,
        config=CFG,
    )


@pytest.mark.parametrize("where", ["wheels", "../wheels"])
def test_wheel_in_wheels_dir_is_not_executed(tmp_path: Path, monkeypatch, where: str) -> None:
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    sentinel = tmp_path / "ran.txt"
    _booby_trapped_wheel(cwd / where / "FinRL-0.3.7-py3-none-any.whl", sentinel)
    monkeypatch.chdir(cwd)
    monkeypatch.delenv("TRADEA3C_FINRL_WHEEL", raising=False)
    res = _bench(tmp_path, None)
    assert not sentinel.exists(), "a wheel found by discovery was executed"
    skipped = [n for n in res.notes if "FinRL" in n]
    assert len(skipped) == 1 and "--finrl-wheel PATH" in skipped[0]
    assert all(not r.name.startswith("FinRL") for r in res.rows)


def test_env_variable_does_not_load_a_wheel(tmp_path: Path, monkeypatch) -> None:
    sentinel = tmp_path / "ran.txt"
    wheel = _booby_trapped_wheel(tmp_path / "w" / "FinRL-0.3.7-py3-none-any.whl", sentinel)
    monkeypatch.setenv("TRADEA3C_FINRL_WHEEL", str(wheel))
    _bench(tmp_path, None)
    assert not sentinel.exists()


def test_explicit_wheel_is_loaded(tmp_path: Path) -> None:
    sentinel = tmp_path / "ran.txt"
    wheel = _booby_trapped_wheel(tmp_path / "w" / "FinRL-0.3.7-py3-none-any.whl", sentinel)
    res = _bench(tmp_path, wheel)
    assert sentinel.exists()  # the explicit path is what the user asked to run
    assert any("FinRL row skipped" in n and "planted" in n for n in res.notes)


def test_missing_explicit_wheel_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        _bench(tmp_path, tmp_path / "absent.whl")


def test_cli_missing_wheel_is_one_error_line_exit_2(tmp_path: Path, monkeypatch) -> None:
    import tradea3c.bench.env as bench_env
    from tradea3c.cli import app

    ran: list[str] = []
    monkeypatch.setattr(bench_env, "run_env_benchmark", lambda **kw: ran.append("env") or [])
    monkeypatch.setattr(
        bench_env,
        "run_portfolio_benchmark",
        lambda **kw: ran.append("portfolio") or bench_env.PortfolioBench([], "", []),
    )
    missing = tmp_path / "nope.whl"
    res = CliRunner().invoke(app, ["bench", "env", "--finrl-wheel", str(missing)])
    assert res.exit_code == 2, res.output
    assert res.stderr.strip().splitlines() == [f"error: FinRL wheel not found: {missing}"]
    assert ran == []  # nothing was benchmarked
