"""The seed derivation documented in ``tradea3c.a3c.seeding`` is the one that runs."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from tradea3c.a3c import A3CConfig, ModelConfig, train
from tradea3c.a3c.seeding import ENV_STRIDE, env_seed, worker_seed
from tradea3c.testing.gym_envs import GymEnvFactory, SeedRecordingFactory

SEED = 11


def _resets(log_dir: Path, worker: int) -> list[int | None]:
    lines = (log_dir / f"worker-{worker}.txt").read_text().split()
    return [None if x == "None" else int(x) for x in lines]


def test_the_documented_formulas() -> None:
    """Worker seed: 31 bits of SeedSequence([seed, i, epoch(, restart)]); env j: + 7919 j."""
    state = np.random.SeedSequence([SEED, 2, 1]).generate_state(1)[0]
    assert worker_seed(SEED, 2, 1) == int(state) & 0x7FFFFFFF
    restarted = np.random.SeedSequence([SEED, 2, 1, 3]).generate_state(1)[0]
    assert worker_seed(SEED, 2, 1, 3) == int(restarted) & 0x7FFFFFFF
    assert env_seed(123, 2) == 123 + 2 * ENV_STRIDE == 123 + 2 * 7919
    assert len({worker_seed(s, i) for s in range(20) for i in range(20)}) == 400  # no seed + i overlaps


@pytest.mark.parametrize(
    ("mode", "workers"),
    [("a3c", 2), ("a3c", 1), ("a2c", 2)],
    ids=["local processes", "in-process", "a2c"],
)
def test_envs_receive_the_derived_seeds_then_continue_their_own_stream(
    tmp_path: Path, mode: str, workers: int
) -> None:
    logs = tmp_path / "seeds"
    logs.mkdir()
    factory = SeedRecordingFactory(GymEnvFactory("CartPole-v1"), str(logs))
    cfg = A3CConfig(
        mode=mode, workers=workers, total_steps=1500, t_max=10, seed=SEED, tensorboard=False,
        model=ModelConfig(hidden=(8,)),
    )  # fmt: skip
    train(factory, cfg, tmp_path / "run", progress=False)
    if mode == "a2c":  # one learner (worker seed 0) batches env j = factory(j)
        expected_first = {j: env_seed(worker_seed(SEED, 0, 0), j) for j in range(workers)}
    else:  # A3C: worker i has one env
        expected_first = {i: env_seed(worker_seed(SEED, i, 0), 0) for i in range(workers)}
    for index, first in expected_first.items():
        resets = _resets(logs, index)
        assert resets[0] == first, (index, resets[:3])
        assert len(resets) > 1 and all(s is None for s in resets[1:])  # later episodes: not reseeded

    # a resume is epoch 1: fresh streams, derived the same way
    for f in logs.iterdir():
        f.unlink()
    train(factory, replace(cfg, total_steps=3000), tmp_path / "run", resume=True, progress=False)
    assert _resets(logs, 0)[0] == env_seed(worker_seed(SEED, 0, 1), 0)
