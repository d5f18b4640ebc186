"""Shared optimisers (``tradea3c.a3c.optim``): state in shared memory stepped by a child process,
the linear learning-rate schedule, decoupled weight decay."""

from __future__ import annotations

import pytest
import torch
import torch.multiprocessing as mp
from torch import nn

from tests.a3c.conftest import cartpole_mlp, step_with_ones
from tradea3c.a3c import A3CConfig
from tradea3c.a3c.optim import SharedAdam, SharedRMSprop, annealed_lr, make_optimizer


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_shared_optimizer_state_is_shared_and_stepped_by_child(name: str) -> None:
    model = cartpole_mlp()
    model.share_memory()
    opt = make_optimizer(A3CConfig(optimizer=name, lr=0.01), model.parameters())
    assert isinstance(opt, SharedAdam if name == "adam" else SharedRMSprop)
    if name == "adam":
        assert opt.param_groups[0]["fused"]
    before = [p.detach().clone() for p in model.parameters()]
    state = opt.state[next(model.parameters())]
    assert all(v.is_shared() for v in state.values()) and float(state["step"]) == 0.0
    p = mp.get_context("forkserver").Process(target=step_with_ones, args=(model, opt))
    p.start()
    p.join(60)
    assert p.exitcode == 0
    assert float(state["step"]) == 1.0  # the child's step is visible here: statistics are shared
    avg = state["exp_avg_sq" if name == "adam" else "square_avg"]
    assert float(avg.abs().sum()) > 0
    assert all(not torch.equal(a, b) for a, b in zip(before, model.parameters(), strict=True))


def test_lr_annealing_is_linear_to_zero() -> None:
    cfg = A3CConfig(lr=1e-3, total_steps=1000)
    assert annealed_lr(cfg, 0) == pytest.approx(1e-3)
    assert annealed_lr(cfg, 500) == pytest.approx(5e-4)
    assert annealed_lr(cfg, 1000) == 0.0 and annealed_lr(cfg, 2000) == 0.0
    assert annealed_lr(A3CConfig(lr=1e-3, lr_anneal=False), 10**9) == 1e-3


@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_weight_decay_shrinks_weights_that_get_no_gradient(name: str) -> None:
    p = nn.Parameter(torch.ones(4))
    for wd, expected in ((0.0, 1.0), (0.1, 1.0 - 0.01 * 0.1)):
        p.data.fill_(1.0)
        opt = make_optimizer(A3CConfig(optimizer=name, lr=0.01, weight_decay=wd), [p])
        p.grad = torch.zeros(4)
        opt.step()
        if name == "adam" or wd == 0.0:  # decoupled (AdamW): p <- p - lr * wd * p
            assert torch.allclose(p.data, torch.full((4,), expected)), (name, wd, p.data)
        else:  # RMSProp's L2 term enters the normalised step: any shrink, no closed form worth pinning
            assert bool((p.data < 1.0).all())
    with pytest.raises(ValueError, match="weight_decay"):
        A3CConfig(weight_decay=-1.0)
