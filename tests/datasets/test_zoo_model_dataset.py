"""ZooModelDataset: save/load round trip of torch and pickled zoo models, and atomic saves."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from kedro.io import DatasetError

from adrank_pipelines.datasets.zoo_model import ZOO_FILE, ZooModelDataset
from adrank_pipelines.models.scoring import predict_ctr
from adrank_pipelines.models.zoo.baseline.regression import fit_baseline, predict_baseline
from adrank_pipelines.models.zoo.interface import TrainedModel
from adrank_pipelines.models.zoo.pickled import MODEL_FILE
from adrank_pipelines.models.zoo.torch_network import CONFIG_FILE, WEIGHTS_FILE
from tests.models.transformer_fixtures import SyntheticWorld, built_model, tiny_params, world  # noqa: F401


def test_round_trip_gives_identical_predictions(tmp_path: Path, world: SyntheticWorld) -> None:
    built = built_model(world, tiny_params())
    dataset = ZooModelDataset(filepath=str(tmp_path / "trained_model"))
    assert not dataset.exists()
    dataset.save(TrainedModel("transformer", built.model))
    assert dataset.exists() and {p.name for p in (tmp_path / "trained_model").iterdir()} == {
        ZOO_FILE,
        CONFIG_FILE,
        WEIGHTS_FILE,
    }
    loaded = dataset.load()
    assert loaded.zoo == "transformer"
    frame = world.valid.head(200)
    arguments = (frame, world.sequences, world.ad_features, built.text_embeddings)
    assert predict_ctr(loaded.model, *arguments).equals(predict_ctr(built.model, *arguments))
    assert dataset._describe()["filepath"].endswith("trained_model")


def test_the_saved_architecture_leaves_out_how_the_model_was_trained(tmp_path: Path, world: SyntheticWorld) -> None:
    built = built_model(world, tiny_params())
    ZooModelDataset(filepath=str(tmp_path / "model")).save(TrainedModel("transformer", built.model))
    config = json.loads((tmp_path / "model" / CONFIG_FILE).read_text(encoding="utf-8"))
    assert "training" not in config["params"] and "calibration" not in config["params"]
    assert config["params"]["d_model"] == tiny_params().d_model


def test_a_pickled_zoo_model_round_trips(tmp_path: Path, world: SyntheticWorld) -> None:
    baseline = fit_baseline(world.train)
    dataset = ZooModelDataset(filepath=str(tmp_path / "pickled"))
    dataset.save(TrainedModel("baseline", baseline))
    assert {p.name for p in (tmp_path / "pickled").iterdir()} == {ZOO_FILE, MODEL_FILE}
    loaded = dataset.load()
    assert loaded.zoo == "baseline"
    assert predict_baseline(loaded.model, world.valid).equals(predict_baseline(baseline, world.valid))


def test_a_fine_tuned_model_round_trips_with_its_bert(tmp_path: Path, world: SyntheticWorld) -> None:
    built = built_model(world, tiny_params(text_encoder={"finetune_layers": 1}))
    dataset = ZooModelDataset(filepath=str(tmp_path / "finetuned"))
    dataset.save(TrainedModel("transformer", built.model))
    frame = world.valid.head(50)
    assert predict_ctr(dataset.load().model, frame, world.sequences, world.ad_features).equals(
        predict_ctr(built.model, frame, world.sequences, world.ad_features)
    )


def test_a_failed_save_keeps_the_previous_artifact(
    tmp_path: Path, world: SyntheticWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = built_model(world, tiny_params())
    target = tmp_path / "model"
    dataset = ZooModelDataset(filepath=str(target))
    dataset.save(TrainedModel("transformer", built.model))
    saved_weights = (target / WEIGHTS_FILE).read_bytes()

    def failing_save(*args, **kwargs) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(DatasetError):
        dataset.save(TrainedModel("transformer", built.model))
    assert (target / WEIGHTS_FILE).read_bytes() == saved_weights
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary directory left behind


def test_loading_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no saved model"):
        ZooModelDataset(filepath=str(tmp_path / "absent")).load()


def test_a_directory_naming_no_zoo_model_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "model").mkdir()
    (tmp_path / "model" / ZOO_FILE).write_text(json.dumps({"model": "deepfn"}), encoding="utf-8")
    with pytest.raises(DatasetError, match="did you mean 'deepfm'"):
        ZooModelDataset(filepath=str(tmp_path / "model")).load()
