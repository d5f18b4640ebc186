"""Every seed a training run uses, derived in one place from ``A3CConfig.seed``.

The derivation (what runs; ``tests/a3c/test_seeding.py`` records the seeds the envs receive and
checks them against these functions):

* **worker seed** ``s_i = worker_seed(seed, i, epoch, restart)``: 31 bits of
  ``numpy.random.SeedSequence([seed, i, epoch])`` (``[seed, i, epoch, restart]`` for a restarted
  worker). ``i`` is the worker index (0 for the in-process and A2C learner), ``epoch`` the number of
  resumes before this session (0 for a fresh run), ``restart`` how often worker ``i`` was started
  again after dying. A SeedSequence hash, not ``seed + i``: neighbouring master seeds give unrelated
  worker streams (``seed + i`` would give run 0's worker 1 the stream of run 1's worker 0).
  It seeds torch and numpy's legacy global generator in that worker (process or actor).
* **env seed** ``env_seed(s_i, j) = s_i + 7919 * j`` for the j-th env of the worker's batch (always
  0 for an A3C worker, which has one env; 0..N-1 for the A2C learner's N env groups). Each env is
  reset once with it; a vector env seeds its sub-env k with ``env_seed + k`` (Gymnasium's rule).
* **episode seeds**: later episodes are not reseeded: every ``reset()`` after the first continues
  the env's own ``np_random`` stream, so an env's whole sequence of episodes follows from its seed.

What an env factory does with seeds of its own (``TradingEnvFactory`` resets worker i's env with
``base_seed + i`` and picks worker profile ``i mod P``) only matters when the factory is used
outside the engine: the engine's first reset above reseeds the env.

Reproducibility: one process (``workers=1`` or ``mode="a2c"``) is bit-reproducible from ``seed``;
Hogwild processes and Ray actors are not (the interleaving of their updates is up to the OS).
"""

from __future__ import annotations

import numpy as np
import torch

ENV_STRIDE = 7919
"""Distance between the seeds of a worker's envs (a prime, larger than any vector env's width)."""


def derive_seed(seed: int, *keys: int) -> int:
    """31 bits of ``SeedSequence([seed, *keys])``: a seed for the stream named by ``keys``."""
    return int(np.random.SeedSequence([seed, *keys]).generate_state(1)[0] & 0x7FFFFFFF)


def worker_seed(seed: int, worker: int, epoch: int = 0, restart: int = 0) -> int:
    """The seed of worker ``worker`` in resume ``epoch`` after ``restart`` restarts (module docstring)."""
    return derive_seed(seed, worker, epoch, *([restart] if restart else []))


def env_seed(worker_seed: int, env: int) -> int:
    """The first-reset seed of the ``env``-th env in a worker's batch."""
    return worker_seed + ENV_STRIDE * env


def seed_process(seed: int) -> None:
    """Seed the global torch and numpy generators of the process a worker runs in."""
    torch.manual_seed(seed)
    np.random.seed(seed % 2**32)
