"""RegisteredModelDataset: a save registers an immutable version with metrics and lineage, aliases move by the
promotion policy, a load returns the aliased version's model and calibrator, and a failed save leaves nothing."""

from __future__ import annotations

import pickle
import shutil
from pathlib import Path

import mlflow
import numpy as np
import pytest
from kedro.io import DatasetError
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression

from adrank_pipelines.datasets import registered_model
from adrank_pipelines.datasets.registered_model import (
    CALIBRATOR_FILE,
    MODEL_FOLDER,
    RELEASE_FILE,
    RegisteredModelDataset,
)
from adrank_pipelines.lifecycle.registry import held_aliases
from adrank_pipelines.lifecycle.release import ModelRelease
from adrank_pipelines.models.calibration import Calibrator, fit_calibrator
from adrank_pipelines.models.zoo.interface import TrainedModel

PROBE = np.array([[0.0], [1.0], [2.0]])


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # One SQLite store for the module (creating one takes seconds); each test registers its own model name.
    return tmp_path_factory.mktemp("registry") / "mlflow.db"


def _dataset(store: Path, versions: Path, name: str, **options: str) -> RegisteredModelDataset:
    return RegisteredModelDataset(name=name, filepath=str(versions), registry={"filepath": str(store)}, **options)


def _release(seed: int, auc: float) -> ModelRelease:
    """A tiny picklable model (saved as the baseline zoo model saves its regression) with its own calibrator."""
    rng = np.random.default_rng(seed)
    x, clicks = rng.normal(size=(60, 1)), (rng.random(60) < 0.3).astype(int)
    model = LogisticRegression().fit(x + seed, clicks)
    calibrator = fit_calibrator(clicks, np.clip(rng.random(60), 0.01, 0.99), "platt")
    return ModelRelease(
        TrainedModel("baseline", model), calibrator, {"valid_auc": auc, "valid_logloss": 0.4}, {"train_last_day": "d"}
    )


def _same_release(loaded: ModelRelease, saved: ModelRelease) -> bool:
    probabilities = np.array([0.1, 0.2, 0.6])
    return bool(
        np.array_equal(loaded.trained.model.predict_proba(PROBE), saved.trained.model.predict_proba(PROBE))
        and np.array_equal(loaded.calibrator.transform(probabilities), saved.calibrator.transform(probabilities))
    )


def _uri(store: Path) -> str:
    return f"sqlite:///{store.resolve()}"


def test_a_save_registers_a_version_folder_with_its_metrics_and_lineage(store: Path, tmp_path: Path) -> None:
    dataset = _dataset(store, tmp_path / "versions", "registered")
    assert not dataset.exists()
    release = _release(1, 0.71)
    with mlflow.start_run() as run:  # as kedro-mlflow opens one around `kedro run`
        dataset.save(release)
    assert dataset.exists()
    loaded = dataset.load()
    assert loaded.version == 1 and _same_release(loaded, release)
    assert loaded.metrics == {"valid_auc": 0.71, "valid_logloss": 0.4}
    assert loaded.lineage["train_last_day"] == "d" and loaded.lineage["mlflow_run_id"] == run.info.run_id
    assert len(loaded.lineage["git_commit"]) == 40  # the tests run inside the project's repository
    (folder,) = (tmp_path / "versions").iterdir()
    assert {p.name for p in folder.iterdir()} == {MODEL_FOLDER, CALIBRATOR_FILE, RELEASE_FILE}
    source = MlflowClient(tracking_uri=_uri(store), registry_uri=_uri(store)).get_model_version("registered", "1")
    assert source.source == str(folder.resolve()) and source.tags["metric.valid_auc"] == "0.71"


def test_a_later_save_leaves_the_earlier_version_folder_untouched(store: Path, tmp_path: Path) -> None:
    dataset = _dataset(store, tmp_path / "versions", "immutable")
    first = _release(1, 0.7)
    dataset.save(first)
    (folder,) = (tmp_path / "versions").iterdir()
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()}
    dataset.save(_release(2, 0.8))
    assert len(list((tmp_path / "versions").iterdir())) == 2
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*") if p.is_file()} == before
    first_version = MlflowClient(tracking_uri=_uri(store), registry_uri=_uri(store)).get_model_version("immutable", "1")
    with (Path(first_version.source) / CALIBRATOR_FILE).open("rb") as file:
        kept: Calibrator = pickle.load(file)
    np.testing.assert_array_equal(kept.transform([0.1, 0.5]), first.calibrator.transform([0.1, 0.5]))


def test_promote_always_makes_every_new_version_the_champion(store: Path, tmp_path: Path) -> None:
    dataset = _dataset(store, tmp_path / "versions", "always", promote="always")
    releases = [_release(seed, 0.7) for seed in (1, 2)]
    for release in releases:
        dataset.save(release)
    assert held_aliases(_uri(store), "always") == {"champion": 2}
    loaded = dataset.load()
    assert loaded.version == 2 and _same_release(loaded, releases[1]) and not _same_release(loaded, releases[0])


def test_promote_if_no_champion_makes_later_versions_the_challenger(store: Path, tmp_path: Path) -> None:
    champion_of = _dataset(store, tmp_path / "versions", "gated", promote="if_no_champion")
    challenger_of = _dataset(store, tmp_path / "versions", "gated", promote="if_no_champion", alias="challenger")
    releases = [_release(seed, 0.7) for seed in (1, 2, 3)]
    champion_of.save(releases[0])
    assert held_aliases(_uri(store), "gated") == {"champion": 1} and not challenger_of.exists()
    champion_of.save(releases[1])
    champion_of.save(releases[2])
    assert held_aliases(_uri(store), "gated") == {"champion": 1, "challenger": 3}
    assert _same_release(champion_of.load(), releases[0]) and _same_release(challenger_of.load(), releases[2])


def test_a_missing_alias_or_model_is_named_in_the_load_error(store: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no registered model 'never_trained' in the registry sqlite:///"):
        _dataset(store, tmp_path, "never_trained").load()
    _dataset(store, tmp_path / "versions", "no_challenger").save(_release(1, 0.7))
    with pytest.raises(DatasetError, match="'no_challenger' has no alias 'challenger' \\(aliases: champion\\)"):
        _dataset(store, tmp_path / "versions", "no_challenger", alias="challenger").load()
    (folder,) = (tmp_path / "versions").iterdir()
    shutil.rmtree(folder)
    with pytest.raises(DatasetError, match="version 1 of registered model 'no_challenger' \\('champion'\\) points at"):
        _dataset(store, tmp_path / "versions", "no_challenger").load()


def test_an_unknown_policy_or_registry_key_is_refused(store: Path, tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="registered model 'x': promote is 'sometimes', not one of"):
        _dataset(store, tmp_path, "x", promote="sometimes")
    with pytest.raises(DatasetError, match="registry takes exactly one key, filepath"):
        RegisteredModelDataset(name="x", filepath=str(tmp_path), registry={"uri": "sqlite:///mlflow.db"})


def _versions(store: Path, name: str) -> list[str]:
    client = MlflowClient(tracking_uri=_uri(store), registry_uri=_uri(store))
    return [str(v.version) for v in client.search_model_versions(f"name='{name}'")]


def test_a_save_that_fails_writing_leaves_no_folder_and_registers_nothing(store: Path, tmp_path: Path) -> None:
    unpicklable = ModelRelease(TrainedModel("baseline", LogisticRegression()), Calibrator("platt", lambda: 0))  # type: ignore[arg-type]
    with pytest.raises(DatasetError, match="Can't pickle local object"):
        _dataset(store, tmp_path / "versions", "failed_write").save(unpicklable)
    assert list((tmp_path / "versions").iterdir()) == [] and _versions(store, "failed_write") == []


def test_a_save_that_fails_registering_removes_its_folder_and_version(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    dataset = _dataset(store, tmp_path / "versions", "failed_alias")
    dataset.save(_release(1, 0.7))
    (kept,) = (tmp_path / "versions").iterdir()

    def refuse(*args: object) -> None:
        raise ConnectionError("registry went away")

    monkeypatch.setattr(registered_model, "set_alias", refuse)
    with pytest.raises(DatasetError, match="registry went away"):
        dataset.save(_release(2, 0.8))
    assert list((tmp_path / "versions").iterdir()) == [kept] and _versions(store, "failed_alias") == ["1"]
    assert held_aliases(_uri(store), "failed_alias") == {"champion": 1}
    with pytest.raises(DatasetError, match="metrics must be numbers: valid_auc"):
        dataset.save(
            ModelRelease(
                TrainedModel("baseline", LogisticRegression()), _release(3, 0.7).calibrator, {"valid_auc": "high"}
            )
        )  # type: ignore[dict-item]
    assert list((tmp_path / "versions").iterdir()) == [kept] and _versions(store, "failed_alias") == ["1"]
