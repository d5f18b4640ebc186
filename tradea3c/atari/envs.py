"""Atari environments for the A3C validation suite: standard preprocessing, picklable factories.

Two interchangeable back ends produce the same observations (``uint8 [4, 84, 84]``, oldest frame
first) and the same action set (the game's minimal action set):

* ``"vector"`` (default for training): ale-py's C++ `ale_py.vector_env.AtariVectorEnv`,
  K emulators stepped by native threads with the preprocessing done in C++ (frame skip 4 with
  max-pooling of the last two frames, 84x84 grayscale, noop-max 30, 4-frame stack, optional
  life-loss terminal and reward clipping). Fastest option measured on our 2-core machine.
* ``"gym"``: the textbook Gymnasium stack ``<Game>NoFrameskip-v4`` + ``AtariPreprocessing`` (frame
  skip 4, 84x84 grayscale, noop-max 30, terminal on life loss for training only) + reward clipping
  to [-1, 1] (training only) + ``FrameStackObservation(4)``; [`make_atari_env`][].

Training envs end an "episode" (a terminal: no bootstrapping across it) at every lost life and see
clipped rewards; evaluation envs play full games with raw scores. ``life_loss="continue"`` (the
default, as in OpenAI baselines' ``EpisodicLifeEnv`` and the SB3 zoo) lets the game go on after
the terminal, so the agent also learns the later lives and levels; ``"reset"`` starts a new game at
every lost life (what tradea3c did before; it held Qbert near 1,000 points: docs/results/atari.md, "Qbert").
The model receives raw ``uint8`` pixel values (as float) and scales them to [0, 1] itself, so the
engine stays generic.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import gymnasium as gym

FRAME_SKIP = 4
SCREEN = 84
STACK = 4
NOOP_MAX = 30
MAX_EPISODE_FRAMES = 108_000  # 30 minutes of play at 60 Hz, the usual cap


def _register() -> None:
    try:
        import ale_py
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise ImportError(
            "the Atari suite needs the `atari` extra: pip install -e '.[atari]' "
            "(ale-py, opencv-python-headless)"
        ) from exc
    gym.register_envs(ale_py)


def camel_name(game: str) -> str:
    """'pong' / 'space_invaders' / 'SpaceInvaders' -> 'SpaceInvaders' (Gymnasium env id spelling)."""
    if "_" in game or game.islower():
        return "".join(part.capitalize() for part in game.split("_"))
    return game


def rom_name(game: str) -> str:
    """'SpaceInvaders' / 'space_invaders' / 'Pong' -> 'space_invaders' (ale-py ROM spelling)."""
    if "_" in game or game.islower():
        return game.lower()
    return re.sub(r"(?<!^)(?=[A-Z])", "_", game).lower()


def make_atari_env(
    game: str,
    *,
    training: bool,
    noop_max: int = NOOP_MAX,
    max_episode_frames: int = MAX_EPISODE_FRAMES,
    clip_rewards: bool | None = None,
    terminal_on_life_loss: bool | None = None,
    life_loss: str = "continue",
) -> gym.Env[Any, Any]:
    """One Gymnasium Atari env with the standard preprocessing (the ``"gym"`` back end).

    ``training`` switches on life-loss terminals and reward clipping (each overridable);
    ``life_loss`` says what follows a life-loss terminal (module docstring).
    """
    from gymnasium.wrappers import AtariPreprocessing, ClipReward, FrameStackObservation

    _register()
    life = training if terminal_on_life_loss is None else terminal_on_life_loss
    clip = training if clip_rewards is None else clip_rewards
    env = gym.make(
        f"ALE/{camel_name(game)}-v5",
        frameskip=1,
        repeat_action_probability=0.0,
        max_num_frames_per_episode=max_episode_frames,
    )
    _check_life_loss(life_loss)
    env = AtariPreprocessing(
        env,
        noop_max=noop_max,
        frame_skip=FRAME_SKIP,
        screen_size=SCREEN,
        terminal_on_life_loss=life and life_loss == "reset",
        grayscale_obs=True,
        scale_obs=False,
    )
    if life and life_loss == "continue":
        env = LifeLossTerminal(env)
    if clip:
        env = ClipReward(env, -1.0, 1.0)
    return FrameStackObservation(env, STACK)


LIFE_LOSS = ("continue", "reset")


def _check_life_loss(life_loss: str) -> None:
    if life_loss not in LIFE_LOSS:
        raise ValueError(f"life_loss {life_loss!r}: use one of {LIFE_LOSS}")


class LifeLossTerminal(gym.Wrapper[Any, Any, Any, Any]):
    """A lost life is a terminal, but the game goes on (baselines' ``EpisodicLifeEnv``): ``reset()``
    after a life-loss terminal takes one no-op step instead of starting a new game."""

    def __init__(self, env: gym.Env[Any, Any]) -> None:
        super().__init__(env)
        self.lives, self.game_over = 0, True

    def _lives(self) -> int:
        return int(self.env.unwrapped.ale.lives())  # type: ignore[attr-defined]

    def step(self, action: Any) -> Any:
        obs, reward, terminated, truncated, info = self.env.step(action)
        self.game_over = bool(terminated or truncated)
        lives = self._lives()
        if 0 < lives < self.lives:
            terminated = True
        self.lives = lives
        return obs, reward, terminated, truncated, info

    def reset(self, **kwargs: Any) -> Any:
        if self.game_over:
            obs, info = self.env.reset(**kwargs)
        else:
            obs, _, terminated, truncated, info = self.env.step(0)
            if terminated or truncated:
                obs, info = self.env.reset(**kwargs)
        self.game_over, self.lives = False, self._lives()
        return obs, info


def make_vector_env(
    game: str,
    num_envs: int,
    *,
    training: bool,
    num_threads: int = 1,
    noop_max: int = NOOP_MAX,
    max_episode_frames: int = MAX_EPISODE_FRAMES,
    autoreset_mode: str = "NextStep",
    life_loss: str = "continue",
) -> Any:
    """ale-py's native ``AtariVectorEnv`` with the same preprocessing (the ``"vector"`` back end).

    Training with ``life_loss="continue"`` uses ale-py's ``life_loss_info`` (terminal at a lost
    life, the game goes on) in SAME_STEP autoreset mode: in NEXT_STEP mode the engine would mask the
    (real) step after every lost life as an autoreset step."""
    _register()
    from ale_py.vector_env import AtariVectorEnv

    _check_life_loss(life_loss)
    keep_playing = training and life_loss == "continue"
    return AtariVectorEnv(
        rom_name(game),
        num_envs,
        num_threads=num_threads,
        max_num_frames_per_episode=max_episode_frames,
        repeat_action_probability=0.0,
        autoreset_mode="SameStep" if keep_playing else autoreset_mode,
        img_height=SCREEN,
        img_width=SCREEN,
        grayscale=True,
        stack_num=STACK,
        frameskip=FRAME_SKIP,
        maxpool=True,
        noop_max=noop_max,
        episodic_life=training and not keep_playing,
        life_loss_info=keep_playing,
        reward_clipping=training,
        use_fire_reset=True,
    )


@dataclass(frozen=True)
class AtariEnvFactory:
    """Picklable ``env_factory(worker_index)`` for [`tradea3c.a3c.train`][].

    ``backend="vector"``: one ``AtariVectorEnv`` of ``num_envs`` emulators per worker (``num_threads``
    native threads each); ``backend="gym"``: one Gymnasium env (``num_envs == 1``, classic A3C) or a
    ``SyncVectorEnv`` of them.
    """

    game: str = "Pong"
    num_envs: int = 8
    backend: str = "vector"
    num_threads: int = 1
    training: bool = True
    max_episode_frames: int = MAX_EPISODE_FRAMES
    life_loss: str = "continue"

    def __call__(self, worker_index: int) -> Any:
        if self.backend == "vector":
            return make_vector_env(
                self.game,
                self.num_envs,
                training=self.training,
                num_threads=self.num_threads,
                max_episode_frames=self.max_episode_frames,
                life_loss=self.life_loss,
            )
        if self.backend != "gym":
            raise ValueError(f"backend {self.backend!r}: use 'vector' or 'gym'")
        one = _GymMaker(self.game, self.training, self.max_episode_frames, self.life_loss)
        if self.num_envs == 1:
            return one()
        return gym.vector.SyncVectorEnv([one] * self.num_envs)


@dataclass(frozen=True)
class _GymMaker:
    game: str
    training: bool
    max_episode_frames: int
    life_loss: str = "continue"

    def __call__(self) -> gym.Env[Any, Any]:
        return make_atari_env(
            self.game,
            training=self.training,
            max_episode_frames=self.max_episode_frames,
            life_loss=self.life_loss,
        )
