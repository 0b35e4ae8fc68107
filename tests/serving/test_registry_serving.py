"""The service on the registry: it serves each model's champion, names a missing alias at start-up, and a
reload picks up a moved alias, on a copy of the default conf/test run (whose training registered version 1)."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from adrank_pipelines.datasets.registered_model import RegisteredModelDataset
from adrank_pipelines.lifecycle.registry import CHALLENGER, CHAMPION, held_aliases, remove_alias, set_alias
from adrank_pipelines.models.calibration import Calibrator
from adrank_pipelines.serving.artifacts import MissingArtifactError, load_artifacts
from adrank_pipelines.serving.main import build_app
from adrank_pipelines.serving.project import load_project
from tests.serving.service import ENV, engine_of, serving

MODEL = "lightgbm"
REGISTERED = f"adrank.{MODEL}"


@pytest.fixture
def copy(project: Path, tmp_path: Path) -> Path:
    """The run project with a registry of its own (its versions' folders stay the run's, read-only here)."""
    target = tmp_path / "project"
    shutil.copytree(project, target, ignore=shutil.ignore_patterns("budget_ledger.sqlite*"))
    return target


def _uri(project: Path) -> str:
    return f"sqlite:///{(project / 'mlflow.db').resolve()}"


def test_the_default_run_registered_every_model_and_the_service_serves_the_champions(project: Path) -> None:
    config = load_project(project, ENV)
    artifacts = load_artifacts(config.catalog, config.parameters, config.serving)
    assert artifacts.model_versions and set(artifacts.model_versions.values()) == {1}
    assert held_aliases(_uri(project), REGISTERED) == {CHAMPION: 1}
    champion = config.catalog.load(f"{MODEL}.registered_model")
    assert champion.metrics["valid_auc"] > 0.5 and champion.lineage["model"] == MODEL
    assert (
        champion.lineage["train_first_day"] <= champion.lineage["train_last_day"] < champion.lineage["valid_first_day"]
    )
    # The champion's calibrator is the one the run fitted: the same map as the run's own calibrator.
    probe, cold_start = np.array([0.01, 0.05, 0.2]), np.array([False, True, False])
    calibrator = config.catalog.load(f"{MODEL}.calibrator")
    np.testing.assert_array_equal(
        champion.calibrator.transform(probe, cold_start), calibrator.transform(probe, cold_start)
    )
    from_run = load_artifacts(
        config.catalog, config.parameters, config.serving.model_copy(update={"model_source": "run"})
    )
    assert set(from_run.model_versions.values()) == {None}


def test_a_missing_champion_fails_start_up_naming_the_registered_model_and_alias(copy: Path) -> None:
    remove_alias(_uri(copy), REGISTERED, CHAMPION)
    with pytest.raises(MissingArtifactError) as error, TestClient(build_app(copy, ENV)):
        pass
    message = str(error.value)
    assert f"registered model '{REGISTERED}' has no alias 'champion'" in message
    assert f"'{MODEL}.registered_model'" in message and "--pipeline ctr_training" in message


def test_a_reload_serves_the_version_the_champion_alias_moved_to(copy: Path, tmp_path: Path) -> None:
    config = load_project(copy, ENV)
    champion = config.catalog.load(f"{MODEL}.registered_model")
    # A second version: the same model without calibration, registered as the challenger.
    challenger = dataclasses.replace(champion, calibrator=Calibrator("none"), version=None)
    RegisteredModelDataset(
        REGISTERED, str(tmp_path / "versions"), {"filepath": str(copy / "mlflow.db")}, promote="if_no_champion"
    ).save(challenger)
    assert held_aliases(_uri(copy), REGISTERED) == {CHAMPION: 1, CHALLENGER: 2}
    probe, cold_start = np.array([0.01, 0.05, 0.2]), np.array([False, True, False])
    with serving(copy, tmp_path / "ledger.sqlite") as client:
        served = engine_of(client).artifacts
        assert served.model_versions[MODEL] == 1
        set_alias(_uri(copy), REGISTERED, CHAMPION, 2)
        assert engine_of(client).artifacts.model_versions[MODEL] == 1  # nothing changes until a reload
        assert client.post("/admin/reload").json() == {"status": "reloaded"}
        reloaded = engine_of(client).artifacts
    assert reloaded.model_versions[MODEL] == 2
    tier = next(name for name, tier in config.serving.tiers.items() if tier.model == MODEL)
    np.testing.assert_array_equal(reloaded.scorers[tier]._calibrators[MODEL].transform(probe, cold_start), probe)
    assert not np.array_equal(served.scorers[tier]._calibrators[MODEL].transform(probe, cold_start), probe)
