"""A throw-away copy of the project (conf + pyproject) so runs never touch the user's data or MLflow store."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT


@pytest.fixture
def project_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    shutil.copytree(PROJECT_ROOT / "conf", tmp_path / "conf", ignore=shutil.ignore_patterns("local"))
    (tmp_path / "conf" / "local").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copy(PROJECT_ROOT / ".telemetry", tmp_path / ".telemetry")
    # An absolute store per copy: MLflow caches its SQL store by URI, so the project's relative
    # `sqlite:///mlflow.db` would keep pointing at the first copy's file within one test process.
    mlflow_yml = tmp_path / "conf" / "base" / "mlflow.yml"
    mlflow_yml.write_text(
        mlflow_yml.read_text().replace("sqlite:///mlflow.db", f"sqlite:///{tmp_path / 'mlflow.db'}", 1)
    )
    # The package is installed (editable); bootstrap_project only needs the source folder to exist.
    (tmp_path / "src").mkdir()
    monkeypatch.chdir(tmp_path)
    return tmp_path
