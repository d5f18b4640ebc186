"""`A3CConfig` refuses values that would silently ruin a run: non-finite numbers (one NaN makes
every weight NaN, and the run still "completes"), negative seeds, negative intervals."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradea3c.a3c import A3CConfig
from tradea3c.cli import app
from tradea3c.experiment import StrategyConfig
from tradea3c.experiment.study import StudySpec

runner = CliRunner()


@pytest.mark.parametrize(
    ("field", "value"),
    [("lr", float("inf")), ("entropy_coef", float("nan")), ("value_coef", float("inf")),
     ("max_grad_norm", float("nan")), ("kl_coef", float("inf")), ("eps", float("nan"))],
)  # fmt: skip
def test_non_finite_numbers_are_refused(field: str, value: float) -> None:
    with pytest.raises(ValueError, match=rf"^{field} must be finite \(got {value}\)$"):
        A3CConfig(**{field: value})


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [({"lr": 0.0}, "lr and eps must be > 0"), ({"seed": -1}, "seed must be >= 0"),
     ({"value_coef": -1.0}, "value_coef"), ({"eval_every": -1}, "eval_every")],
)  # fmt: skip
def test_out_of_range_values_are_refused(kwargs: dict[str, float], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        A3CConfig(**kwargs)


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--set", "a3c.lr=inf"], "error: --set a3c.lr=inf: a3c: lr must be finite (got inf)"),
        (
            ["--set", "a3c.entropy_coef=nan"],
            "error: --set a3c.entropy_coef=nan: a3c: entropy_coef must be finite (got nan)",
        ),
        (
            ["--seed", "-1"],
            "error: --seed -1: a3c: seed must be >= 0 (got -1); seeds are non-negative integers",
        ),
    ],
)
def test_train_refuses_them_in_one_line_before_anything_is_written(
    tmp_path: Path, args: list[str], line: str
) -> None:
    res = runner.invoke(app, ["train", *args, "--quiet", "--out", str(tmp_path / "run")])
    assert res.exit_code == 2 and res.output.strip().splitlines() == [line]
    assert not (tmp_path / "run").exists()


def test_study_refuses_negative_seeds_trials_and_bad_costs(tmp_path: Path) -> None:
    out = tmp_path / "study"
    res = runner.invoke(app, ["study", "--market", "signal", "--seeds", "-1", "--out", str(out)])
    assert res.exit_code == 2 and res.output.strip() == "error: --seeds -1: seeds must be >= 0, e.g. 0,1,2"
    assert not out.exists()
    for kwargs in ({"trials": -1}, {"costs_bps": (0.0, float("nan"))}, {"costs_bps": (float("inf"),)},
                   {"folds": -2}, {"seeds": ()}):  # fmt: skip
        with pytest.raises(ValueError):
            StudySpec(StrategyConfig(), **kwargs)


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"hidden": (0,)}, "hidden"), ({"hidden": (64, -1)}, "hidden"), ({"lstm_size": 0}, "lstm_size"),
])  # fmt: skip
def test_model_layer_widths_must_be_at_least_one(kwargs: dict[str, object], needle: str) -> None:
    from tradea3c.a3c.config import ModelConfig

    with pytest.raises(ValueError, match=rf"{needle}.*>= 1"):
        ModelConfig(**kwargs)  # type: ignore[arg-type]
    res = runner.invoke(app, ["train", "--set", "a3c.model.hidden=[0]", "--steps", "10", "--quiet"])
    if needle == "hidden" and kwargs["hidden"] == (0,):
        assert res.exit_code == 2 and "a3c.model.hidden" in res.output, res.output
        assert len(res.output.strip().splitlines()) == 1
