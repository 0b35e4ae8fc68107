"""A throw-away copy of the project (conf + pyproject) so runs never touch the user's data or MLflow store."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from tests.conftest import PROJECT_ROOT


def copy_project(target: Path) -> Path:
    """conf (without local), pyproject and telemetry consent copied into ``target``, with its own MLflow store."""
    shutil.copytree(PROJECT_ROOT / "conf", target / "conf", ignore=shutil.ignore_patterns("local"))
    (target / "conf" / "local").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", target / "pyproject.toml")
    shutil.copy(PROJECT_ROOT / ".telemetry", target / ".telemetry")
    # An absolute store per copy: MLflow caches its SQL store by URI, so the project's relative
    # `sqlite:///mlflow.db` would keep pointing at the first copy's file within one test process.
    mlflow_yml = target / "conf" / "base" / "mlflow.yml"
    mlflow_yml.write_text(mlflow_yml.read_text().replace("sqlite:///mlflow.db", f"sqlite:///{target / 'mlflow.db'}", 1))
    # The package is installed (editable); bootstrap_project only needs the source folder to exist.
    (target / "src").mkdir()
    return target


def copy_run_outputs(source: Path, project: Path) -> None:
    """A finished run's data and its MLflow store (the model registry the batch stages read the champion from)."""
    shutil.copytree(source / "data", project / "data")
    shutil.copy(source / "mlflow.db", project / "mlflow.db")


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(copy_project(tmp_path))
    return tmp_path


@pytest.fixture(scope="session")
def default_run_project(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A project copy after one `kedro run --env test` of the whole default graph, made once per test session.

    Tests that only read the run's outputs share it (the full graph is the suite's most expensive run);
    a test that changes the data or the config must take its own ``project_copy``.
    """
    with pytest.MonkeyPatch.context() as monkeypatch:
        project = copy_project(tmp_path_factory.mktemp("default_run"))
        monkeypatch.chdir(project)
        bootstrap_project(project)
        with KedroSession.create(project_path=project, env="test") as session:
            session.run(pipeline_name="__default__")
    yield project
