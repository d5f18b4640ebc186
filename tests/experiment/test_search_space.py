"""The search space of `tradea3c tune` (`load_space`): ranges and choices in either TOML spelling,
and one-line errors naming the file and the key for everything it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.experiment.test_tune import space_file
from tradea3c.config import ConfigError
from tradea3c.experiment import StrategyConfig, load_space, load_strategy


def test_a_space_reads_ranges_and_choices_in_either_toml_spelling(tmp_path: Path) -> None:
    text = (
        '["a3c.lr"]\nlow = 1e-4\nhigh = 3e-3\nlog = true\n'
        '["env.window"]\nchoices = [20, 30, 60]\n'
        '["a3c.entropy_coef"]\nlow = 0.0\nhigh = 0.05\n'
        "[a3c.t_max]\nlow = 5\nhigh = 40\nstep = 5\n"  # unquoted: a nested table, read the same
        '["env.positions"]\nchoices = [[0.0, 1.0], [-1.0, 0.0, 1.0]]\n'
    )
    space = load_space(space_file(tmp_path, text), load_strategy("signal"))
    by_key = {p.key: p for p in space.params}
    assert list(by_key) == ["a3c.lr", "env.window", "a3c.entropy_coef", "a3c.t_max", "env.positions"]
    assert (by_key["a3c.lr"].low, by_key["a3c.lr"].high, by_key["a3c.lr"].log) == (1e-4, 3e-3, True)
    assert by_key["env.window"].choices == (20, 30, 60)
    assert not by_key["a3c.entropy_coef"].integer and by_key["a3c.t_max"].integer  # from the setting's type
    assert by_key["a3c.t_max"].step == 5


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '["a3c.lrr"]\nlow = 1e-4\nhigh = 1e-3\n',
            "\"a3c.lrr\"\\]: low 0.0001: unknown key 'a3c.lrr'; did you mean 'lr'",
        ),
        ('["a3c.lr"]\nlow = 1e-3\nhigh = 1e-4\n', '"a3c.lr"\\]: low = 0.001 must be below high = 0.0001'),
        ('["a3c.lr"]\nlow = 0.0\nhigh = 1e-3\nlog = true\n', '"a3c.lr"\\]: log = true needs low > 0'),
        ('["a3c.lr"]\nlow = 1e-4\nhgh = 1e-3\n', "\"a3c.lr\"\\]: unknown setting 'hgh'; did you mean 'high'"),
        ('["a3c.lr"]\nlow = 1e-4\n', '"a3c.lr"\\]: a range needs both low and high'),
        ('["a3c.lr"]\nlow = -1.0\nhigh = 1e-3\n', '"a3c.lr"\\]: low -1.0: a3c: lr and eps must be > 0'),
        ('["env.window"]\nchoices = []\n', '"env.window"\\]: choices must be a non-empty list'),
        ('["env.window"]\nchoices = [0, 5]\n', '"env.window"\\]: choice 0: env: need window >= 1'),
        ('["env.window"]\nlow = 1.5\nhigh = 9\n', '"env.window"\\]: env.window is an integer setting'),
        ('["env.window"]\nchoices = [5]\nlow = 1\n', '"env.window"\\]: give either choices or low/high'),
        ('["a3c.seed"]\nchoices = [0, 1, 2]\n', '"a3c.seed"\\]: a3c.seed is not tunable \\(tuning the seed'),
        ('["split.val_end"]\nchoices = ["2020-01-01"]\n', '"split.val_end"\\]: split.val_end is not tunable'),
        ('["a3c.lr"]\nlow = nan\nhigh = 1e-3\n', '"a3c.lr"\\]: low = nan is not a finite number'),
        ("", "no parameters; add a table like"),
        ("[a3c.lr\n", "not a readable TOML file"),
    ],
)
def test_a_bad_space_fails_with_one_line_naming_the_file_and_the_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = space_file(tmp_path, text)
    with pytest.raises(ConfigError, match=message) as err:
        load_space(path, load_strategy("signal"))
    assert str(err.value).startswith(f"{path}: ") and "\n" not in str(err.value)


def test_a_missing_space_file_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="search space .*nope.toml not found; pass a .toml file"):
        load_space(tmp_path / "nope.toml", StrategyConfig())
