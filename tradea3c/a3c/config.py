"""A3CConfig: every knob of the generic engine (A3C, A2C and the paper's three value-based methods),
loadable from TOML with ``tradea3c.config``.

Nothing here knows about markets: the engine sees environments only through a factory.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from typing import Literal

Mode = Literal["a3c", "a2c", "nstep_q", "onestep_q", "onestep_sarsa"]
VALUE_BASED: tuple[str, ...] = ("nstep_q", "onestep_q", "onestep_sarsa")
"""The paper's asynchronous value-based methods (``tradea3c.a3c.qlearning``)."""


@dataclass(frozen=True)
class ModelConfig:
    """Architecture of the built-in actor-critic (see ``tradea3c.a3c.models.builtin.build_model``)."""

    kind: Literal["mlp", "lstm", "per_asset"] = "mlp"
    """"mlp": feed-forward actor-critic over the whole observation; "lstm": MLP encoder + LSTMCell,
    state carried across t_max; "per_asset": one small network shared by every item of a set
    (portfolio assets), parameters independent of their number (``tradea3c.a3c.models.per_asset``; its
    factory needs the items' window: a strategy passes its env's)."""
    hidden: tuple[int, ...] = (64, 64)
    """Hidden layer widths of the MLP trunk(s) (for "lstm": of the encoder before the LSTM; for
    "per_asset": of the network applied to each item)."""
    lstm_size: int = 64
    """LSTM hidden/cell size (kind = "lstm" only)."""
    activation: Literal["tanh", "relu"] = "tanh"
    """Non-linearity of the MLP layers."""
    shared_trunk: bool = False
    """MLP and per_asset: one trunk for actor and critic (True) or two separate ones (False, more stable)."""
    policy: Literal["auto", "categorical", "dirichlet"] = "auto"
    """Policy head: "auto" = categorical for Discrete, Dirichlet (simplex weights) for Box actions."""
    anchor_action: int = -1
    """Categorical policies: the action that holds the benchmark (-1 = none). The untrained policy
    picks it with probability ``anchor_prob`` (the head's bias starts at the log of that
    distribution), and ``a3c.prior = "benchmark"`` pulls the policy back toward it. A strategy
    sets it from its anchored env (`MarketEnvConfig.anchor_action`)."""
    anchor_prob: float = 0.8
    """Probability of ``anchor_action`` under the benchmark prior; the rest is spread evenly."""
    anchor_concentration: float = 0.0
    """per_asset Dirichlet policies: > 0 anchors the weights to equal weight over the available
    items (the residual slot gets ``ANCHOR_RESIDUAL`` of the mean): concentrations are
    ``anchor_concentration * softmax(log w_anchor + scores)``, so the untrained policy samples
    near the benchmark and its greedy weights are the benchmark. 0 = not anchored."""

    max_flat_input: int = 20_000
    """"mlp" and "lstm" on a portfolio: refuse an input layer wider than this many floats (window x
    members x features grows with the universe, and the first layer's weights with it; the
    per-asset policy's do not). 0 = no limit: say so to train such a model on purpose."""

    def __post_init__(self) -> None:
        if any(w < 1 for w in self.hidden):
            raise ValueError(
                f"hidden {list(self.hidden)}: layer widths must be >= 1, e.g. [64, 64] ([] = no hidden layer)"
            )
        if self.lstm_size < 1:
            raise ValueError(f"lstm_size {self.lstm_size}: the LSTM size must be >= 1, e.g. 64")
        if not 0.0 < self.anchor_prob < 1.0 or self.anchor_concentration < 0:
            raise ValueError("need 0 < anchor_prob < 1 and anchor_concentration >= 0")
        if self.max_flat_input < 0:
            raise ValueError("max_flat_input must be >= 0 (0 = no limit)")


@dataclass(frozen=True)
class A3CConfig:
    """Hyper-parameters of one training run. Steps are environment transitions summed over all envs."""

    mode: Mode = "a3c"
    """"a3c": Hogwild worker processes; "a2c": synchronous, one process, all worker envs batched;
    "nstep_q", "onestep_q", "onestep_sarsa": the paper's asynchronous value-based methods on the
    same Hogwild workers (``tradea3c.a3c.qlearning``: the policy head's outputs are read as Q-values,
    epsilon-greedy workers, a shared target network)."""
    workers: int = 0
    """Worker processes (a3c) or env groups (a2c); 0 = os.cpu_count(). workers=1 runs in-process."""
    total_steps: int = 1_000_000
    """Training budget in global env steps (all workers, all vector sub-envs)."""
    t_max: int = 20
    """Rollout length per update (steps per env before each gradient push)."""
    gamma: float = 0.99
    """Discount factor."""
    gae_lambda: float = 1.0
    """GAE lambda; 1.0 = n-step returns bootstrapped with V(s_{t+n}), as in the A3C paper."""
    entropy_coef: float = 0.01
    """Entropy bonus beta (pulls the policy toward uniform; see ``kl_coef`` for a benchmark prior)."""
    kl_coef: float = 0.0
    """Weight of KL(pi || prior) in the loss (0 = off): a penalty for leaving ``prior``."""
    prior: Literal["uniform", "benchmark"] = "uniform"
    """The default policy of the KL penalty: "uniform" (KL = log n - entropy: the entropy bonus
    again) or "benchmark" (the model's anchor: ``model.anchor_action`` / ``anchor_concentration``)."""
    value_coef: float = 0.5
    """Weight of the value loss (mean squared error to the returns)."""
    max_grad_norm: float = 0.5
    """Global L2 clip of each worker's gradient before the push (0 = no clipping)."""
    optimizer: Literal["adam", "rmsprop"] = "adam"
    """Shared optimiser: fused Adam (fast on CPU) or the paper's shared RMSProp."""
    lr: float = 1e-3
    """Initial learning rate."""
    lr_anneal: bool = True
    """Anneal the learning rate linearly from lr to 0 over total_steps."""
    adam_betas: tuple[float, float] = (0.9, 0.999)
    """Adam (beta1, beta2)."""
    rmsprop_alpha: float = 0.99
    """RMSProp decay of the squared-gradient average."""
    eps: float = 1e-5
    """Optimiser epsilon (Adam and RMSProp; the paper's RMSProp used 0.1)."""
    weight_decay: float = 0.0
    """Regularisation: decoupled weight decay (AdamW-style for Adam, L2 for RMSProp; 0 = off)."""
    seed: int = 0
    """Master seed: per-worker torch/numpy seeds and env reset seeds are derived from it."""
    backend: Literal["local", "ray"] = "local"
    """"local": worker processes on this machine sharing memory (Hogwild); "ray": worker actors and a
    learner actor (parameter server) on a Ray cluster (``tradea3c.a3c.backends.ray``; a3c mode only)."""
    address: str = ""
    """Ray backend: cluster address ("auto" or "HOST:PORT"); empty = start a private local Ray instance."""
    worker_restarts: int = 3
    """Restarts of a worker that died without an error (SIGKILL, OOM killer; a Ray actor lost with
    its node) before the run goes on without it. A worker that raises stops the run."""
    start_method: Literal["forkserver", "spawn", "fork"] = "forkserver"
    """multiprocessing start method for worker and evaluator processes (see engine docstring)."""
    eval_every: int = 0
    """Global steps between evaluations of the shared weights (0 = only a final evaluation)."""
    checkpoint_every: int = 100_000
    """Global steps between periodic latest.pt checkpoints (0 = off)."""
    checkpoint_every_s: float = 300.0
    """Seconds between periodic latest.pt checkpoints (0 = off); whichever comes first."""
    log_every_s: float = 2.0
    """Seconds between rows of metrics.csv / TensorBoard training scalars."""
    tensorboard: bool = True
    """Write TensorBoard events under <run_dir>/tb (main process only)."""
    model: ModelConfig = field(default_factory=ModelConfig)
    """Built-in model architecture (ignored when train() gets a model_factory)."""
    target_sync: int = 10_000
    """Value-based modes: global steps between copies of the online weights into the shared target
    network (the paper's I_target; 40,000 frames on Atari)."""
    epsilon_finals: tuple[float, ...] = (0.1, 0.01, 0.5)
    """Value-based modes: each worker's final exploration epsilon is drawn from these ..."""
    epsilon_probs: tuple[float, ...] = (0.4, 0.3, 0.3)
    """... with these probabilities, once per worker from ``seed`` and its index (the paper's)."""
    epsilon_anneal: float = 0.1
    """Value-based modes: epsilon falls linearly from 1 to the worker's final value over this
    fraction of ``total_steps`` (global steps; the paper: the first 4M of 80M frames)."""

    def __post_init__(self) -> None:
        if self.workers < 0 or self.t_max < 1 or self.total_steps < 1:
            raise ValueError("workers must be >= 0, t_max >= 1 and total_steps >= 1")
        if not 0.0 <= self.gae_lambda <= 1.0 or not 0.0 <= self.gamma <= 1.0:
            raise ValueError("gamma and gae_lambda must be in [0, 1]")
        if self.weight_decay < 0:
            raise ValueError("weight_decay must be >= 0")
        if self.kl_coef < 0 or self.entropy_coef < 0:
            raise ValueError("kl_coef and entropy_coef must be >= 0")
        if self.backend == "ray" and self.mode == "a2c":
            raise ValueError(
                'the ray backend runs asynchronous workers; use mode = "a3c" (or a value-based mode)'
            )
        self._check_value_based()
        numbers = {
            "lr": self.lr, "entropy_coef": self.entropy_coef, "kl_coef": self.kl_coef,
            "value_coef": self.value_coef, "max_grad_norm": self.max_grad_norm, "eps": self.eps,
            "weight_decay": self.weight_decay, "rmsprop_alpha": self.rmsprop_alpha,
            "adam_betas": max(self.adam_betas), "checkpoint_every_s": self.checkpoint_every_s,
            "log_every_s": self.log_every_s,
        }  # fmt: skip
        bad = [k for k, v in numbers.items() if not math.isfinite(v)]
        if bad:  # nan compares False with every bound below: one NaN would make every weight NaN
            raise ValueError(f"{', '.join(bad)} must be finite (got {numbers[bad[0]]})")
        if self.lr <= 0 or self.eps <= 0:
            raise ValueError("lr and eps must be > 0")
        if min(self.value_coef, self.max_grad_norm, self.checkpoint_every_s, self.log_every_s) < 0:
            raise ValueError("value_coef, max_grad_norm, checkpoint_every_s and log_every_s must be >= 0")
        if self.seed < 0:
            raise ValueError(f"seed must be >= 0 (got {self.seed}); seeds are non-negative integers")
        if self.eval_every < 0 or self.checkpoint_every < 0 or self.worker_restarts < 0:
            raise ValueError("eval_every, checkpoint_every and worker_restarts must be >= 0 (0 = off)")

    def _check_value_based(self) -> None:
        finals, probs = self.epsilon_finals, self.epsilon_probs
        if not finals or len(finals) != len(probs):
            raise ValueError(
                f"epsilon_finals {list(finals)} and epsilon_probs {list(probs)} need the same length >= 1"
            )
        if not all(math.isfinite(x) and 0.0 <= x <= 1.0 for x in (*finals, *probs)):
            raise ValueError("epsilon_finals and epsilon_probs must lie in [0, 1]")
        if abs(sum(probs) - 1.0) > 1e-6:
            raise ValueError(f"epsilon_probs {list(probs)} must sum to 1 (they sum to {sum(probs):g})")
        if not (math.isfinite(self.epsilon_anneal) and 0.0 <= self.epsilon_anneal <= 1.0):
            raise ValueError(f"epsilon_anneal {self.epsilon_anneal}: a fraction of total_steps in [0, 1]")
        if self.target_sync < 1:
            raise ValueError(f"target_sync {self.target_sync}: global steps between syncs, >= 1")

    @property
    def value_based(self) -> bool:
        """One of the value-based modes (Q-learning, Sarsa): epsilon-greedy workers, a target network."""
        return self.mode in VALUE_BASED

    @property
    def num_workers(self) -> int:
        """Resolved worker count (``workers`` or the number of CPU cores)."""
        return self.workers or (os.cpu_count() or 1)
