"""Atari suite unit tests: preprocessing spec, models, presets, references, table format (fast)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import torch

from tradea3c.atari import AtariEnvFactory, AtariModelFactory, AtariTrainConfig, make_atari_env
from tradea3c.atari.benchmark import MILESTONES, game_row, milestones_for, write_table
from tradea3c.atari.envs import camel_name, make_vector_env, rom_name
from tradea3c.atari.reference_scores import human_normalized, references
from tradea3c.atari.train import a3c_config

pytestmark = pytest.mark.atari  # every test here runs ale-py games


def test_game_names():
    assert rom_name("SpaceInvaders") == "space_invaders"
    assert rom_name("BeamRider") == "beam_rider"
    assert rom_name("Pong") == "pong"
    assert camel_name("space_invaders") == "SpaceInvaders"
    assert camel_name("Qbert") == "Qbert"


@pytest.mark.parametrize("backend", ["gym", "vector"])
def test_observation_spec_and_stacking_order(backend):
    env = AtariEnvFactory("Pong", num_envs=1, backend=backend)(0)
    vec = backend == "vector"
    space = env.single_observation_space if vec else env.observation_space
    assert space.shape == (4, 84, 84) and space.dtype == np.uint8
    n_actions = (env.single_action_space if vec else env.action_space).n
    assert n_actions == 6  # Pong's minimal action set
    obs, _ = env.reset(seed=3)
    obs = obs[0] if vec else obs
    assert obs.shape == (4, 84, 84) and obs.dtype == np.uint8
    frames = [obs]
    for _ in range(40):
        o = env.step(np.array([2]) if vec else 2)[0]
        frames.append(o[0] if vec else o)
    env.close()
    for prev, cur in zip(frames[:-1], frames[1:], strict=True):
        np.testing.assert_array_equal(cur[:3], prev[1:])  # oldest frame first, newest last
    assert any(not np.array_equal(a[3], b[3]) for a, b in zip(frames[:-1], frames[1:], strict=True))


def _lives_run(env, vec: bool, steps: int = 4000, seed: int = 0):
    """Random play; returns (terminated_while_lives_left, lives_lost_without_terminal)."""
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    lives = int(np.asarray(info["lives"]).reshape(-1)[0])
    term_with_lives = lost_silently = False
    for _ in range(steps):
        a = rng.integers(0, 4)
        _, _, te, tr, info = env.step(np.array([a]) if vec else int(a))
        te = bool(np.asarray(te).reshape(-1)[0]) or bool(np.asarray(tr).reshape(-1)[0])
        now = int(np.asarray(info["lives"]).reshape(-1)[0])
        if te and now > 0:
            term_with_lives = True
            break
        if now < lives and not te:
            lost_silently = True
            break
        lives = now
        if te:
            env.reset()
    env.close()
    return term_with_lives, lost_silently


def test_life_loss_terminal_only_in_training_gym():
    assert _lives_run(make_atari_env("Breakout", training=True), vec=False) == (True, False)
    assert _lives_run(make_atari_env("Breakout", training=False), vec=False) == (False, True)


def test_life_loss_terminal_only_in_training_vector():
    assert _lives_run(make_vector_env("Breakout", 1, training=True), vec=True) == (True, False)
    assert _lives_run(make_vector_env("Breakout", 1, training=False), vec=True) == (False, True)


def test_reward_clipping_only_in_training_gym():
    from gymnasium.wrappers import ClipReward

    def wrappers(env):
        out = []
        while hasattr(env, "env"):
            out.append(type(env))
            env = env.env
        return out

    assert ClipReward in wrappers(make_atari_env("Pong", training=True))
    assert ClipReward not in wrappers(make_atari_env("Pong", training=False))


@pytest.mark.parametrize("arch,lstm", [("a3c", False), ("nature", False), ("a3c", True)])
def test_models(arch, lstm):
    env = make_vector_env("Pong", 2, training=True)
    model = AtariModelFactory(arch, lstm)(env.single_observation_space, env.single_action_space)
    obs, _ = env.reset(seed=0)
    env.close()
    x = torch.as_tensor(obs, dtype=torch.float32)
    state = model.initial_state(2)
    dist, value, new_state = model(x, state)
    assert dist.logits.shape == (2, 6) and value.shape == (2,)
    assert model.recurrent == lstm and (new_state is not None) == lstm
    widths = {"a3c": 256, "nature": 512}
    fc = [m for m in model.trunk if isinstance(m, torch.nn.Linear)][0]
    assert fc.out_features == widths[arch]
    if arch == "a3c":
        convs = [m for m in model.trunk if isinstance(m, torch.nn.Conv2d)]
        assert [(c.out_channels, c.kernel_size, c.stride) for c in convs] == [
            (16, (8, 8), (4, 4)),
            (32, (4, 4), (2, 2)),
        ]
    # pixels are scaled inside the model: a 0..255 input gives bounded activations
    assert torch.isfinite(value).all() and value.abs().max() < 10


@pytest.mark.parametrize("lstm", [False, True])
def test_the_atari_cnn_is_a_q_network(lstm):
    """The value-based modes read the CNN's categorical head as Q-values: one per action, and the
    greedy action is their argmax."""
    from tradea3c.a3c.qlearning import check_q_model, q_values

    env = make_vector_env("Pong", 2, training=True)
    model = AtariModelFactory("a3c", lstm)(env.single_observation_space, env.single_action_space)
    obs, _ = env.reset(seed=0)
    check_q_model(model, env.single_observation_space, env.single_action_space, "nstep_q")
    env.close()
    x = torch.as_tensor(obs, dtype=torch.float32)
    q, _ = q_values(model, x, model.initial_state(2))
    dist, _, _ = model(x, model.initial_state(2))
    assert q.shape == (2, 6) and torch.equal(q.argmax(-1), dist.logits.argmax(-1))


def test_a_mode_override_makes_an_atari_run_value_based():
    """`train_atari` evaluates greedily exactly when its engine config is value-based."""
    cfg = AtariTrainConfig(game="Pong", frames=4000, a3c=("mode=nstep_q",))
    assert a3c_config(cfg)[0].value_based and not a3c_config(AtariTrainConfig())[0].value_based


def test_presets_paper_defaults():
    a3c, k = a3c_config(AtariTrainConfig(frames=4_000_000))
    assert k == 1 and a3c.total_steps == 1_000_000
    assert (a3c.t_max, a3c.gamma, a3c.entropy_coef, a3c.optimizer) == (5, 0.99, 0.01, "rmsprop")
    assert (a3c.rmsprop_alpha, a3c.eps, a3c.lr, a3c.lr_anneal) == (0.99, 0.1, 7e-4, True)
    fast, k = a3c_config(AtariTrainConfig(preset="fast", a3c=("lr=3e-4", "t_max=20"), envs_per_worker=4))
    assert k == 4 and fast.optimizer == "adam" and fast.lr == 3e-4 and fast.t_max == 20
    with pytest.raises(ValueError):
        a3c_config(AtariTrainConfig(preset="nope"))


def test_references_have_sources_and_conditions():
    ref = references()
    for game in ("Pong", "Breakout", "BeamRider", "Qbert", "Seaquest", "SpaceInvaders"):
        for key in ("random", "human", "a3c_ff_1day"):
            entry = ref["games"][game][key]
            assert entry["source"] in ref["sources"]
            assert entry["condition"] in ("no-op starts", "human starts")
            assert entry["status"] in ("cross-checked", "single-source", "recalled")
    assert math.isclose(human_normalized("Pong", 9.3), 1.0)
    assert math.isclose(human_normalized("Pong", -20.7), 0.0)
    assert human_normalized("NoSuchGame", 1.0) is None


def test_time_to_score_milestones_follow_each_games_scale():
    assert milestones_for("Pong") == MILESTONES and milestones_for(None) == MILESTONES
    assert milestones_for("NoSuchGame") == MILESTONES
    breakout = milestones_for("Breakout")  # random 1.7, human 31.8
    assert breakout == (9.2, 16.8, 31.8, 61.9, 122.1, 242.5)
    assert [round(human_normalized("Breakout", m), 2) for m in breakout] == [0.25, 0.5, 1.0, 2.0, 4.0, 8.0]


def test_benchmark_table_format(tmp_path):
    ev = {"score": 20.0, "median": 21.0, "min": 18.0, "max": 21.0, "std": 1.0, "episodes": 30.0}
    rows = [game_row("Pong", 10_000_000, ev, 3600.0, "runs/x", "Pong_learning_curve.png")]
    md, js = write_table(rows, tmp_path, {"frames_per_game": 10_000_000})
    text = md.read_text().splitlines()
    assert text[0].startswith("| Game | Frames |") and text[1].startswith("|---|")
    assert text[2].startswith(
        "| Pong | 10,000,000 | 60.0 | 20.0 +- 1.0 (n=30) | 21.0 | 135.7% | - | - | -20.7 | 9.3 | 11.4 |"
    )
    data = json.loads(js.read_text())
    assert data["games"][0]["human_normalized"] == pytest.approx((20.0 + 20.7) / 30.0)


def test_gym_backend_vector_through_engine_batch():
    from tradea3c.a3c.rollout import EnvBatch

    batch = EnvBatch([AtariEnvFactory("Pong", num_envs=2, backend="gym")(0)])
    obs = batch.reset(seed=1)
    assert obs.shape == (2, 4, 84, 84) and obs.dtype == np.uint8
    out = batch.step(np.array([0, 1]))
    assert out["obs"].shape == (2, 4, 84, 84) and out["valid"].all()
    batch.close()


def _after_first_life_loss(env, vec: bool, seed: int = 0) -> tuple[int, int, int]:
    """Random Qbert play until the first life-loss terminal; (lives at start, lives at the terminal,
    lives on the next observation: after the engine's reset for a single env, the next step for SAME_STEP
    vector envs)."""
    rng = np.random.default_rng(seed)
    _, info = env.reset(seed=seed)
    start = int(np.asarray(info["lives"]).reshape(-1)[0])
    for _ in range(5000):
        a = rng.integers(0, 6)
        _, _, te, tr, info = env.step(np.array([a]) if vec else int(a))
        if bool(np.asarray(te).reshape(-1)[0]):
            at = int(np.asarray(info["lives"]).reshape(-1)[0])
            if vec:
                _, _, _, _, info = env.step(np.array([0]))
            else:
                _, info = env.reset()
            return start, at, int(np.asarray(info["lives"]).reshape(-1)[0])
    raise AssertionError("no life lost in 5000 random steps")


@pytest.mark.parametrize("vec", [True, False], ids=["vector", "gym"])
def test_the_game_goes_on_after_a_life_loss_terminal(vec: bool) -> None:
    """Training with life_loss="continue" (default): a lost life is a terminal but the game keeps its
    remaining lives; "reset" (the old behaviour) starts a new game with all lives."""

    def make(life_loss: str):
        if vec:
            return make_vector_env("Qbert", 1, training=True, life_loss=life_loss)
        return make_atari_env("Qbert", training=True, life_loss=life_loss)

    start, at, after = _after_first_life_loss(make("continue"), vec)
    assert 0 < at < start and after == at  # same game, one life fewer
    start, at, after = _after_first_life_loss(make("reset"), vec)
    assert after == start  # a new game


def test_life_loss_mode_is_checked() -> None:
    with pytest.raises(ValueError, match="life_loss 'sometimes'"):
        make_vector_env("Pong", 1, training=True, life_loss="sometimes")


def test_uint8_frames_give_bit_identical_outputs_and_gradients() -> None:
    """The rollout keeps Atari frames as uint8 (a quarter of the bytes); the model's outputs and the
    gradient of a loss on them are bit-identical to those from the same frames as float32."""
    import gymnasium as gym
    import torch

    from tradea3c.atari.model import AtariModelFactory

    space = gym.spaces.Box(0, 255, (4, 84, 84), np.uint8)
    frames = torch.as_tensor(np.random.default_rng(0).integers(0, 256, (20, 4, 84, 84), dtype=np.uint8))
    grads = []
    for obs in (frames, frames.float()):
        torch.manual_seed(0)
        model = AtariModelFactory()(space, gym.spaces.Discrete(6))
        dist, value, _ = model(obs)
        (dist.log_prob(torch.zeros(20, dtype=torch.long)).mean() + value.pow(2).mean()).backward()
        grads.append((dist.logits.detach(), value.detach(), [p.grad.clone() for p in model.parameters()]))
    (logits_a, value_a, grad_a), (logits_b, value_b, grad_b) = grads
    assert torch.equal(logits_a, logits_b) and torch.equal(value_a, value_b)
    assert all(torch.equal(a, b) for a, b in zip(grad_a, grad_b, strict=True))


def test_evaluation_reports_the_policy_entropy():
    """A uniform policy reads ln(actions); one that always prefers an action reads about 0."""
    from tradea3c.atari.evaluate import play

    env = make_vector_env("Pong", 1, training=True)
    model = AtariModelFactory()(env.single_observation_space, env.single_action_space)
    env.close()
    with torch.no_grad():
        model.policy.linear.weight.zero_()
        model.policy.linear.bias.zero_()
    games = play(model, "Pong", 2, max_episode_frames=400)
    assert games.actions == 6 and games.entropy == pytest.approx(math.log(6), rel=1e-5)
    stats = games.stats()
    assert stats["uniform_entropy"] == pytest.approx(math.log(6)) and stats["frames"] == games.frames > 0
    with torch.no_grad():
        model.policy.linear.bias[2] = 30.0
    assert play(model, "Pong", 2, max_episode_frames=400).entropy < 1e-6


def test_evaluation_is_repeatable_for_a_seed_and_leaves_the_callers_rng_alone():
    """`atari eval --seed` used to seed only the emulators: sampled actions came from torch's global
    generator, so the same checkpoint scored differently from one call to the next."""
    from tradea3c.atari.evaluate import play

    env = make_vector_env("Breakout", 1, training=True)
    model = AtariModelFactory()(env.single_observation_space, env.single_action_space)
    env.close()
    torch.manual_seed(123)
    before = torch.get_rng_state()
    first = play(model, "Breakout", 2, seed=7, max_episode_frames=2_000)
    assert torch.equal(torch.get_rng_state(), before)
    torch.manual_seed(999)  # another global state: the games must not change
    again = play(model, "Breakout", 2, seed=7, max_episode_frames=2_000)
    assert (first.frames, first.entropy) == (again.frames, again.entropy)  # the same states visited
    assert np.array_equal(first.scores, again.scores)
    other = play(model, "Breakout", 2, seed=8, max_episode_frames=2_000)
    assert other.entropy != first.entropy  # other actions, other states
