"""`tradea3c train`: strategy files, the env factory / evaluator glue, run directories, resume."""

from __future__ import annotations

import pickle
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from typer.testing import CliRunner

from tradea3c.a3c import load_checkpoint, read_checkpoint
from tradea3c.cli import app
from tradea3c.config import ConfigError
from tradea3c.data.synthetic import oracle_targets, planted_signal_market
from tradea3c.envs.config import DateSplit
from tradea3c.envs.execution import replay
from tradea3c.experiment import (
    StrategyConfig,
    TradingEnvFactory,
    ValidationEvaluator,
    load_strategy,
    shipped_strategies,
    train_strategy,
)
from tradea3c.experiment.factory import run_greedy
from tradea3c.resources import shipped_dir

runner = CliRunner()
SIGNAL = "signal"


@pytest.mark.parametrize("path", shipped_strategies(), ids=lambda p: p.name)
def test_every_shipped_strategy_loads(path: Path) -> None:
    cfg = load_strategy(path)
    assert cfg.name == path.stem
    assert len(cfg.worker_profiles()) == len(cfg.profiles)


def test_default_file_is_the_builtin_default() -> None:
    assert load_strategy("default") == StrategyConfig()


def test_unknown_strategy_key_has_a_hint(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[a3c]\nworkrs = 2\n")
    with pytest.raises(ConfigError, match="did you mean 'workers'"):
        load_strategy(bad)


def test_profiles_share_one_action_space_and_long_only_bounds_positions() -> None:
    cfg = StrategyConfig()
    assert cfg.env.positions == (0.0, 0.5, 1.0)  # the default is long/flat
    cfg = replace(cfg, env=replace(cfg.env, positions=(-1.0, 0.0, 1.0)))  # a strategy that opts into shorting
    profiles = cfg.worker_profiles()
    conservative = next(p for p in profiles if p.name == "conservative")
    assert conservative.apply(cfg.env).positions == (0.0, 0.0, 1.0)  # short -> flat
    m = planted_signal_market(1500, seed=1)
    env_cfg = replace(cfg.env, window=5, episode_length=50)
    factory = TradingEnvFactory(m, env_cfg, DateSplit("2004-06-01", "2005-01-03"), profiles, base_seed=3)
    spaces = {(factory(i).observation_space.shape, str(factory(i).action_space)) for i in range(4)}
    assert len(spaces) == 1


def test_factory_and_evaluator_pickle_for_worker_processes() -> None:
    m = planted_signal_market(400)
    split = DateSplit("2000-10-01", "2001-01-15")
    cfg = load_strategy(SIGNAL).env
    for obj in (TradingEnvFactory(m, cfg, split), ValidationEvaluator(m, cfg, split)):
        clone = pickle.loads(pickle.dumps(obj))
        assert clone.market.fingerprint == m.fingerprint


def test_train_cli_writes_a_complete_run_dir(tmp_path: Path) -> None:
    out = tmp_path / "run"
    res = runner.invoke(
        app,
        [
            "train",
            "--strategy",
            str(SIGNAL),
            "--steps",
            "1500",
            "--workers",
            "1",
            "--quiet",
            "--out",
            str(out),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "validation (greedy): Sharpe" in res.output
    for name in ("strategy.toml", "latest.pt", "best.pt", "metrics.csv", "summary.json", "config.toml"):
        assert (out / name).is_file(), name
    assert any((out / "tb").iterdir())
    model, a3c, meta = load_checkpoint(out / "latest.pt")
    assert meta["extra"]["market_fingerprint"] == planted_signal_market(2000, seed=0).fingerprint
    assert meta["extra"]["strategy"]["name"] == "signal" and meta["version"]
    assert meta["counters"]["global_step"] >= 1500
    assert load_strategy(out / "strategy.toml").split.train_end is not None  # resolved dates saved


def test_train_cli_one_line_errors(tmp_path: Path) -> None:
    cases = [
        (["train", "--market", "nosuchmarket", "--out", str(tmp_path / "a")], "unknown market"),
        (["train", "--strategy", str(tmp_path / "none.toml")], "not found"),
        (["train", "--resume", "--out", str(tmp_path / "empty")], "nothing to resume"),
        (
            ["train", "--market", "AAPL", "--data-dir", str(tmp_path / "c"), "--out", str(tmp_path / "b")],
            "tradea3c fetch",
        ),
        (
            ["train", "--mode", "ppo", "--out", str(tmp_path / "d")],
            "--mode ppo: a3c.mode: expected 'a3c' or 'a2c'",
        ),
        (["train", "--set", "a3c.lrr=1", "--out", str(tmp_path / "e")], "did you mean 'lr'"),
        (["train", "--set", "a3c.lr=fast", "--out", str(tmp_path / "f")], "a3c.lr"),
    ]
    for args, message in cases:
        res = runner.invoke(app, args)
        assert res.exit_code == 2, (args, res.output)
        assert message in res.output and res.output.strip().count("\n") == 0, res.output


def test_resume_refuses_changed_market_data(tmp_path: Path) -> None:
    cfg = load_strategy(SIGNAL)
    cfg = replace(cfg, a3c=replace(cfg.a3c, workers=1, total_steps=300, tensorboard=False))
    train_strategy(cfg, tmp_path, progress=False)
    other = planted_signal_market(2000, seed=99)
    with pytest.raises(ConfigError, match="market data changed"):
        train_strategy(cfg, tmp_path, resume=True, progress=False, market=other)


@pytest.mark.slow
def test_dow30_portfolio_trains_from_imported_djia_csvs(djia_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert runner.invoke(app, ["fetch", "--from-csv", str(djia_dir), "--data-dir", str(cache)]).exit_code == 0
    res = runner.invoke(
        app,
        [
            "train",
            "--strategy",
            "dow30",
            "--data-dir",
            str(cache),
            "--steps",
            "600",
            "--workers",
            "1",
            "--quiet",
            "--out",
            str(tmp_path / "run"),
        ],
    )
    assert res.exit_code == 0, res.output
    assert "members not cached" in res.output
    meta = read_checkpoint(tmp_path / "run" / "latest.pt")
    assert meta["extra"]["env"]["kind"] == "portfolio" and len(meta["extra"]["tickers"]) >= 20


def agent_and_oracle_log_returns(model: Any, market: Any, env_cfg: Any) -> tuple[float, float]:
    """Log-returns of the model's greedy policy and of the exact oracle (long exactly before each
    rise) over the same one-asset evaluation episode, through the same execution and costs."""
    from tradea3c.envs.market_env import MarketEnv

    env = MarketEnv(market, env_cfg)
    agent_equity = run_greedy(model, env)
    ep = env.episode
    moves = np.abs(np.diff(np.log(market.close[:, 0])))[ep.start :]
    if moves.min() <= 2 * env_cfg.costs.base_rate:
        raise ValueError("a move smaller than a round trip's cost: the oracle would not be optimal")
    oracle = replay(
        market,
        oracle_targets(market, ep.start, ep.n_steps),
        start=ep.start,
        costs=env_cfg.costs,
        fill=env_cfg.fill,
    )
    return float(np.log(agent_equity[-1])), float(np.log(oracle.equity[-1]))


@pytest.mark.slow
def test_agent_captures_most_of_the_oracle_on_unseen_planted_signal(tmp_path: Path) -> None:
    """Train on one synthetic market, score the greedy policy on a market it never saw (another seed)
    against the exact oracle (long exactly before each rise), both net of the same costs."""
    cfg = load_strategy(SIGNAL)
    cfg = replace(cfg, a3c=replace(cfg.a3c, workers=2, total_steps=40_000, tensorboard=False))
    result = train_strategy(cfg, tmp_path / "run", progress=False)
    assert result.best_checkpoint is not None
    model = load_checkpoint(result.best_checkpoint).model

    unseen = planted_signal_market(1000, seed=12345)
    agent_log, oracle_log = agent_and_oracle_log_returns(model, unseen, cfg.env.for_evaluation())
    assert oracle_log > 1.0
    assert agent_log >= 0.7 * oracle_log, (agent_log, oracle_log)


def _descendants(pid: int) -> set[int]:
    """PIDs of every live descendant of ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = set(), [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.add(c)
            todo.append(c)
    return out


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.slow
def test_sigkill_mid_run_then_resume_completes(tmp_path: Path) -> None:
    import os
    import signal
    import subprocess
    import sys
    import time

    strategy = tmp_path / "s.toml"
    signal_toml = shipped_dir().joinpath("signal.toml").read_text()
    strategy.write_text(
        signal_toml.replace("[a3c]\n", "[a3c]\ncheckpoint_every = 2000\ntensorboard = false\n")
    )
    out = tmp_path / "run"
    cmd = [
        sys.executable,
        "-m",
        "tradea3c",
        "train",
        "--strategy",
        str(strategy),
        "--workers",
        "2",
        "--steps",
        "30000",
        "--quiet",
        "--out",
        str(out),
    ]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    killed_at = 0
    while time.monotonic() < deadline and proc.poll() is None:
        if (out / "latest.pt").is_file():
            try:
                killed_at = read_checkpoint(out / "latest.pt")["counters"]["global_step"]
            except Exception:  # being replaced right now: atomic rename, try again
                killed_at = 0
            if killed_at >= 4000:
                break
        time.sleep(0.2)
    assert proc.poll() is None, proc.stderr.read().decode()
    family = _descendants(proc.pid)
    assert family, "expected worker processes"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    for _ in range(100):  # workers notice the dead trainer and exit on their own
        if not any(_alive(p) for p in family):
            break
        time.sleep(0.1)
    assert not any(_alive(p) for p in family), "orphan worker processes after SIGKILL"
    for ckpt in out.glob("*.pt"):  # a kill mid-write leaves at most a temp file; real files all load
        read_checkpoint(ckpt)
    before = read_checkpoint(out / "latest.pt")["counters"]["global_step"]
    assert before >= killed_at > 0
    rows_before = (
        len((out / "metrics.csv").read_text().splitlines()) - 1 if (out / "metrics.csv").exists() else 0
    )

    done = subprocess.run([*cmd, "--resume"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    after = read_checkpoint(out / "latest.pt")["counters"]
    assert after["global_step"] >= 30000
    import json

    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "completed"
    steps = np.loadtxt(out / "metrics.csv", delimiter=",", skiprows=1, usecols=1, ndmin=1)
    resumed = steps[max(rows_before, 0) :]
    assert len(resumed) and resumed.min() >= before  # counters continue; they never restart from 0


def test_demo_command_caches_summarises_trains_and_backtests(tmp_data_dir: Path, tmp_path: Path) -> None:
    res = runner.invoke(app, ["demo", "--steps", "600", "--quiet", "--out", str(tmp_path / "demo")])
    assert res.exit_code == 0, res.output
    assert "GOOGL" in res.output and "validation (greedy): Sharpe" in res.output
    assert (tmp_path / "demo" / "best.pt").is_file() and (tmp_data_dir / "GOOGL.parquet").is_file()
    assert "out-of-sample" in res.output and "cost sweep" in res.output
    html = (tmp_path / "demo" / "tearsheet.html").read_text()
    assert "out-of-sample" in html and (tmp_path / "demo" / "metrics.json").is_file()
