"""A new SQLite MLflow store appears whole or not at all."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from mlflow import MlflowClient

from adrank_pipelines.mlflow_store import create_store_atomically


def test_a_missing_store_is_created_migrated_and_left_without_a_temporary_folder(tmp_path: Path) -> None:
    database = tmp_path / "mlflow.db"
    create_store_atomically(database)
    assert [path.name for path in tmp_path.iterdir()] == ["mlflow.db"]
    experiments = MlflowClient(tracking_uri=f"sqlite:///{database}").search_experiments()
    assert [experiment.name for experiment in experiments] == ["Default"]


def test_an_existing_store_is_left_alone(tmp_path: Path) -> None:
    database = tmp_path / "mlflow.db"
    create_store_atomically(database)
    MlflowClient(tracking_uri=f"sqlite:///{database}").create_experiment("kept")
    before = database.stat().st_mtime_ns
    create_store_atomically(database)
    assert database.stat().st_mtime_ns == before
    assert "kept" in {e.name for e in MlflowClient(tracking_uri=f"sqlite:///{database}").search_experiments()}


def test_an_interrupted_creation_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(self: MlflowClient, *args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(mlflow.MlflowClient, "search_experiments", interrupted)
    with pytest.raises(KeyboardInterrupt):
        create_store_atomically(tmp_path / "mlflow.db")
    assert list(tmp_path.iterdir()) == []


def test_other_stores_and_missing_folders_are_not_touched(tmp_path: Path) -> None:
    create_store_atomically(None)
    create_store_atomically(tmp_path / "absent" / "mlflow.db")
    assert list(tmp_path.iterdir()) == []
