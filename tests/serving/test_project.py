"""Loading the project outside ``kedro run``: the service's view of the configuration."""

from __future__ import annotations

from pathlib import Path

import pytest

from adrank_pipelines import graph_config
from adrank_pipelines.serving.project import load_project
from tests.conftest import project_parameters

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def test_a_project_loaded_from_another_folder_builds_its_pipelines_from_its_own_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # a folder without conf/: the working directory must not be read
    monkeypatch.setattr(graph_config, "_recorded", None)

    config = load_project(PROJECT_ROOT, "test")

    assert graph_config.graph_parameters() == project_parameters("test")
    assert config.parameters["marketplace"].n_ads == project_parameters("test")["marketplace"]["n_ads"]
