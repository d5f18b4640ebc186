"""The per-asset (per-item) policy: permutation equivariance, any universe size with one set of
weights, masking of unavailable assets, checkpoints, training end to end, and learning a planted
cross-sectional signal out of sample."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest
import torch
from torch.distributions import Dirichlet

from tradea3c.a3c import (
    A3CConfig,
    ModelConfig,
    build_model,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)
from tradea3c.a3c.models.base import sample_action
from tradea3c.a3c.models.builtin import BuiltinModelFactory, greedy_from
from tradea3c.a3c.models.per_asset import MaskedDirichlet, PerItemActorCritic
from tradea3c.config import ConfigError
from tradea3c.data.synthetic import changing_universe, planted_cross_section_market
from tradea3c.envs import CostConfig, PortfolioEnv, PortfolioEnvConfig, RewardConfig
from tradea3c.envs.config import DateSplit
from tradea3c.envs.execution import replay
from tradea3c.envs.make import make_env
from tradea3c.experiment import SplitSpec, StrategyConfig, train_strategy
from tradea3c.experiment.factory import run_greedy
from tradea3c.features.config import FeatureConfig

W, F = 3, 4
PER_ASSET = ModelConfig(kind="per_asset", hidden=(16, 16))


def spaces(n: int, action: str = "simplex") -> tuple[gym.spaces.Box, gym.spaces.Space]:
    obs = gym.spaces.Box(-5.0, 5.0, (W * n * F + n + 2,), np.float32)
    act = (
        gym.spaces.Discrete(n + 1) if action == "discrete" else gym.spaces.Box(0.0, 1.0, (n + 1,), np.float32)
    )
    return obs, act


def model_for(
    n: int, cfg: ModelConfig = PER_ASSET, action: str = "simplex", seed: int = 0
) -> PerItemActorCritic:
    torch.manual_seed(seed)
    model = BuiltinModelFactory(cfg, window=W)(*spaces(n, action))
    assert isinstance(model, PerItemActorCritic)
    return model


def observation(feats: np.ndarray, weights: np.ndarray, equity: np.ndarray) -> torch.Tensor:
    """Flat batch in the portfolio env's layout: feats [B, W, n, F], weights [B, n+1] (cash first)."""
    flat = np.concatenate([feats.reshape(len(feats), -1), weights, equity[:, None]], axis=1)
    return torch.as_tensor(flat, dtype=torch.float32)


def random_parts(n: int, batch: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    weights = rng.dirichlet(np.ones(n + 1), batch)
    return rng.normal(size=(batch, W, n, F)), weights, rng.normal(0.0, 0.1, batch)


def permuted(parts: tuple[np.ndarray, np.ndarray, np.ndarray], perm: np.ndarray) -> torch.Tensor:
    feats, weights, equity = parts
    return observation(feats[:, :, perm], weights[:, np.r_[0, perm + 1]], equity)


@pytest.mark.parametrize("action", ["simplex", "discrete"])
def test_permuting_assets_permutes_the_policy_and_keeps_the_value(action: str) -> None:
    n = 7
    model = model_for(n, action=action)
    parts = random_parts(n)
    parts[0][1, -1, 3] = 0.0  # asset 3 of row 1 unavailable at the decision bar
    perm = np.random.default_rng(1).permutation(n)
    with torch.no_grad():
        dist, value, _ = model(observation(*parts))
        dist_p, value_p, _ = model(permuted(parts, perm))
    slots = torch.as_tensor(np.r_[0, perm + 1])
    params = (lambda d: d.probs) if action == "discrete" else (lambda d: d.concentration)
    torch.testing.assert_close(params(dist_p), params(dist)[:, slots], rtol=1e-5, atol=1e-6)
    torch.testing.assert_close(value_p, value, rtol=1e-5, atol=1e-6)
    if action == "simplex":
        torch.testing.assert_close(greedy_from(dist_p), greedy_from(dist)[:, slots], rtol=1e-5, atol=1e-7)
        assert greedy_from(dist)[1, 4] == 0.0  # asset 3 (slot 4) masked
    assert not torch.allclose(params(dist)[:, 1:], params(dist)[:, 1:2])  # the assets are told apart


def test_one_set_of_weights_runs_on_universes_of_any_size() -> None:
    small = model_for(5)
    parts = random_parts(9, seed=2)
    obs9 = observation(*parts)
    with torch.no_grad():
        dist, value, _ = small(obs9)  # the forward pass reads n from the observation
        assert dist.concentration.shape == (4, 10) and torch.isfinite(value).all()
        big = model_for(9, seed=1)  # built for n = 9: the same state dict fits it
        big.load_state_dict(small.state_dict())
        dist_b, value_b, _ = big(obs9)
    assert torch.equal(dist_b.concentration, dist.concentration) and torch.equal(value_b, value)

    # unlisted assets (all-zero features, zero weight) change nothing for the others
    feats, weights, equity = random_parts(5, seed=3)
    wide_feats = np.concatenate([feats, np.zeros((4, W, 4, F))], axis=2)
    wide_weights = np.concatenate([weights, np.zeros((4, 4))], axis=1)
    with torch.no_grad():
        d5, v5, _ = small(observation(feats, weights, equity))
        d9, v9, _ = small(observation(wide_feats, wide_weights, equity))
    torch.testing.assert_close(d9.mean[:, :6], d5.mean, rtol=1e-6, atol=1e-7)
    assert torch.equal(d9.mean[:, 6:], torch.zeros(4, 4))
    torch.testing.assert_close(v9, v5, rtol=1e-6, atol=1e-6)


def n_params(model: torch.nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def test_parameter_count_does_not_depend_on_the_number_of_assets() -> None:
    counts = {n: n_params(model_for(n)) for n in (5, 30, 500)}
    assert len(set(counts.values())) == 1, counts
    # the realistic size of the sp500 strategy (window 5, 4 features, hidden 256-128): flat MLP vs per-asset
    cfg = ModelConfig(hidden=(256, 128))
    for n in (30, 500):
        obs = gym.spaces.Box(-5.0, 5.0, (5 * n * 4 + n + 2,), np.float32)
        act = gym.spaces.Box(0.0, 1.0, (n + 1,), np.float32)
        flat = n_params(build_model(cfg, obs, act))
        per = n_params(build_model(replace(cfg, kind="per_asset"), obs, act, window=5))
        print(f"n={n}: flat MLP {flat:,} parameters, per-asset {per:,}")
        assert per < flat


def test_masked_dirichlet_is_the_dirichlet_of_the_open_face() -> None:
    alpha = torch.tensor([[1.5, 2.0, 3.0, 1.2], [2.0, 1.1, 4.0, 1.3]])
    full = MaskedDirichlet(alpha, torch.ones_like(alpha, dtype=torch.bool))
    x = torch.tensor([[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25]])
    torch.testing.assert_close(full.log_prob(x), Dirichlet(alpha).log_prob(x))
    torch.testing.assert_close(full.entropy(), Dirichlet(alpha).entropy())
    mask = torch.tensor([[True, False, True, True], [True, True, False, False]])
    face = MaskedDirichlet(alpha, mask)
    for row in range(2):
        m = mask[row]
        sub = Dirichlet(alpha[row][m])
        xs = x[row][m] / x[row][m].sum()
        torch.testing.assert_close(face.log_prob(torch.zeros(4).masked_scatter(m, xs))[row], sub.log_prob(xs))
        torch.testing.assert_close(face.entropy()[row], sub.entropy())
    torch.testing.assert_close(face.mean[1], torch.tensor([2.0, 1.1, 0.0, 0.0]) / 3.1)


def test_masked_assets_get_no_weight_and_log_probs_stay_finite() -> None:
    n = 6
    model = model_for(n)
    feats, weights, equity = random_parts(n, batch=3, seed=4)
    feats[0, -1, [1, 4]] = 0.0  # row 0: assets 1 and 4 unavailable at the decision bar
    feats[1, -1] = 0.0  # row 1: no asset available (only cash)
    obs = observation(feats, weights, equity)
    torch.manual_seed(0)
    dist, value, _ = model(obs)
    mean = greedy_from(dist)
    assert torch.equal(mean[0, [2, 5]], torch.zeros(2)) and (mean[0, [0, 1, 3, 4, 6]] > 0).all()
    assert torch.equal(mean[1], torch.eye(n + 1)[0])  # all cash
    actions = sample_action(dist)
    assert torch.equal(actions[0, [2, 5]], torch.zeros(2)) and torch.equal(actions[1], torch.eye(n + 1)[0])
    torch.testing.assert_close(actions.sum(-1), torch.ones(3))
    logp, ent = dist.log_prob(actions), dist.entropy()
    assert torch.isfinite(logp).all() and torch.isfinite(ent).all()
    assert logp[1] == 0.0 and ent[1] == 0.0  # a point mass
    (-(logp + 0.01 * ent).sum() + value.pow(2).sum()).backward()
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)


def test_the_models_mask_is_the_envs_listing_mask() -> None:
    """On a universe with late listings and delistings, the assets the model masks are exactly
    those the env finds invalid at each decision bar, and its greedy weights there are 0."""
    market = changing_universe(8, 600, seed=1)
    cfg = PortfolioEnvConfig(action="simplex", window=W, episode_length=0)
    env = PortfolioEnv(market, cfg.for_evaluation())
    torch.manual_seed(0)
    model = BuiltinModelFactory(PER_ASSET, window=W)(env.observation_space, env.action_space)
    obs, _ = env.reset(seed=0)
    ep = env.episode
    assert ep.track.valid is not None
    closed = 0
    for t in range(ep.start, ep.start + ep.n_steps):
        x = torch.as_tensor(obs)[None]
        _, available, _ = model.split(x)
        assert np.array_equal(available[0].numpy(), ep.track.valid[t]), t
        with torch.no_grad():
            weights = greedy_from(model(x)[0])[0].numpy()
        assert (weights[1:][~ep.track.valid[t]] == 0).all()
        closed += int((~ep.track.valid[t]).sum())
        obs, *_ = env.step(weights)
    assert closed > 100  # the episode does cross listings and delistings


def _save_and_load(tmp_path: Path, model: PerItemActorCritic, n: int) -> PerItemActorCritic:
    factory = BuiltinModelFactory(PER_ASSET, window=W)
    path = save_checkpoint(
        tmp_path / "per_asset.pt",
        model=model,
        optimizer=None,
        config=A3CConfig(model=PER_ASSET),
        model_factory=factory,
        observation_space=spaces(n)[0],
        action_space=spaces(n)[1],
        counters={},
    )
    spec = read_checkpoint(path)["model_spec"]
    assert spec["factory"] == "builtin" and spec["window"] == W and spec["model"]["kind"] == "per_asset"
    loaded = load_checkpoint(path).model
    assert isinstance(loaded, PerItemActorCritic)
    return loaded


def test_checkpoint_round_trip_gives_the_same_outputs(tmp_path: Path) -> None:
    model = model_for(5)
    loaded = _save_and_load(tmp_path, model, 5)
    for n in (5, 11):  # on its own universe and on a larger one
        obs = observation(*random_parts(n, seed=n))
        with torch.no_grad():
            (d0, v0, _), (d1, v1, _) = model(obs), loaded(obs)
        assert torch.equal(d0.concentration, d1.concentration) and torch.equal(v0, v1)


def test_engine_and_strategy_refusals_are_one_line() -> None:
    with pytest.raises(ValueError, match="needs the items' window"):
        BuiltinModelFactory(PER_ASSET)(*spaces(5))
    with pytest.raises(ValueError, match=r"the env's window\?"):
        BuiltinModelFactory(PER_ASSET, window=7)(*spaces(5))  # 60 window floats: not 5 x 7 x F
    with pytest.raises(ValueError, match="does not fit the action space"):
        build_model(replace(PER_ASSET, policy="categorical"), *spaces(5), window=W)
    market = planted_cross_section_market(300, 4)
    strategy = StrategyConfig(a3c=replace(A3CConfig(), model=PER_ASSET))
    factory = strategy.model_factory(market)
    assert factory.window == strategy.portfolio.window == 10
    bad = [
        (replace(strategy, env_kind="market"), "needs the portfolio env"),
        (
            replace(strategy, portfolio=replace(strategy.portfolio, action="continuous")),
            "'simplex' or 'discrete'",
        ),
    ]
    for cfg, message in bad:
        with pytest.raises(ConfigError, match=message) as info:
            cfg.model_factory(market)
        assert "\n" not in str(info.value)
    assert StrategyConfig().model_factory(market) == BuiltinModelFactory(ModelConfig())  # mlp: as before


def portfolio_strategy(steps: int, **a3c: object) -> StrategyConfig:
    return StrategyConfig(
        name="per-asset",
        env_kind="portfolio",
        profiles=(),
        envs_per_worker=1,  # the settings the learning test's bar was measured with
        portfolio=PortfolioEnvConfig(
            action="simplex",
            window=2,
            episode_length=128,
            features=FeatureConfig(names=("ret_1", "volume_z")),
            costs=CostConfig(commission_bps=1.0, half_spread_bps=0.5, slippage_bps=0.0),
            reward=RewardConfig(scale=100.0),
        ),
        a3c=A3CConfig(
            **{
                "workers": 1,
                "total_steps": steps,
                "t_max": 20,
                "lr": 1e-3,
                "eval_every": 0,
                "tensorboard": False,
                "model": ModelConfig(kind="per_asset"),
                **a3c,
            }
        ),
    )


def test_tiny_portfolio_training_run_with_the_per_asset_model(tmp_path: Path) -> None:
    market = changing_universe(6, 500, seed=2)
    cfg = portfolio_strategy(400)
    cfg = replace(cfg, portfolio=replace(cfg.portfolio, episode_length=32, features=FeatureConfig()))
    result = train_strategy(cfg, tmp_path / "run", progress=False, market=market)
    assert result.global_step >= 400
    loaded = load_checkpoint(result.latest_checkpoint)
    assert isinstance(loaded.model, PerItemActorCritic)
    assert loaded.metadata["model_spec"]["window"] == cfg.portfolio.window
    split = DateSplit(**read_checkpoint(result.latest_checkpoint)["extra"]["split"])
    env = make_env(market, cfg.portfolio.for_evaluation(), split, "val")
    equity = run_greedy(loaded.model, env)
    assert len(equity) > 10 and np.isfinite(equity).all()
    # the same weights trade a universe of another size (one more asset than it was trained on)
    other = changing_universe(7, 500, seed=5)
    assert np.isfinite(
        run_greedy(loaded.model, make_env(other, cfg.portfolio.for_evaluation(), split, "val"))
    ).all()


def test_the_per_asset_discrete_scorer_trains_as_a_q_network(tmp_path: Path) -> None:
    """n-step Q on the per-asset discrete model: its item scores are the Q-values, unlisted members'
    are never greedy, and the run trains, checkpoints and trades greedily like an A3C run."""
    from tradea3c.a3c.qlearning import q_values

    market = changing_universe(6, 500, seed=2)
    cfg = portfolio_strategy(400, mode="nstep_q", target_sync=100, t_max=5)
    cfg = replace(
        cfg,
        portfolio=replace(cfg.portfolio, action="discrete", episode_length=32, features=FeatureConfig()),
    )
    result = train_strategy(cfg, tmp_path / "run", progress=False, market=market)
    loaded = load_checkpoint(result.latest_checkpoint)
    assert isinstance(loaded.model, PerItemActorCritic) and loaded.config.value_based
    split = DateSplit(**read_checkpoint(result.latest_checkpoint)["extra"]["split"])
    env = make_env(market, cfg.portfolio.for_evaluation(), split, "val")
    obs, _ = env.reset(seed=0)
    batch = torch.as_tensor(obs, dtype=torch.float32)[None]
    q, _ = q_values(loaded.model, batch)
    _, available, _ = loaded.model.split(batch)
    assert q.shape == (1, 7) and not available.all()  # cash + 6 members, some of them unlisted here
    greedy = int(q.argmax(-1))
    assert greedy == 0 or bool(available[0, greedy - 1])
    assert np.isfinite(run_greedy(loaded.model, env)).all()


def oracle_log_return(market, env_cfg: PortfolioEnvConfig, start: int, n_steps: int) -> float:
    """The oracle: at each decision bar, equal weights on exactly the assets that rise on the next
    bar (the announced ones), replayed through the same execution and costs."""
    close = market.close
    up = close[start + 1 : start + n_steps + 1] > close[start : start + n_steps]
    targets = up / up.sum(1, keepdims=True)
    rep = replay(market, targets, start=start, costs=env_cfg.costs, fill=env_cfg.fill, mode="always")
    return float(np.log(rep.equity[-1]))


@pytest.mark.slow
def test_per_asset_policy_captures_the_cross_sectional_oracle_out_of_sample(tmp_path: Path) -> None:
    """Train on the first 60% of a planted cross-sectional universe (8 assets, 2 announced risers
    per bar), select on validation, score greedily on the last 25% (never trained on), against the
    oracle of `oracle_log_return` net of the same costs."""
    market = planted_cross_section_market(2000, 8, winners=2, seed=0)
    split = DateSplit(str(market.dates[1200])[:10], str(market.dates[1500])[:10])
    cfg = portfolio_strategy(60_000, workers=2, eval_every=10_000, entropy_coef=0.001)
    cfg = replace(cfg, split=SplitSpec(split.train_end, split.val_end))
    result = train_strategy(cfg, tmp_path / "run", progress=False, market=market)
    assert result.best_checkpoint is not None
    model = load_checkpoint(result.best_checkpoint).model
    env_cfg = cfg.portfolio.for_evaluation()
    env = make_env(market, env_cfg, split, "test")
    agent = float(np.log(run_greedy(model, env)[-1]))
    ep = env.unwrapped.episode
    oracle = oracle_log_return(market, env_cfg, ep.start, ep.n_steps)
    share = agent / oracle
    print(f"per-asset agent log-return {agent:.2f}, oracle {oracle:.2f} ({share:.0%}), {result.wall_s:.0f}s")
    assert oracle > 1.0
    assert agent >= 0.7 * oracle, (agent, oracle)
