"""``tradea3c backtest`` and ``tradea3c walkforward`` (``tradea3c.cli.backtest``): ``--json`` puts the
data alone on stdout (``--json-out`` writes it to a file), the walk-forward page beside the JSON;
bad inputs and missing or damaged checkpoints are one line."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tradea3c.backtest.report import fmt


def test_backtest_json_goes_to_stdout(tiny_run: Path, tmp_path: Path) -> None:
    from tradea3c.cli import app

    js, sheet = tmp_path / "m.json", tmp_path / "t.html"
    args = ["backtest", str(tiny_run), "--costs", "0", "--json", "--json-out", str(js), "--html", str(sheet)]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)  # stdout is the JSON and nothing else
    assert data == json.loads(js.read_text())
    assert data["label"] == "out-of-sample" and data["pbo"]["candidates"][0] == "policy"
    assert "buy_and_hold" in res.stderr and "wrote" in res.stderr  # tables and messages: stderr
    assert (tmp_path / "t.trades.csv").is_file()
    old = CliRunner().invoke(app, ["backtest", str(tiny_run), "--json", str(tmp_path / "x.json")])
    assert old.exit_code == 2 and "--json-out" in old.output and "Traceback" not in old.output


def test_walkforward_html_and_json(tmp_path: Path) -> None:
    from tradea3c.cli import app

    js = tmp_path / "wf.json"
    args = ["walkforward", "--strategy", "signal", "--folds", "2", "--steps", "300", "--quiet"]
    args += ["--out", str(tmp_path / "wf"), "--json", "--json-out", str(js)]
    args += ["--set", "a3c.workers=1", "--set", "a3c.tensorboard=false", "--set", "a3c.eval_every=150"]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    data = json.loads(res.stdout)
    assert data == json.loads(js.read_text()) and len(data["folds"]) == 2
    assert "walk-forward" in res.stderr
    page = (tmp_path / "wf.html").read_text(encoding="utf-8")  # beside the JSON
    text = re.sub(r"<[^>]+>", " ", page)
    for f in data["folds"]:
        assert "..".join(f["test"]) in text and fmt("total_return", f["policy"]["total_return"]) in text
    assert fmt("total_return", data["overall"]["policy"]["total_return"]) in text and "chained" in text
    assert "alt='walk-forward equity' src='data:image/png;base64," in page
    assert "Reproducibility" in text and "<script" not in page


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--start", "notadate"], "is not a date"),
        (["--start", "2007-06-01", "--end", "2007-01-01"], "is not before"),
        (["--start", "2030-01-01"], "fewer than 3 bars"),
        (["--start", "2263-01-05"], "--start 2263-01-05 is out of range"),  # wrapped to "overlaps"
        (["--end", "2263-01-05"], "--end 2263-01-05 is out of range"),  # wrapped to "fewer than 3 bars"
        (["--start", "2002-01-01"], "--allow-in-sample"),
        (["--costs", "0,x"], "--costs"),
        (["--costs", "nan,inf"], "finite"),
        (["--costs", "0,-5"], ">= 0"),
        (["--trials", "-1"], "--trials -1"),
    ],
)
def test_cli_bad_inputs_are_one_line(tiny_run: Path, args: list[str], needle: str) -> None:
    from tradea3c.cli import app

    res = CliRunner().invoke(app, ["backtest", str(tiny_run), *args])
    assert res.exit_code == 2, res.output
    assert needle in res.output and "Traceback" not in res.output
    assert len(res.output.strip().splitlines()) == 1


def test_cli_missing_and_corrupt_checkpoints(tmp_path: Path) -> None:
    from tradea3c.cli import app

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "best.pt").write_bytes(b"not a checkpoint at all")
    empty = tmp_path / "empty"
    empty.mkdir()
    for target, needle in [
        (tmp_path / "nope", "no such run directory"),
        (empty, "no best.pt or latest.pt"),
        (bad, "not a tradea3c checkpoint or is damaged"),
    ]:
        res = CliRunner().invoke(app, ["backtest", str(target)])
        assert res.exit_code == 2 and needle in res.output and str(target) in res.output, res.output
        assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1


def test_cli_backtest_writes_outputs(tiny_run: Path, tmp_path: Path) -> None:
    from tradea3c.cli import app

    js = tmp_path / "m.json"
    res = CliRunner().invoke(app, ["backtest", str(tiny_run), "--costs", "0,10", "--json-out", str(js)])
    assert res.exit_code == 0, res.output
    data = json.loads(js.read_text())
    assert [r["cost_bps"] for r in data["cost_sweep"]] == [0.0, 10.0]
    assert "buy_and_hold" in res.output and "out-of-sample" in res.output


def test_cli_walkforward_bad_folds() -> None:
    from tradea3c.cli import app

    res = CliRunner().invoke(
        app,
        ["walkforward", "--strategy", "signal", "--folds", "0", "--quiet"],
    )
    assert res.exit_code == 2 and "--folds" in res.output and "Traceback" not in res.output


def test_cli_unwritable_outputs_are_one_line_before_the_run(
    tiny_run: Path, tmp_path: Path, monkeypatch
) -> None:
    """``--html DIR`` and an output below a file are refused before any backtest runs; a missing
    parent folder of ``--json-out`` is created."""
    import tradea3c.backtest as bt
    from tradea3c.cli import app

    calls = []
    real = bt.backtest_run
    monkeypatch.setattr(bt, "backtest_run", lambda *a, **k: calls.append(1) or real(*a, **k))
    folder = tmp_path / "out"
    folder.mkdir()
    afile = tmp_path / "notes.txt"
    afile.write_text("x")
    for args, needle in [
        (["--html", str(folder)], f"--html {folder}: is a folder"),
        (["--json-out", str(folder)], f"--json-out {folder}: is a folder"),
        (["--json-out", str(afile / "m.json")], f"{afile} is a file"),
    ]:
        res = CliRunner().invoke(app, ["backtest", str(tiny_run), *args])
        assert res.exit_code == 2 and needle in res.output, res.output
        assert "Traceback" not in res.output and len(res.output.strip().splitlines()) == 1
    assert not calls  # refused before the backtest ran
    js = tmp_path / "missing" / "deeper" / "x.json"
    res = CliRunner().invoke(app, ["backtest", str(tiny_run), "--costs", "0", "--json-out", str(js)])
    assert res.exit_code == 0 and js.is_file(), res.output


def test_cli_a_malformed_rule_file_is_one_line(tiny_run: Path, tmp_path: Path, monkeypatch) -> None:
    from tradea3c.cli import app

    rules = tmp_path / "strategies" / "rules"
    rules.mkdir(parents=True)
    (rules / "broken.toml").write_text("name = 'x\nfast = [\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TRADEA3C_STRATEGIES", raising=False)
    res = CliRunner().invoke(app, ["backtest", str(tiny_run), "--costs", "0"])
    assert res.exit_code == 2, res.output
    assert "broken.toml" in res.output and "Traceback" not in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1


def test_cli_walkforward_refuses_a_folder_as_its_page_before_training(tmp_path: Path) -> None:
    from tradea3c.cli import app

    args = ["walkforward", "--strategy", "signal", "--quiet", "--out", str(tmp_path / "wf")]
    res = CliRunner().invoke(app, [*args, "--html", str(tmp_path)])
    assert res.exit_code == 2 and f"--html {tmp_path}: is a folder" in res.output, res.output
    assert len(res.output.strip().splitlines()) == 1 and not (tmp_path / "wf").exists()
