"""Replay a checkpoint's policy out of sample through the envs' own execution model.

The policy acts in an unperturbed env (`EnvConfig.for_evaluation`) over the requested bars; its target
weights are then replayed through `execution.replay`, and the two equity paths must agree to
1e-9 (one execution model, checked on every backtest). Decisions at bar t see data up to the close
of t (features are causal and may use history before the range), fills are at the next bar.

Ranges: the base bar ``lo`` is the first bar on/after ``start`` (equity 1 at its close, first
decision there); returns are earned on bars ``lo + 1 .. hi``. A range is in-sample when any of its
return bars falls on or before the checkpoint's ``val_end`` (training and validation data; the
validation range picked ``best.pt``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from tradea3c.backtest.curve import Curve, curve_from_replay, ruined_tail
from tradea3c.config import ConfigError, from_dict
from tradea3c.data.market import Market
from tradea3c.data.spec import MarketSpec
from tradea3c.envs.config import DateSplit, EnvConfig, MarketEnvConfig, env_config_from_dict
from tradea3c.envs.execution import CostConfig, replay
from tradea3c.envs.make import make_env

EQUITY_TOL = 1e-9


class BacktestError(ValueError):
    """A user-facing backtest problem: one line naming the input and the fix."""


@dataclass(frozen=True, eq=False)
class LoadedPolicy:
    """A checkpoint with everything needed to rebuild its env, as stored in it: the resolved env
    config, the market spec, the split and the market's identity (no strategy object needed)."""

    path: Path
    model: Any
    env_config: EnvConfig
    market_spec: MarketSpec
    split: DateSplit
    fingerprint: str
    tickers: tuple[str, ...]
    seed: int
    metadata: dict[str, Any]
    members: tuple[Path, ...] = ()
    """The checkpoints of an ensemble (`ensemble_policy`); empty for one checkpoint."""
    mode: str = "a3c"
    """The engine mode it was trained with (``a3c.mode``; value-based runs' outputs are Q-values)."""

    @property
    def kind(self) -> str:
        return self.env_config.kind

    @property
    def label(self) -> str:
        """The checkpoint, or ``"ensemble of N: path, path, ..."``."""
        if not self.members:
            return str(self.path)
        return f"ensemble of {len(self.members)}: {', '.join(str(p) for p in self.members)}"

    @property
    def strategy(self) -> dict[str, Any]:
        """The training strategy as plain data (for reports)."""
        return dict(self.metadata["extra"].get("strategy") or {})


def resolve_checkpoint(path: str | Path) -> Path:
    """A run directory means its ``best.pt`` (else ``latest.pt``); a file is used as is."""
    p = Path(path)
    if p.is_dir():
        for name in ("best.pt", "latest.pt"):
            if (p / name).is_file():
                return p / name
        raise BacktestError(
            f"{p}: no best.pt or latest.pt in this run directory; train it first "
            "(tradea3c train --out DIR) or pass a checkpoint file"
        )
    if not p.is_file():
        raise BacktestError(
            f"{p}: no such run directory or checkpoint; pass a run directory from "
            "`tradea3c train` or its best.pt"
        )
    return p


def _stored_env_config(extra: dict[str, Any]) -> EnvConfig:
    """The resolved env config of a checkpoint (runs before it was stored: from the strategy)."""
    if "env" in extra:
        return env_config_from_dict(extra["env"])
    kind = extra.get("env_kind", "market")
    table = extra["strategy"]["env" if kind == "market" else "portfolio"]
    return env_config_from_dict({"kind": kind, **table})


def load_policy(path: str | Path) -> LoadedPolicy:
    """Load a checkpoint written by `train_strategy`; every failure is a one-line `BacktestError`."""
    from tradea3c.a3c import CheckpointError, load_checkpoint

    ckpt = resolve_checkpoint(path)
    try:
        model, config, meta = load_checkpoint(ckpt)
    except CheckpointError as exc:  # one line naming the file and the fix (damaged, refused, old)
        raise BacktestError(str(exc)) from None
    extra = meta.get("extra") or {}
    if "strategy" not in extra or "split" not in extra:
        raise BacktestError(
            f"{ckpt}: checkpoint has no strategy/split metadata (not written by "
            "`tradea3c train`); backtest a run trained with tradea3c train"
        )
    try:
        env_config = _stored_env_config(extra)
        stored = extra["strategy"].get("market", {})
        # a run from before point-in-time membership traded today's list: rebuild that market
        stored = stored if "membership" in stored else {**stored, "membership": "today"}
        market_spec = from_dict(MarketSpec, stored, where="market")
    except (ConfigError, KeyError) as exc:
        raise BacktestError(f"{ckpt}: its stored env or market config is unreadable ({exc})") from None
    return LoadedPolicy(
        ckpt,
        model,
        env_config,
        market_spec,
        DateSplit(extra["split"]["train_end"], extra["split"]["val_end"]),
        extra.get("market_fingerprint", ""),
        tuple(extra.get("tickers", ())),
        int(config.seed),
        meta,
        mode=str(config.mode),
    )


def ensemble_policy(policies: Sequence[LoadedPolicy], vote: bool = False) -> LoadedPolicy:
    """One policy averaging 2+ loaded checkpoints (`tradea3c.a3c.EnsembleModel`): their policies,
    or their Q-values when every member was trained by a value-based mode; ``vote``: each
    member's greedy action is one vote instead. Actor-critic and value-based members do not mix.

    Members must share the evaluation env (``env_config.for_evaluation()``: what the backtest
    runs), tickers, market spec and spaces (one-line `BacktestError` naming the odd one). The
    split ends at the latest member's ``val_end``, so no member's validation data counts as out of
    sample; path, seed, fingerprint and strategy metadata are the first member's.
    """
    from tradea3c.a3c.config import VALUE_BASED
    from tradea3c.a3c.models.ensemble import EnsembleModel

    if len(policies) < 2:
        raise BacktestError(
            f"--ensemble needs 2 or more runs, got {len(policies)}; pass several run directories "
            "(seeds or walk-forward folds)"
        )
    first = policies[0]

    def traits(p: LoadedPolicy) -> dict[str, Any]:
        meta = p.metadata
        return {
            "env config": p.env_config.for_evaluation(),
            "tickers": p.tickers,
            "market spec": p.market_spec,
            "observation space": meta.get("observation_space"),
            "action space": meta.get("action_space"),
        }

    ref = traits(first)
    for p in policies[1:]:
        for what, value in traits(p).items():
            if value != ref[what]:
                raise BacktestError(
                    f"{p.path}: its {what} differs from {first.path}'s; ensemble members must be "
                    "seeds or folds of one strategy"
                )
    value_based = [p.mode in VALUE_BASED for p in policies]
    if any(value_based) and not all(value_based):
        odd = next(p for p, v in zip(policies, value_based, strict=True) if v != value_based[0])
        raise BacktestError(
            f"{odd.path}: trained with a3c.mode = {odd.mode!r}, {first.path} with {first.mode!r}; an "
            "ensemble averages either policies or Q-values: pass runs of one mode"
        )
    combine = "vote" if vote else ("q" if all(value_based) else "probs")
    spaces = [(p.metadata.get("observation_space"), p.metadata.get("action_space")) for p in policies]
    try:
        model = EnsembleModel(
            [p.model for p in policies],
            None if any(x is None for sp in spaces for x in sp) else spaces,
            combine,
        )
    except ValueError as exc:
        raise BacktestError(f"{first.path}: {exc}") from None
    split = DateSplit(
        max((p.split.train_end for p in policies), key=pd.Timestamp),
        max((p.split.val_end for p in policies), key=pd.Timestamp),
    )
    return replace(first, model=model, split=split, members=tuple(p.path for p in policies))


def _date(value: str | None, flag: str) -> pd.Timestamp | None:
    if value is None:
        return None
    try:
        day = pd.Timestamp(value)
    except (ValueError, TypeError, OverflowError):
        raise BacktestError(f"{flag} {value!r} is not a date; use YYYY-MM-DD") from None
    if not pd.Timestamp.min <= day <= pd.Timestamp.max:  # beyond it, comparisons wrap around silently
        raise BacktestError(
            f"{flag} {value} is out of range: dates must lie between 1677-09-22 and 2262-04-11; "
            "pick a date inside the market"
        )
    return day


@dataclass(frozen=True)
class BarRange:
    lo: int  # base bar: first decision at its close
    hi: int  # last bar
    in_sample: bool

    @property
    def label(self) -> str:
        return "in-sample" if self.in_sample else "out-of-sample"


def resolve_range(
    market: Market, split: DateSplit, start: str | None, end: str | None, allow_in_sample: bool = False
) -> BarRange:
    """Bars of a backtest. Default: base bar = the last validation bar, so returns cover the whole
    test range (dates after val_end); refuses in-sample ranges unless ``allow_in_sample``."""
    d = market.dates
    val_end = np.datetime64(pd.Timestamp(split.val_end), "ns")
    s, e = _date(start, "--start"), _date(end, "--end")
    if s is not None and e is not None and s >= e:
        raise BacktestError(f"--start {start} is not before --end {end}; pass an earlier start")
    if s is None:
        lo = max(int(np.searchsorted(d, val_end, side="right")) - 1, 0)
    else:
        lo = int(np.searchsorted(d, np.datetime64(s, "ns"), side="left"))
    hi = len(d) - 1 if e is None else int(np.searchsorted(d, np.datetime64(e, "ns"), side="right")) - 1
    span = f"{market.start.date()}..{market.end.date()}"
    if lo >= len(d) or hi < 0 or hi - lo < 2:
        raise BacktestError(
            f"range {start or 'after val_end ' + split.val_end}..{end or 'end'} has fewer than "
            f"3 bars of the market ({span}); pick dates inside it"
        )
    in_sample = bool(d[lo + 1] <= val_end)
    if in_sample and not allow_in_sample:
        raise BacktestError(
            f"range {pd.Timestamp(d[lo]).date()}..{pd.Timestamp(d[hi]).date()} overlaps the checkpoint's "
            f"training/validation data (train <= {split.train_end}, val <= {split.val_end}); start on or "
            f"after {split.val_end} or pass --allow-in-sample (outputs are then labelled in-sample)"
        )
    return BarRange(lo, hi, in_sample)


def _env_split(market: Market, rng: BarRange) -> DateSplit:
    """A DateSplit whose "val" range is exactly bars lo..hi (how the env is pointed at any range)."""
    d = market.dates
    before = pd.Timestamp(d[rng.lo - 1]) if rng.lo > 0 else pd.Timestamp(d[0]) - pd.Timedelta(days=1)
    return DateSplit(str(before.date()), str(pd.Timestamp(d[rng.hi]).date()))


def policy_curve(
    pol: LoadedPolicy,
    market: Market,
    rng: BarRange,
    costs: CostConfig | None = None,
    *,
    greedy: bool = True,
    seed: int = 0,
    name: str = "policy",
) -> Curve:
    """Run the policy through the evaluation env over ``rng`` and replay its targets; raises if the
    env's equity and the replay's differ by more than 1e-9 (relative)."""
    import torch

    from tradea3c.a3c.models import Policy
    from tradea3c.a3c.play import run_episode

    cfg = pol.env_config.for_evaluation()
    if costs is not None:
        cfg = replace(cfg, costs=costs)
    day = lambda i: str(pd.Timestamp(market.dates[i]).date())  # noqa: E731
    if (
        market.tradable is not None
        and market.n_assets == 1
        and not market.tradable[rng.lo + 1 : rng.hi + 1].any()
    ):
        a, b = market.listed_span(0)
        listed = f"listed {day(a)}..{day(b)}" if b >= a else "never listed"
        raise BacktestError(
            f"{market.tickers[0]} is not listed in {day(rng.lo)}..{day(rng.hi)} ({listed}); pick "
            "--start/--end inside its listing"
        )
    try:
        env = make_env(market, cfg, _env_split(market, rng), "val")
    except ValueError as exc:
        raise BacktestError(
            f"cannot trade {pd.Timestamp(market.dates[rng.lo]).date()}.."
            f"{pd.Timestamp(market.dates[rng.hi]).date()}: {exc}"
        ) from None
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        trace = run_episode(Policy(pol.model, greedy=greedy), env, seed=seed)
    u = env.unwrapped
    # as decided: an anchored action is a tilt of the anchor; portfolio weights are renormalised
    # over the assets valid at the decision bar
    targets = [np.atleast_1d(info["target"]) for info in trace.infos[1:]]
    ep = u.episode
    src = ep.track.market
    tg = np.asarray(targets, dtype=np.float64)
    rep = replay(
        src,
        tg,
        start=ep.start,
        costs=cfg.costs,
        fill=cfg.fill,
        latency=cfg.latency,
        initial_equity=cfg.initial_equity,
        mode="on_change" if isinstance(cfg, MarketEnvConfig) else "always",
    )
    env_eq = np.asarray([info["equity"] for info in trace.infos])
    gap = float(np.max(np.abs(rep.equity - env_eq) / np.maximum(np.abs(rep.equity), 1.0)))
    if gap > EQUITY_TOL:
        raise RuntimeError(f"env and execution.replay disagree by {gap:.2e} (> {EQUITY_TOL}); please report")
    curve = curve_from_replay(name, src, ep.start, tg, rep)
    if len(tg) < ep.n_steps or curve.ruined_at is not None:
        # the evaluation env stops at ruin (equity < 0): carry the curve on at zero equity to the
        # end of the range, so that it is scored (and compared) over the same bars as the baselines
        if curve.ruined_at is None:
            raise RuntimeError(f"the policy stopped after {len(tg)} of {ep.n_steps} bars; please report")
        curve = ruined_tail(curve, src.dates[ep.start : ep.start + ep.n_steps + 1])
    return curve
