"""`tradea3c bench learn`: wall-clock seconds until the greedy policy reaches a stated quality.

Env-steps/s (`tradea3c bench train`) cannot settle which trainer is better: a slower trainer that
learns more per step may still get there first. This times each arm from its start (start-up
included) to the first periodic greedy evaluation that reaches the bar, or stops it at a
wall-clock cap (then "not reached": medians use the cap as a lower bound).

Tasks (one bar each; the evaluation is deterministic, so it is the same for every arm):

* ``signal``: train on `planted_signal_market` (2,000 bars, seed 0, the strategy's 70% train
  split) with our default strategy (`StrategyConfig()`: window 30, 15 features, anchored to
  buy-and-hold with tilts (-1, -0.5, 0), the three worker profiles, costs 8 bps); score the greedy
  policy's log return over a market it never saw (1,000 bars, seed 12345, one episode, the
  strategy's own costs, as tests/experiment/test_train.py does) against the oracle's (long exactly
  before each rise); bar: the fraction (``value``) >= 0.9 of the oracle's log return. Worker i
  trades profile i mod 3, so on 2 cores the aggressive and conservative profiles.
* ``cartpole``: CartPole-v1, mean return over 20 greedy episodes (seeds 1,000,003 + i), bar 475.

Arms: ours (`StrategyConfig().a3c`; K = ``envs_per_worker``; A2C mode; the paper's value-based
methods, `PAPER_ARMS`) and stable-baselines3 A2C
and PPO with their documented defaults (MlpPolicy: 64x64 tanh actor and critic) on the same envs
(a DummyVecEnv of the envs our workers get). Clock: our evaluations run in the engine's evaluator
process beside training and are not subtracted (they compete for the cores); SB3 evaluates inside
``learn()`` (a callback), and that time is subtracted. The cap applies to that clock (and, as a
backstop, to twice it in wall time); ours is checked at each evaluation, so a run may pass it by
one evaluation interval. Torch threads: 1 intra-op thread per process that runs a model (our
workers and evaluator set it; SB3 gets ``sb3_threads``).
"""

from __future__ import annotations

import csv
import math
import statistics
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal, get_args

import gymnasium as gym
import numpy as np

from tradea3c.a3c.config import VALUE_BASED, Mode
from tradea3c.a3c.play import Agent, run_episode

Task = Literal["signal", "cartpole"]
TASKS: tuple[Task, ...] = ("signal", "cartpole")
QUALITY: dict[str, float] = {"signal": 0.9, "cartpole": 475.0}
METRIC: dict[str, str] = {"signal": "fraction", "cartpole": "mean_return"}
DEFAULT_ARMS = ("default", "k1", "a2c", "sb3-a2c", "sb3-ppo")
PAPER_ARMS = ("k1", "nstep_q", "onestep_q", "onestep_sarsa")
"""The paper's four methods as it ran them: one env per worker, t_max 5 (`--arms paper`)."""
CARTPOLE_EPISODES = 20
CARTPOLE_SEED = 1_000_003
SIGNAL_TRAIN = (2000, 0)  # bars, seed of the training market
SIGNAL_EVAL = (1000, 12345)  # bars, seed of the unseen evaluation market


@dataclass(frozen=True)
class Arm:
    """One trainer. Ours: the default strategy's A3C config with these overrides (None = keep)."""

    name: str
    kind: Literal["tradea3c", "sb3"] = "tradea3c"
    algo: str = ""  # sb3: "A2C" or "PPO"
    envs_per_worker: int | None = None
    """K envs per worker; None = the strategy's ``envs_per_worker`` (the shipped default)."""
    mode: Mode = "a3c"
    t_max: int | None = None
    lr: float | None = None
    workers: int | None = None
    steps: int | None = None
    """Our training budget (lr anneals over it); None = the strategy's ``total_steps``."""
    sb3_envs: int | None = None
    """SB3: envs in the DummyVecEnv; None = the run's ``sb3_envs``."""


_NAMED = {
    "default": Arm("default"),
    "k1": Arm("k1", envs_per_worker=1),
    "k16": Arm("k16", envs_per_worker=16),
    "a2c": Arm("a2c", mode="a2c"),
    **{m: Arm(m, mode=m, envs_per_worker=1) for m in VALUE_BASED},
    "sb3-a2c": Arm("sb3-a2c", kind="sb3", algo="A2C"),
    "sb3-ppo": Arm("sb3-ppo", kind="sb3", algo="PPO"),
}


def parse_arm(spec: str) -> Arm:
    """``NAME`` (one of `DEFAULT_ARMS`) or ``NAME:key=value,...`` with keys k, mode, t_max, lr,
    workers, steps (ours) or envs (SB3), e.g. ``default:k=16,t_max=5,lr=1e-3,mode=a2c``."""
    base, _, rest = spec.strip().partition(":")
    if base not in _NAMED:
        raise ValueError(f"unknown arm {base!r}: use one of {sorted(_NAMED)} (optionally NAME:key=value,...)")
    arm = replace(_NAMED[base], name=spec.strip())
    casts: dict[str, tuple[str, Callable[[str], Any]]] = {
        "k": ("envs_per_worker", int),
        "mode": ("mode", str),
        "t_max": ("t_max", int),
        "lr": ("lr", float),
        "workers": ("workers", int),
        "steps": ("steps", lambda s: int(float(s))),
        "envs": ("sb3_envs", int),
    }
    for item in filter(None, (p.strip() for p in rest.split(","))):
        key, _, value = item.partition("=")
        if key not in casts or (arm.kind == "sb3") != (key == "envs"):
            raise ValueError(
                f"arm {spec!r}: key {key!r} does not apply (ours: k, mode, t_max, lr, "
                "workers, steps; SB3: envs)"
            )
        attr, cast = casts[key]
        arm = replace(arm, **{attr: cast(value)})
    if arm.mode not in get_args(Mode):
        raise ValueError(f"arm {spec!r}: mode must be one of {', '.join(get_args(Mode))}")
    return arm


def parse_arms(specs: str) -> list[Arm]:
    """The command line's arms: comma-separated `parse_arm` specs whose keys are separated by ``;``
    (``default:k=1;t_max=20,sb3-a2c``); ``paper`` expands to `PAPER_ARMS`."""
    names = [a.strip() for a in specs.split(",") if a.strip()]
    expanded = [a for n in names for a in (PAPER_ARMS if n == "paper" else (n,))]
    return [parse_arm(a.replace(";", ",")) for a in expanded]


@dataclass(frozen=True)
class LearnRow:
    """One run of one arm on one task and seed."""

    task: str
    arm: str
    seed: int
    reached: bool
    seconds: float
    """To the evaluation that reached the bar; else to the stop (a lower bound)."""
    steps: int
    """Env steps at that evaluation (else at the stop)."""
    best: float
    """Best evaluated value of the task's metric."""
    quality: float
    cap: float
    stop: str
    """"reached", "cap" (wall-clock cap) or "budget" (our arm's total_steps ran out first)."""
    wall_s: float
    """Whole run, start-up and every evaluation included."""
    eval_s: float
    """Seconds spent in evaluations (ours: in the evaluator process, beside training)."""
    evals: int
    envs: int
    threads: str


@dataclass(frozen=True)
class LearnSummary:
    task: str
    arm: str
    seeds: int
    reached: int
    median_s: float
    min_s: float
    max_s: float
    median_steps: float
    median_best: float
    """Median over seeds of each run's best evaluation: how close the misses came."""
    lower_bound: bool
    """Misses weigh in the median (counted at their stop time): it is only a lower bound."""


@dataclass
class QualityClock:
    """Time to quality, shared by both trainers: ``record`` each evaluation; True = stop now."""

    bar: float
    cap: float
    exclude_eval: bool = False
    t0: float = field(default_factory=time.monotonic)
    eval_s: float = 0.0
    evals: int = 0
    best: float = -math.inf
    reached_s: float | None = None
    reached_step: int | None = None

    def seconds(self) -> float:
        return time.monotonic() - self.t0 - (self.eval_s if self.exclude_eval else 0.0)

    def over_cap(self) -> bool:
        """Past the cap on the clock, or (evaluations excluded from it) past twice the cap in wall
        time: frequent slow evaluations must not make a run endless."""
        return self.seconds() >= self.cap or time.monotonic() - self.t0 >= 2 * self.cap

    def record(self, value: float, step: int | None = None) -> bool:
        self.evals += 1
        self.best = max(self.best, value)
        if self.reached_s is None and value >= self.bar:
            self.reached_s, self.reached_step = self.seconds(), step
            return True
        return self.reached_s is not None or self.over_cap()

    def __call__(self, metrics: dict[str, float]) -> bool:
        """``should_stop`` for our engine (the task metric is the only non-timing key we read)."""
        self.eval_s += metrics.get("eval_seconds", 0.0)
        return self.record(metrics["value"])


# --- evaluation: the same code scores our model and SB3's --------------------------------------


class SB3Agent:
    """An SB3 model as a `run_episode` agent: its deterministic (greedy) action."""

    def __init__(self, model: Any) -> None:
        self.model = model

    def reset(self) -> None:
        pass

    def act(self, obs: Any) -> Any:
        action, _ = self.model.predict(obs, deterministic=True)
        return int(action)


def score_signal(agent: Agent, market: Any, cfg: Any) -> dict[str, float]:
    """Greedy log return over ``market`` (one episode) and its fraction of the oracle's (long exactly
    before each rise, through the same execution and costs)."""
    from tradea3c.data.synthetic import oracle_targets
    from tradea3c.envs.execution import replay
    from tradea3c.envs.market_env import MarketEnv

    env = MarketEnv(market, cfg)
    equity = run_episode(agent, env, seed=0).infos[-1]["equity"]
    ep = env.episode
    oracle = replay(
        market, oracle_targets(market, ep.start, ep.n_steps), start=ep.start, costs=cfg.costs, fill=cfg.fill
    )
    agent_log, oracle_log = float(np.log(equity)), float(np.log(oracle.equity[-1]))
    return {"value": agent_log / oracle_log, "log_return": agent_log, "oracle_log_return": oracle_log}


def score_cartpole(agent: Agent, episodes: int = CARTPOLE_EPISODES) -> dict[str, float]:
    env = gym.make("CartPole-v1")
    returns = [run_episode(agent, env, seed=CARTPOLE_SEED + i).total_reward for i in range(episodes)]
    env.close()
    return {"value": float(np.mean(returns)), "min_return": float(np.min(returns))}


@dataclass(frozen=True)
class TaskEvaluator:
    """``evaluate_fn`` of our engine (pickled to the evaluator process): the task's greedy score
    under ``value``, plus its own duration under ``eval_seconds``."""

    task: str
    market: Any = None
    config: Any = None

    def score(self, agent: Agent) -> dict[str, float]:
        if self.task == "signal":
            return score_signal(agent, self.market, self.config)
        return score_cartpole(agent)

    def __call__(self, model: Any) -> dict[str, float]:
        from tradea3c.a3c.models import Policy

        t0 = time.monotonic()
        out = self.score(Policy(model, greedy=True))
        return {**out, "eval_seconds": time.monotonic() - t0}


# --- the task's envs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class TaskSetup:
    """What every arm of a task trains on: our env factory (K envs per worker), the model factory,
    the A3C config of the default strategy, and the evaluator."""

    task: str
    strategy: Any
    evaluator: TaskEvaluator
    market: Any = None
    split: Any = None
    env_config: Any = None

    def env_factory(self, seed: int, k: int) -> Any:
        if self.task == "cartpole":
            from tradea3c.testing.gym_envs import GymEnvFactory

            return GymEnvFactory("CartPole-v1", num_envs=k)
        from tradea3c.experiment.factory import TradingEnvFactory

        profiles = self.strategy.worker_profiles()
        return TradingEnvFactory(self.market, self.env_config, self.split, profiles, seed, k)

    def model_factory(self) -> Any:
        if self.task == "cartpole":
            from tradea3c.a3c.models.builtin import BuiltinModelFactory

            return BuiltinModelFactory(self.strategy.a3c.model)
        return self.strategy.model_factory(self.market)


def task_setup(task: str) -> TaskSetup:
    from tradea3c.experiment.strategy import StrategyConfig

    strategy = StrategyConfig()
    if task == "cartpole":
        return TaskSetup(task, strategy, TaskEvaluator(task))
    if task != "signal":
        raise ValueError(f"unknown task {task!r}: use one of {TASKS}")
    from tradea3c.data.synthetic import planted_signal_market

    market = planted_signal_market(SIGNAL_TRAIN[0], seed=SIGNAL_TRAIN[1])
    unseen = planted_signal_market(SIGNAL_EVAL[0], seed=SIGNAL_EVAL[1])
    env_cfg = strategy.env_config(market)
    evaluator = TaskEvaluator(task, unseen, env_cfg.for_evaluation())
    return TaskSetup(task, strategy, evaluator, market, strategy.split.resolve(market), env_cfg)


# --- one run of each kind -------------------------------------------------------------------------


def run_ours(setup: TaskSetup, arm: Arm, seed: int, quality: float, cap: float, eval_every: int) -> LearnRow:
    """Our engine on the task: the default strategy's A3C config with the arm's overrides, evaluated
    every ``eval_every`` steps, stopped by `QualityClock` (at the bar or past the cap)."""
    from tradea3c.a3c import train

    base = setup.strategy.a3c
    a3c = replace(
        base,
        mode=arm.mode,
        t_max=arm.t_max or base.t_max,
        lr=arm.lr or base.lr,
        workers=base.workers if arm.workers is None else arm.workers,
        total_steps=arm.steps or base.total_steps,
        seed=seed,
        eval_every=eval_every,
        tensorboard=False,
        checkpoint_every=0,
        checkpoint_every_s=0.0,
    )
    k = setup.strategy.envs_per_worker if arm.envs_per_worker is None else arm.envs_per_worker
    clock = QualityClock(quality, cap)
    with tempfile.TemporaryDirectory() as tmp:
        clock.t0 = time.monotonic()
        result = train(
            setup.env_factory(seed, k),
            a3c,
            Path(tmp),
            model_factory=setup.model_factory(),
            evaluate_fn=setup.evaluator,
            select_metric="value",
            should_stop=clock,
            progress=False,
        )
        wall = time.monotonic() - clock.t0
        with (Path(tmp) / "eval.csv").open() as fh:
            evals = [(int(float(r["global_step"])), float(r["value"])) for r in csv.DictReader(fh)]
    reached_step = next((s for s, v in evals if v >= quality), None)
    reached = clock.reached_s is not None
    stop = "reached" if reached else ("cap" if clock.over_cap() else "budget")
    procs = "1 process" if a3c.mode == "a2c" or a3c.num_workers == 1 else f"{a3c.num_workers} processes"
    return LearnRow(
        setup.task,
        arm.name,
        seed,
        reached,
        clock.reached_s if clock.reached_s is not None else wall,
        reached_step if reached and reached_step is not None else result.global_step,
        clock.best,
        quality,
        cap,
        stop,
        wall,
        clock.eval_s,
        clock.evals,
        a3c.num_workers * k,
        f"1 per process ({procs} + evaluator)",
    )


def sb3_stop_callback(
    score: Callable[[Agent], dict[str, float]], clock: QualityClock, eval_every: int
) -> Any:
    """An SB3 callback: every ``eval_every`` env steps, ``score`` the deterministic policy (its
    time goes to ``clock.eval_s``) and stop ``learn()`` at the bar; past the cap, stop too."""
    from stable_baselines3.common.callbacks import BaseCallback

    class StopAtQuality(BaseCallback):
        last = 0

        def _on_step(self) -> bool:
            if self.num_timesteps - self.last >= eval_every:
                self.last = self.num_timesteps
                t0 = time.monotonic()
                value = score(SB3Agent(self.model))["value"]
                clock.eval_s += time.monotonic() - t0
                if clock.record(value, self.num_timesteps):
                    return False
            return not clock.over_cap()

    return StopAtQuality()


def run_sb3(
    setup: TaskSetup,
    arm: Arm,
    seed: int,
    quality: float,
    cap: float,
    eval_every: int,
    n_envs: int,
    threads: int,
) -> LearnRow:
    """SB3 ``arm.algo`` with its documented defaults (MlpPolicy) on a DummyVecEnv of our workers'
    envs (worker i's env, profile included), until the bar or the cap."""
    import torch
    from stable_baselines3 import A2C, PPO
    from stable_baselines3.common.logger import Logger
    from stable_baselines3.common.vec_env import DummyVecEnv

    n_envs = arm.sb3_envs or n_envs
    factory = setup.env_factory(seed, 1)
    venv = DummyVecEnv([(lambda i=i: factory(i)) for i in range(n_envs)])
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    clock = QualityClock(quality, cap, exclude_eval=True)
    try:
        clock.t0 = time.monotonic()
        algo = {"A2C": A2C, "PPO": PPO}[arm.algo]
        model = algo("MlpPolicy", venv, seed=seed, device="cpu", verbose=0)
        model.set_logger(Logger(folder=None, output_formats=[]))  # SB3's default makes a /tmp/SB3-* folder
        model.learn(
            total_timesteps=10**10, callback=sb3_stop_callback(setup.evaluator.score, clock, eval_every)
        )
        wall = time.monotonic() - clock.t0
        steps = int(model.num_timesteps)
    finally:
        torch.set_num_threads(before)
        venv.close()
    reached = clock.reached_s is not None
    return LearnRow(
        setup.task,
        arm.name,
        seed,
        reached,
        clock.reached_s if clock.reached_s is not None else clock.seconds(),
        clock.reached_step if clock.reached_step is not None else steps,
        clock.best,
        quality,
        cap,
        "reached" if reached else "cap",
        wall,
        clock.eval_s,
        clock.evals,
        n_envs,
        f"{threads} (1 process)",
    )


# --- the benchmark --------------------------------------------------------------------------------


def run_learn_benchmark(
    tasks: Sequence[str] = TASKS,
    arms: Sequence[str | Arm] = DEFAULT_ARMS,
    seeds: int | Sequence[int] = 3,
    cap: float = 150.0,
    eval_every: int = 10_000,
    quality: dict[str, float] | None = None,
    sb3_envs: int = 2,
    sb3_threads: int = 1,
    on_row: Callable[[LearnRow], None] | None = None,
) -> list[LearnRow]:
    """Every arm on every task and seed, interleaved by seed (seed-major, arms in order) so that
    load on a shared machine falls on all arms alike. ``quality`` overrides the bars of `QUALITY`."""
    bars = {**QUALITY, **(quality or {})}
    parsed = [a if isinstance(a, Arm) else parse_arm(a) for a in arms]
    seed_list = list(range(seeds)) if isinstance(seeds, int) else list(seeds)
    rows: list[LearnRow] = []
    for task in tasks:
        setup = task_setup(task)
        for seed in seed_list:
            for arm in parsed:
                if arm.kind == "sb3":
                    row = run_sb3(setup, arm, seed, bars[task], cap, eval_every, sb3_envs, sb3_threads)
                else:
                    row = run_ours(setup, arm, seed, bars[task], cap, eval_every)
                rows.append(row)
                if on_row is not None:
                    on_row(row)
    return rows


def summarize(rows: Iterable[LearnRow]) -> list[LearnSummary]:
    """Per task and arm (first-seen order): reached k/n, median / min / max seconds (a miss counts as
    the cap, a lower bound: a median it enters is one too), median env steps."""
    groups: dict[tuple[str, str], list[LearnRow]] = {}
    for r in rows:
        groups.setdefault((r.task, r.arm), []).append(r)
    out = []
    for (task, arm), rs in groups.items():
        k, n = sum(r.reached for r in rs), len(rs)
        secs = [r.seconds if r.reached else r.cap for r in rs]
        out.append(
            LearnSummary(
                task,
                arm,
                n,
                k,
                statistics.median(secs),
                min(secs),
                max(secs),
                statistics.median(r.steps for r in rs),
                statistics.median(r.best for r in rs),
                k < n // 2 + 1,
            )
        )
    return out


def default_vs_sb3(summaries: Sequence[LearnSummary], task: str, ours: str = "default") -> str:
    """Our ``ours`` arm's median over the better SB3 arm's, as text: "0.42x", ">= 1.3x" (ours is a
    lower bound), "<= 0.8x" (SB3's is), "n/a" (both, or an arm missing)."""
    mine = next((s for s in summaries if s.task == task and s.arm == ours), None)
    sb3 = [s for s in summaries if s.task == task and s.arm.startswith("sb3")]
    if mine is None or not sb3:
        return "n/a"
    best = min(sb3, key=lambda s: (s.lower_bound, s.median_s))
    ratio = mine.median_s / best.median_s
    if mine.lower_bound and best.lower_bound:
        return f"n/a (both not reached; vs {best.arm})"
    prefix = ">= " if mine.lower_bound else "<= " if best.lower_bound else ""
    return f"{prefix}{ratio:.2f}x {best.arm}"
