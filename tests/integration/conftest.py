"""A throw-away copy of the project (conf + pyproject) so runs never touch the user's data or MLflow store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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
    mlflow_yml.write_text(
        mlflow_yml.read_text().replace("sqlite:///mlflow.db", f"sqlite:///{target / 'mlflow.db'}", 1)
    )
    # The package is installed (editable); bootstrap_project only needs the source folder to exist.
    (target / "src").mkdir()
    return target


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(copy_project(tmp_path))
    return tmp_path
