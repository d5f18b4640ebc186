"""Where one fast-preset Atari worker update spends its time (issue 14's throughput profile).

One worker as `tradea3c atari train --preset fast` runs it (16 Pong emulators, t_max 5, the A3C CNN,
Adam), in this process with one torch thread; times `EnvBatch.step`, `model.act`, the loss's forward
and backward, and the optimiser over 60 updates after 20 warm-up updates. Run on an idle machine:

    .venv/bin/python docs/atari/profile_update.py
"""

from __future__ import annotations

import time

from tradea3c.a3c.config import A3CConfig
from tradea3c.a3c.optim import make_optimizer
from tradea3c.a3c.process_setup import configure_torch_for_worker
from tradea3c.a3c.rollout import EnvBatch, RolloutCollector
from tradea3c.a3c.update import compute_gradients
from tradea3c.atari.envs import AtariEnvFactory
from tradea3c.atari.model import AtariModelFactory

K, T_MAX, UPDATES = 16, 5, 60


def main() -> None:
    configure_torch_for_worker()
    envs = EnvBatch([AtariEnvFactory("Pong", num_envs=K)(0)])
    model = AtariModelFactory()(envs.observation_space, envs.action_space)
    cfg = A3CConfig(t_max=T_MAX, optimizer="adam", adam_betas=(0.0, 0.99), lr=7e-4, max_grad_norm=0.5)
    optimizer = make_optimizer(cfg, model.parameters())
    collector = RolloutCollector(envs, model, cfg.gamma, 0)
    params = list(model.parameters())
    for _ in range(20):
        compute_gradients(model, params, collector, cfg)
        optimizer.step()
    spent = {"env": 0.0, "act": 0.0}

    def timed(name, fn):
        def wrapper(*args):
            t = time.perf_counter()
            out = fn(*args)
            spent[name] += time.perf_counter() - t
            return out

        return wrapper

    envs.step = timed("env", envs.step)
    model.act = timed("act", model.act)
    opt_s = 0.0
    t0 = time.perf_counter()
    for _ in range(UPDATES):
        compute_gradients(model, params, collector, cfg)
        t = time.perf_counter()
        optimizer.step()
        opt_s += time.perf_counter() - t
    total = time.perf_counter() - t0
    steps = UPDATES * K * T_MAX
    loss_s = total - spent["env"] - spent["act"] - opt_s
    print(f"{steps / total:,.0f} agent-steps/s = {4 * steps / total:,.0f} frames/s (1 worker, 1 thread)")
    print(
        f"per update: {1e3 * total / UPDATES:.1f} ms = env {1e3 * spent['env'] / UPDATES:.1f} + act "
        f"{1e3 * spent['act'] / UPDATES:.1f} + loss forward/backward {1e3 * loss_s / UPDATES:.1f} + "
        f"optimiser {1e3 * opt_s / UPDATES:.1f}"
    )
    envs.close()


if __name__ == "__main__":
    main()
