"""Every notebook under notebooks/ runs headlessly, cell by cell, on the outputs of a test-world run.

Each notebook is copied into the run's project copy and executed there with `KEDRO_ENV=test`, the way
`kedro jupyter lab --env test` opens it: by the project's own kernel, which `kedro jupyter setup`
installs (this very interpreter, the project's venv, with the `kedro.ipython` extension loaded).
A notebook's first cell loads the catalog with `%load_ext kedro.ipython` / `%reload_kedro` and prints
"Kedro environment: <env>", which shows that it read the environment it was given.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.integration

NOTEBOOKS = sorted((PROJECT_ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 300
# walkthrough.ipynb plots each of its sections: the world, the CTR metrics, the auction grid and the drift alerts.
MIN_FIGURES = {"walkthrough": 4}


def _outputs(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [output for cell in notebook.cells if cell.cell_type == "code" for output in cell.outputs]


def _printed(notebook: nbformat.NotebookNode) -> str:
    return "".join(output.text for output in _outputs(notebook) if output.output_type == "stream")


def _figures(notebook: nbformat.NotebookNode) -> int:
    return sum("image/png" in output.get("data", {}) for output in _outputs(notebook))


PROJECT_KERNEL = "kedro_adrank_pipelines"


@pytest.fixture
def project_kernel(default_run_project: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The kernel `kedro jupyter lab` opens notebooks with, installed into a throw-away Jupyter data dir."""
    monkeypatch.setenv("JUPYTER_DATA_DIR", str(tmp_path / "jupyter"))
    kedro = Path(sys.executable).with_name("kedro")
    subprocess.run([kedro, "jupyter", "setup"], cwd=default_run_project, check=True, capture_output=True)
    kernel = tmp_path / "jupyter" / "kernels" / PROJECT_KERNEL / "kernel.json"
    assert str(Path(sys.executable).parent) in kernel.read_text(), "the kernel is not the project's interpreter"
    return PROJECT_KERNEL


def test_notebooks_are_committed_without_outputs():
    assert NOTEBOOKS, "notebooks/ holds no notebook"
    for path in NOTEBOOKS:
        notebook = nbformat.read(path, as_version=4)
        nbformat.validate(notebook)
        assert notebook.metadata.kernelspec.name == "python3", path.name
        for cell in notebook.cells:
            if cell.cell_type == "code":
                assert not cell.outputs and cell.execution_count is None, f"{path.name}: clear the outputs"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.stem)
def test_notebook_runs_on_the_test_world_through_the_catalog(
    path: Path, default_run_project: Path, project_kernel: str, monkeypatch: pytest.MonkeyPatch
):
    notebooks = default_run_project / "notebooks"
    notebooks.mkdir(exist_ok=True)
    shutil.copy(path, notebooks / path.name)
    notebook = nbformat.read(path, as_version=4)
    monkeypatch.setenv("KEDRO_ENV", "test")

    # Raises CellExecutionError, naming the cell and its traceback, on the first cell that fails.
    NotebookClient(
        notebook, kernel_name=project_kernel, timeout=CELL_TIMEOUT_S, resources={"metadata": {"path": str(notebooks)}}
    ).execute()

    assert "Kedro environment: test" in _printed(notebook)
    assert _figures(notebook) >= MIN_FIGURES.get(path.stem, 1), "a plotting cell drew nothing"
