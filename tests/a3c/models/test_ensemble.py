"""Ensemble policies: averaged probabilities / weights, refusals, ensemble backtests and the CLI."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from tradea3c.a3c import EnsembleModel, ModelConfig, Policy, build_model
from tradea3c.a3c.models.base import sample_action
from tradea3c.a3c.models.builtin import greedy_from
from tradea3c.backtest.engine import BacktestError, ensemble_policy, load_policy, policy_curve
from tradea3c.backtest.runner import backtest_run, common_range
from tradea3c.envs.config import DateSplit

OBS = gym.spaces.Box(-1.0, 1.0, (2,), np.float32)
X = np.array([0.3, -0.7], dtype=np.float32)


def _tiny_model(seed: int, action_space: gym.Space, **cfg):
    torch.manual_seed(seed)
    model = build_model(ModelConfig(hidden=(4,), **cfg), OBS, action_space)
    with torch.no_grad():  # larger head weights than the 0.01 init, so members really differ
        model.policy.linear.weight.normal_(0.0, 1.0)
        model.policy.linear.bias.normal_(0.0, 0.5)
    return model.eval()


def _head_logits(model, x: np.ndarray) -> np.ndarray:
    """The policy head's pre-activation of an MLP member, by hand in numpy (float64)."""
    w1, b1 = (t.detach().double().numpy() for t in (model.actor_trunk[0].weight, model.actor_trunk[0].bias))
    w2, b2 = (t.detach().double().numpy() for t in (model.policy.linear.weight, model.policy.linear.bias))
    return w2 @ np.tanh(w1 @ x.astype(np.float64) + b1) + b2


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max())
    return e / e.sum()


def _set_probs(model, probs: tuple[float, ...]) -> None:
    """Make a member's policy constant: softmax(bias) = probs whatever the observation."""
    with torch.no_grad():
        model.policy.linear.weight.zero_()
        model.policy.linear.bias.copy_(torch.log(torch.tensor(probs)))


def _dist(model, x: np.ndarray = X):
    """The model's distribution for one observation or a batch of them."""
    with torch.no_grad():
        return model(torch.as_tensor(np.atleast_2d(x)))[0]


# ---------------------------------------------------------------- categorical heads
def test_categorical_probabilities_are_the_mean_of_softmaxes() -> None:
    members = [_tiny_model(s, gym.spaces.Discrete(3)) for s in range(3)]
    by_hand = np.stack([_softmax(_head_logits(m, X)) for m in members])
    assert np.ptp(by_hand.argmax(1)) > 0 or np.ptp(by_hand, 0).max() > 0.05  # members differ
    ens = EnsembleModel(members)
    probs = _dist(ens).probs[0].numpy()
    np.testing.assert_allclose(probs, by_hand.mean(0), rtol=0, atol=1e-6)
    assert Policy(ens).act(X) == int(by_hand.mean(0).argmax())


def test_greedy_is_argmax_of_the_mean_not_a_vote() -> None:
    table = [(0.55, 0.44, 0.01), (0.55, 0.44, 0.01), (0.01, 0.50, 0.49)]
    members = [_tiny_model(s, gym.spaces.Discrete(3)) for s in range(3)]
    for m, p in zip(members, table, strict=True):
        _set_probs(m, p)
    own = [Policy(m).act(X) for m in members]
    assert own == [0, 0, 1]  # majority vote: 0
    mean = np.mean(table, axis=0)  # (0.37, 0.46, 0.17)
    ens = EnsembleModel(members)
    np.testing.assert_allclose(_dist(ens).probs[0].numpy(), mean, rtol=0, atol=1e-6)
    assert Policy(ens).act(X) == 1 == int(mean.argmax())
    assert greedy_from(_dist(ens)).item() == 1


def test_sampling_draws_from_the_mixture() -> None:
    table = [(0.7, 0.2, 0.1), (0.1, 0.1, 0.8)]
    members = [_tiny_model(s, gym.spaces.Discrete(3)) for s in range(2)]
    for m, p in zip(members, table, strict=True):
        _set_probs(m, p)
    n, mean = 20_000, np.mean(table, axis=0)
    torch.manual_seed(0)
    dist = _dist(EnsembleModel(members), np.tile(X, (n, 1)))
    freq = np.bincount(sample_action(dist).numpy(), minlength=3) / n
    se = np.sqrt(mean * (1 - mean) / n)
    assert np.all(np.abs(freq - mean) < 4 * se), (freq, mean)
    torch.manual_seed(1)  # the stateful policy samples too
    pol = Policy(EnsembleModel(members), greedy=False)
    draws = np.bincount([pol.act(X) for _ in range(2000)], minlength=3) / 2000
    assert np.all(np.abs(draws - mean) < 4 * np.sqrt(mean * (1 - mean) / 2000))


# ---------------------------------------------------------------- Dirichlet heads
def test_dirichlet_greedy_is_the_mean_of_member_means() -> None:
    simplex = gym.spaces.Box(0.0, 1.0, (3,), np.float32)
    members = [_tiny_model(s, simplex, policy="dirichlet") for s in range(3)]
    alphas = [1.0 + np.logaddexp(0.0, _head_logits(m, X)) for m in members]  # 1 + softplus
    means = np.stack([a / a.sum() for a in alphas])
    assert np.ptp(means, 0).max() > 0.05
    ens = EnsembleModel(members)
    np.testing.assert_allclose(Policy(ens).act(X), means.mean(0), rtol=0, atol=1e-6)
    n = 20_000
    torch.manual_seed(0)
    draws = sample_action(_dist(ens, np.tile(X, (n, 1)))).numpy()
    assert draws.shape == (n, 3) and np.allclose(draws.sum(1), 1, atol=1e-5) and (draws > 0).all()
    se = draws.std(0) / np.sqrt(n)
    assert np.all(np.abs(draws.mean(0) - means.mean(0)) < 4 * se)


# ---------------------------------------------------------------- recurrent members
def test_lstm_members_keep_their_own_states() -> None:
    members = [_tiny_model(s, gym.spaces.Discrete(3), kind="lstm", lstm_size=5) for s in range(2)]
    members.append(_tiny_model(7, gym.spaces.Discrete(3)))  # feed-forward members mix in
    ens = EnsembleModel(members)
    assert ens.recurrent and len(ens.initial_state(1)) == 4
    obs = torch.randn(4, 1, 2, generator=torch.Generator().manual_seed(3))
    state, own = ens.initial_state(1), [m.initial_state(1) for m in members]
    with torch.no_grad():
        for x in obs:
            dist, _, state = ens(x, state)
            probs = []
            for i, m in enumerate(members):
                d, _, own[i] = m(x, own[i])
                probs.append(d.probs)
            np.testing.assert_allclose(dist.probs, torch.stack(probs).mean(0), rtol=0, atol=1e-6)
    np.testing.assert_allclose(torch.cat(state, 1), torch.cat(own[0] + own[1], 1), rtol=0, atol=0)


# ---------------------------------------------------------------- refusals
def test_mismatched_spaces_are_refused_in_one_line() -> None:
    a = _tiny_model(0, gym.spaces.Discrete(3))
    b = build_model(ModelConfig(hidden=(4,)), gym.spaces.Box(-1, 1, (5,)), gym.spaces.Discrete(3))
    c = _tiny_model(1, gym.spaces.Discrete(4))
    cases = [
        ([a, b], [(OBS, gym.spaces.Discrete(3)), (gym.spaces.Box(-1, 1, (5,)), gym.spaces.Discrete(3))]),
        ([a, c], [(OBS, gym.spaces.Discrete(3)), (OBS, gym.spaces.Discrete(4))]),
    ]
    for (models, spaces), what in zip(cases, ("observation space", "action space"), strict=True):
        with pytest.raises(ValueError, match=f"member 1 has {what}") as err:
            EnsembleModel(models, spaces)
        assert len(str(err.value).splitlines()) == 1
    with pytest.raises(ValueError, match="disagree on the action shape") as err:  # no spaces given
        _dist(EnsembleModel([a, c]))
    assert len(str(err.value).splitlines()) == 1
    d = _tiny_model(2, gym.spaces.Box(0, 1, (3,)), policy="dirichlet")
    with pytest.raises(TypeError, match="Categorical or Dirichlet") as err:
        _dist(EnsembleModel([a, d]))
    assert len(str(err.value).splitlines()) == 1


# ---------------------------------------------------------------- backtests
def _perturbed(src: Path, dst: Path, scale: float = 0.5) -> Path:
    """A copy of a run whose policy head got seeded noise: a member that acts differently."""
    from tradea3c.a3c.checkpoint import read_checkpoint
    from tradea3c.a3c.checkpoint.format import write_payload

    payload = read_checkpoint(src / "best.pt")
    gen = torch.Generator().manual_seed(0)
    for key, value in payload["model"].items():
        if key.startswith("policy."):
            payload["model"][key] = value + scale * torch.randn(value.shape, generator=gen)
    dst.mkdir()
    write_payload(dst / "best.pt", payload)
    return dst


@pytest.fixture(scope="module")
def runs(tiny_runs: Callable[[int], Path], tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ...]:
    """The session's two tiny trained seeds (on the easy planted signal they may learn the same
    greedy policy) and a perturbed copy of the second that trades differently."""
    return tiny_runs(0), tiny_runs(1), _perturbed(tiny_runs(1), tmp_path_factory.mktemp("ens") / "odd")


def test_ensemble_backtest_names_members_and_lists_their_curves(runs) -> None:
    from tradea3c.backtest.report import run_name, tradea3c_section

    rep = backtest_run(list(runs[:2]), ensemble=True, costs_bps=(0, 10))
    pols = [load_policy(r) for r in runs[:2]]
    assert rep.label == "out-of-sample"
    assert rep.members == [str(p.path) for p in pols]
    assert rep.checkpoint.startswith("ensemble of 2: ") and all(m in rep.checkpoint for m in rep.members)
    assert rep.policy.name == "policy" and list(rep.metrics)[0] == "policy" and rep.policy.trades.any()
    assert [level.cost_bps for level in rep.cost_sweep] == [0.0, 10.0]
    assert [r.run for r in rep.seeds.runs] == rep.members and rep.seeds.dsr.n_trials == 2
    assert rep.to_json()["members"] == rep.members
    names = ", ".join(run_name(m) for m in rep.members)  # each member by its run directory's name
    assert f"ensemble of 2: {names}" in tradea3c_section(rep)


def test_seed_table_lists_each_member_on_its_own(runs) -> None:
    """Members that act differently: the ensemble is neither, the seed table holds each member."""
    pols = [load_policy(r) for r in (runs[0], runs[2])]
    rep = backtest_run([p.path for p in pols], ensemble=True, costs_bps=(), rules=[], n_trials=5)
    rng = common_range(pols, rep.market, None, None, False)
    own = [policy_curve(p, rep.market, rng) for p in pols]
    assert own[0].dates[0] == rep.policy.dates[0]
    assert not np.array_equal(own[0].weights, own[1].weights)
    assert all(not np.array_equal(rep.policy.weights, c.weights) for c in own)
    assert [r.run for r in rep.seeds.runs] == [str(p.path) for p in pols]
    for row, curve in zip(rep.seeds.runs, own, strict=True):
        assert row.stats.total_return == pytest.approx(curve.metrics().total_return, abs=1e-12)
    assert rep.seeds.dsr.n_trials == 5


def test_ensemble_of_one_run_twice_is_that_run(runs) -> None:
    solo = backtest_run(runs[0], costs_bps=(), rules=[])
    twice = backtest_run([runs[0], runs[0]], ensemble=True, costs_bps=(), rules=[])
    assert twice.policy.trades.any()
    np.testing.assert_array_equal(twice.policy.equity, solo.policy.equity)
    np.testing.assert_array_equal(twice.policy.weights, solo.policy.weights)


def test_ensemble_split_is_the_latest_val_end_and_mismatches_refused(runs) -> None:
    a, b = (load_policy(r) for r in runs[:2])
    late = replace(b, split=DateSplit(b.split.train_end, "2099-01-01"))
    ens = ensemble_policy([a, late])
    assert ens.split.val_end == "2099-01-01" and ens.split.train_end == a.split.train_end
    assert ens.members == (a.path, b.path) and isinstance(ens.model, EnsembleModel)
    odd = [
        (replace(b, env_config=replace(b.env_config, window=b.env_config.window + 1)), "env config"),
        (replace(b, tickers=("XYZ",)), "tickers"),
        (replace(b, market_spec=replace(b.market_spec, synthetic_seed=9)), "market spec"),
    ]
    for other, what in odd:
        with pytest.raises(BacktestError, match=f"its {what} differs") as err:
            ensemble_policy([a, other])
        assert str(b.path) in str(err.value) and len(str(err.value).splitlines()) == 1
    with pytest.raises(BacktestError, match="2 or more runs"):
        ensemble_policy([a])


def test_cli_ensemble(runs, tmp_path: Path) -> None:
    from tradea3c.cli import app

    js = tmp_path / "m.json"
    args = ["backtest", str(runs[0]), str(runs[2]), "--ensemble", "--costs", "0", "--json-out", str(js)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads(js.read_text())
    assert len(data["members"]) == 2 and data["checkpoint"].startswith("ensemble of 2")
    assert all(str(r) in m for r, m in zip((runs[0], runs[2]), data["members"], strict=True))
    assert "ensemble of 2" in res.output
    res = CliRunner().invoke(app, ["backtest", str(runs[0]), "--ensemble"])
    assert res.exit_code == 2 and "2 or more runs" in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_value_based_members_average_q_values_or_vote() -> None:
    """Q members: "q" takes the argmax of the mean Q (not of the mean softmax), "vote" the most votes."""
    from tradea3c.a3c.models.base import ScoredCategorical
    from tradea3c.a3c.models.ensemble import combine_distributions

    a = ScoredCategorical(torch.tensor([[10.0, 0.0, 9.0]]))  # greedy 0
    b = ScoredCategorical(torch.tensor([[0.0, 1.0, 9.0]]))  # greedy 2
    c = ScoredCategorical(torch.tensor([[0.0, 2.0, 1.0]]))  # greedy 1
    mean_q = combine_distributions([a, b, c], "q")
    assert mean_q.scores.tolist() == [[pytest.approx(10 / 3), 1.0, pytest.approx(19 / 3)]]
    assert int(mean_q.logits.argmax(-1)) == 2
    votes = combine_distributions([a, b, b, c], "vote")
    assert votes.probs.tolist() == [[0.25, 0.25, 0.5]]
    with pytest.raises(ValueError, match="combine"):
        EnsembleModel([torch.nn.Linear(1, 1)], combine="median")  # type: ignore[list-item]
