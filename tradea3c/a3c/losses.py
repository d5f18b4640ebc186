"""The A3C loss: policy gradient with advantage, value regression, entropy bonus."""

from __future__ import annotations

from dataclasses import dataclass

from torch import Tensor


@dataclass
class LossParts:
    total: Tensor
    policy: Tensor
    value: Tensor
    entropy: Tensor


def masked_mean(x: Tensor, mask: Tensor) -> Tensor:
    """Mean of ``x`` over entries where ``mask`` is 1 (masked-out transitions contribute nothing)."""
    return (x * mask).sum() / mask.sum().clamp_min(1.0)


def a3c_loss(
    log_probs: Tensor,
    values: Tensor,
    entropies: Tensor,
    advantages: Tensor,
    returns: Tensor,
    mask: Tensor,
    value_coef: float,
    entropy_coef: float,
) -> LossParts:
    """loss = -E[log pi(a|s) A] + value_coef E[(R - V)^2] - entropy_coef E[H(pi)], means over valid steps.

    ``advantages`` and ``returns`` are targets (detached here, so no gradient flows through them).
    """
    policy = -masked_mean(log_probs * advantages.detach(), mask)
    value = masked_mean((returns.detach() - values) ** 2, mask)
    entropy = masked_mean(entropies, mask)
    total = policy + value_coef * value - entropy_coef * entropy
    return LossParts(total, policy, value, entropy)
