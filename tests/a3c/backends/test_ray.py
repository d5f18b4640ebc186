"""The Ray backend: the learner's update, flat buffers, one-line errors (fast); a real two-node
cluster on this machine, learning through it, and faults (slow, each in a private network namespace).

The slow tests start ``tests/a3c/backends/ray_scenarios.py`` under ``unshare -n`` (Ray binds to the machine's
interface address otherwise; inside the namespace it stays on 127.0.0.1) and assert on what it
leaves behind. They skip where Ray is not installed or a network namespace cannot be made.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tests.a3c.backends.conftest import ray_scenario
from tradea3c.a3c import A3CConfig, ModelConfig, build_model
from tradea3c.a3c.backends.ray import Learner, flatten, unflatten_into
from tradea3c.a3c.optim import make_optimizer
from tradea3c.cli import app

runner = CliRunner()


def _spaces() -> tuple[Any, Any]:
    import gymnasium as gym

    return gym.spaces.Box(-1.0, 1.0, (6,), np.float32), gym.spaces.Discrete(3)


def test_flat_buffers_round_trip_parameters_and_buffers() -> None:
    model = build_model(ModelConfig(kind="lstm", hidden=(8,), lstm_size=4), *_spaces())
    tensors = [*model.parameters(), *model.buffers()]
    flat = flatten(tensors)
    assert flat.dtype == np.float32 and flat.size == sum(t.numel() for t in tensors)
    other = build_model(ModelConfig(kind="lstm", hidden=(8,), lstm_size=4), *_spaces())
    flat.setflags(write=False)  # Ray hands buffers out read-only
    unflatten_into([*other.parameters(), *other.buffers()], flat)
    for a, b in zip(model.state_dict().values(), other.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    with pytest.raises(ValueError, match="flat buffer holds"):
        unflatten_into(list(other.parameters()), np.zeros(3, np.float32))


@pytest.mark.parametrize("optimizer", ["adam", "rmsprop"])
def test_learner_update_equals_the_local_shared_optimizer_step(optimizer: str) -> None:
    """The same gradient applied by the learner and by the local backend's shared optimiser gives
    bit-identical weights (so the two backends' checkpoints are the same thing)."""
    cfg = A3CConfig(optimizer=optimizer, total_steps=1000, lr=1e-2, model=ModelConfig(hidden=(16,)))
    factory = lambda o, a: build_model(cfg.model, o, a)  # noqa: E731
    torch.manual_seed(0)
    local = factory(*_spaces())
    local_opt = make_optimizer(cfg, local.parameters())
    # Ray hands the learner copies (load_state_dict would alias the local optimiser's tensors)
    learner = Learner(cfg, factory, _spaces(), local.state_dict(), copy.deepcopy(local_opt.state_dict()), 0)
    rng = np.random.default_rng(0)
    for step in range(3):
        grads = [torch.as_tensor(rng.normal(size=p.shape), dtype=torch.float32) for p in local.parameters()]
        for p, g in zip(local.parameters(), grads, strict=True):
            p.grad = g.clone()
        from tradea3c.a3c.optim import annealed_lr, set_lr

        set_lr(local_opt, annealed_lr(cfg, step * 20))
        local_opt.step()
        version, global_step, weights, _, target = learner.apply(flatten(grads), 20, version=max(step - 1, 0))
        assert target is None  # no target network outside the value-based modes
        assert (version, global_step) == (step + 1, (step + 1) * 20)
        assert np.array_equal(weights, flatten([*local.parameters(), *local.buffers()]))
    assert learner.stats()["staleness"] == {0: 1, 1: 2}  # the 2nd and 3rd gradients were one version behind


def test_learner_syncs_the_target_network_every_target_sync_steps() -> None:
    """Value-based modes: the learner copies theta into theta- when an update crosses a multiple of
    target_sync, and hands the new target only to workers holding an older version."""
    cfg = A3CConfig(
        mode="nstep_q", total_steps=1000, lr=1e-2, target_sync=50, model=ModelConfig(hidden=(16,))
    )
    factory = lambda o, a: build_model(cfg.model, o, a)  # noqa: E731
    torch.manual_seed(0)
    model = factory(*_spaces())
    opt = make_optimizer(cfg, model.parameters())
    learner = Learner(cfg, factory, _spaces(), model.state_dict(), copy.deepcopy(opt.state_dict()), 0)
    version0, initial = learner.target_weights()
    assert version0 == 0 and np.array_equal(initial, flatten([*model.parameters(), *model.buffers()]))
    rng = np.random.default_rng(0)
    seen: list[tuple[int, int, bool]] = []
    worker_target = 0
    for _ in range(6):  # 20 steps each: steps 20..120 cross 50 and 100
        grad = flatten(
            [torch.as_tensor(rng.normal(size=p.shape), dtype=torch.float32) for p in model.parameters()]
        )
        _, step, weights, target_version, target = learner.apply(
            grad, 20, version=0, target_version=worker_target
        )
        seen.append((step, target_version, target is not None))
        if target is not None:
            assert np.array_equal(target, learner.target_weights()[1])
            assert np.array_equal(target, weights)  # synced from the weights after this update
            worker_target = target_version
    assert seen == [
        (20, 0, False),
        (40, 0, False),
        (60, 1, True),
        (80, 1, False),
        (100, 2, True),
        (120, 2, False),
    ]
    assert learner.apply(grad, 20, version=0, target_version=0)[4] is not None  # a stale worker is sent it


@pytest.mark.parametrize(
    "command",
    [
        ["train", "--steps", "100"],
        ["atari", "train", "--frames", "400"],
        ["study", "--market", "signal", "--seeds", "0", "--steps", "100"],
    ],
    ids=["train", "atari", "study"],
)
def test_backend_ray_without_ray_is_one_line(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, command: list[str]
) -> None:
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray -> ImportError
    res = runner.invoke(app, [*command, "--backend", "ray", "--out", str(tmp_path / "r")])
    assert res.exit_code == 2
    assert res.output.strip().splitlines() == [
        'error: backend "ray" needs Ray: pip install "tradea3c[ray]" (or use --backend local)'
    ]
    assert not (tmp_path / "r").exists()


def test_backend_ray_needs_a3c_mode(tmp_path: Path) -> None:
    res = runner.invoke(
        app, ["train", "--backend", "ray", "--mode", "a2c", "--steps", "100", "--out", str(tmp_path / "r")]
    )
    assert res.exit_code == 2 and "use mode" in res.output and len(res.output.strip().splitlines()) == 1


# ---------------------------------------------------------------- real clusters (slow)
@pytest.mark.slow
@pytest.mark.ray
def test_two_node_cluster_learns_cartpole_and_the_planted_signal(tmp_path: Path) -> None:
    """A head and a second node (1 CPU each): the two workers land on both nodes; CartPole reaches
    400 and the planted-signal agent >= 70% of the oracle's log-return on a market it never saw."""
    r = ray_scenario("cluster", tmp_path)
    for part in ("cartpole", "signal"):
        backend = r[part]["backend"]
        print(part, {k: v for k, v in r[part].items() if k != "backend"}, backend["staleness"])
        nodes = {w["node_id"] for w in backend["workers"]}
        assert backend["name"] == "ray" and backend["nodes"] == 2 and len(nodes) == 2
        assert backend["bytes_per_update"]["gradient"] > 0 and backend["staleness"]["max"] >= 0
    assert r["cartpole"]["best"] >= 400.0
    assert r["signal"]["oracle_log_return"] > 1.0
    assert r["signal"]["agent_log_return"] >= 0.7 * r["signal"]["oracle_log_return"]


@pytest.mark.slow
@pytest.mark.ray
def test_value_based_modes_learn_the_planted_signal_on_a_two_node_cluster(tmp_path: Path) -> None:
    """The paper's three value-based methods on Ray (learner keeps theta-, workers epsilon-greedy):
    each captures >= 50% of the oracle's log return on the unseen market, and the target network
    was synced (its version reached the workers)."""
    r = ray_scenario("value_based", tmp_path)
    for mode in ("nstep_q", "onestep_q", "onestep_sarsa"):
        got = r[mode]
        print(mode, {k: v for k, v in got.items() if k != "backend"})
        assert got["backend"]["name"] == "ray" and got["backend"]["nodes"] == 2 and got["mode"] == mode
        assert got["target_syncs"] >= 1
        assert got["oracle_log_return"] > 1.0
        assert got["agent_log_return"] >= 0.5 * got["oracle_log_return"], mode


@pytest.mark.slow
@pytest.mark.ray
def test_killed_worker_is_restarted_and_killed_learner_leaves_a_resumable_checkpoint(tmp_path: Path) -> None:
    r = ray_scenario("faults", tmp_path)
    worker = r["worker_kill"]
    assert worker["status"] == "completed" and worker["steps"] >= worker["budget"]
    assert [w["restarts"] for w in worker["backend"]["workers"]] == [0, 1]
    assert len(worker["backend"]["events"]) == 1 and "worker 1 died" in worker["backend"]["events"][0]
    learner = r["learner_kill"]
    assert not learner["alive"] and learner["summary_status"] == "failed"
    kind, message = learner["error"]
    assert kind == "LearnerError" and "\n" not in message and "--resume" in message
    assert "killed by `ray.kill`" in message
    assert learner["latest_step"] > 0
    assert learner["local_resume"]["status"] == "completed"  # a Ray checkpoint, resumed by the local backend
    assert learner["local_resume"]["steps"] >= learner["latest_step"] + 4_000


@pytest.mark.slow
@pytest.mark.ray
def test_driver_killed_then_resumed_across_backends(tmp_path: Path) -> None:
    r = ray_scenario("driver", tmp_path)
    assert r["alive_before_kill"], r.get("early_exit")
    assert r["killed_at"] >= 4000
    assert r["actors_left_after_kill"] == []  # Ray ended the dead driver's actors
    assert r["checkpoint_at_kill"] >= r["killed_at"]
    resumes = r["resumes"]
    for name, budget, backend in (
        ("ray", 30_000, "ray"),
        ("local", 34_000, "local"),
        ("ray_again", 38_000, "ray"),
    ):
        run = resumes[name]
        assert run["rc"] == 0, run["stderr"]
        assert run["status"] == "completed" and run["backend"] == backend and run["steps"] >= budget


@pytest.mark.slow
@pytest.mark.ray
def test_sigterm_to_a_ray_driver_is_ctrl_c(tmp_path: Path) -> None:
    """Issue 25: SIGTERM to `tradea3c train --backend ray` (as `docker stop` sends it) saves latest.pt
    from the learner and summary.json (status "interrupted" by SIGTERM) and exits with 143, quietly."""
    r = ray_scenario("sigterm", tmp_path)
    assert r["started"], r["stderr"][-3000:]
    assert r["rc"] == 143, r["stderr"][-3000:]
    assert "Traceback" not in r["stderr"] and "SIGTERM received" not in r["stderr"], r["stderr"][-3000:]
    assert r["summary"]["status"] == "interrupted" and r["summary"]["signal"] == "SIGTERM"
    assert r["latest_step"] == r["summary"]["global_step"] > 0
