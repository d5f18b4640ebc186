"""The notebooks under notebooks/: stored without outputs, in sync with their jupytext twins, and
executed top to bottom with a real kernel (slow) in a throwaway working folder."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import jupytext
import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
NAMES = sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
KERNEL = "tradea3c-test"
TIMEOUT_S = 600  # per cell; each notebook takes about 1-2 minutes on 2 cores


def test_every_notebook_has_a_twin() -> None:
    assert NAMES == ["portfolio", "quickstart"]
    assert sorted(p.stem for p in NOTEBOOKS.glob("*.py")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_stored_without_outputs(name: str) -> None:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}.ipynb cell {i} has outputs; clear them before committing"
            assert cell.execution_count is None, f"{name}.ipynb cell {i} has an execution count"


def _cells(path: Path) -> list[tuple[str, str]]:
    nb = jupytext.read(path)
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


@pytest.mark.parametrize("name", NAMES)
def test_notebook_and_py_twin_are_in_sync(name: str) -> None:
    ipynb, py = _cells(NOTEBOOKS / f"{name}.ipynb"), _cells(NOTEBOOKS / f"{name}.py")
    hint = f"notebooks/{name}.ipynb and .py differ; run `jupytext --sync notebooks/{name}.ipynb`"
    assert len(ipynb) == len(py), hint
    for i, (a, b) in enumerate(zip(ipynb, py, strict=True)):
        assert a == b, f"{hint} (cell {i})"


@pytest.fixture
def kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A kernelspec that runs this interpreter (the venv's python), whatever `python` is on PATH."""
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"})
    )
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    return KERNEL


def _execute(name: str, workdir: Path, kernel: str) -> nbformat.NotebookNode:
    nb = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("import sys; print(sys.executable)"))
    client = NotebookClient(
        nb, timeout=TIMEOUT_S, kernel_name=kernel, resources={"metadata": {"path": str(workdir)}}
    )
    t0 = time.perf_counter()
    client.execute()  # raises CellExecutionError with the failing cell and its traceback
    print(f"{name}.ipynb executed in {time.perf_counter() - t0:.1f} s")
    assert _text(nb.cells[-1]).strip() == sys.executable, "the kernel ran another interpreter"
    return nb


def _text(cell: nbformat.NotebookNode) -> str:
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")


def _images(nb: nbformat.NotebookNode) -> int:
    return sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.outputs)


def _metrics(workdir: Path) -> tuple[Path, dict]:
    (html,) = workdir.glob("runs/*/tearsheet.html")
    assert html.stat().st_size > 10_000
    metrics = json.loads((html.parent / "metrics.json").read_text())
    assert metrics["label"] == "out-of-sample"
    assert isinstance(metrics["metrics"]["policy"]["sharpe"], float)
    return html, metrics


@pytest.mark.slow
def test_quickstart_notebook_runs(tmp_path: Path, kernel: str, tmp_data_dir: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    nb = _execute("quickstart", work, kernel)
    assert _images(nb) >= 3  # prices, indicators, equity curves
    _, metrics = _metrics(work)
    assert set(metrics["metrics"]) >= {"policy", "buy_and_hold", "sma_50_200", "ts_mom_252"}
    assert [level["cost_bps"] for level in metrics["cost_sweep"]] == [0, 5, 10, 25]


@pytest.mark.slow
def test_portfolio_notebook_runs(tmp_path: Path, kernel: str, tmp_data_dir: Path, djia_dir: Path) -> None:
    from tradea3c.data import import_csv

    assert import_csv(djia_dir, data_dir=tmp_data_dir).ok  # what `tradea3c fetch --from-csv` does
    work = tmp_path / "work"
    work.mkdir()
    nb = _execute("portfolio", work, kernel)
    assert _images(nb) >= 2
    _, metrics = _metrics(work)
    assert metrics["env_kind"] == "portfolio"
    assert len(metrics["tickers"]) == 5
    assert {"policy", "equal_weight_hold", "equal_weight_rebal21"} <= set(metrics["metrics"])


@pytest.mark.slow
def test_portfolio_notebook_says_what_to_fetch_when_nothing_is_cached(
    tmp_path: Path, kernel: str, tmp_data_dir: Path
) -> None:
    """With an empty cache the first code cell stops with one line naming the fetch command."""
    from nbclient.exceptions import CellExecutionError

    work = tmp_path / "work"
    work.mkdir()
    nb = nbformat.read(NOTEBOOKS / "portfolio.ipynb", as_version=4)
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells = nb.cells[: first + 1]
    client = NotebookClient(nb, timeout=120, kernel_name=kernel, resources={"metadata": {"path": str(work)}})
    with pytest.raises(CellExecutionError) as err:
        client.execute()
    assert "NotCached: not cached in" in str(err.value)  # one message, no traceback into the library
    assert "tradea3c fetch --from-csv ../shared/data/djia30" in str(err.value)
