"""TorchModelDataset: save/load round trip and atomic saves."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from kedro.io import DatasetError

from adrank_pipelines.datasets.torch_model import CONFIG_FILE, WEIGHTS_FILE, TorchModelDataset
from adrank_pipelines.models.scoring import predict_ctr
from tests.models.transformer_fixtures import SyntheticWorld, built_model, tiny_params, world  # noqa: F401


def test_round_trip_gives_identical_predictions(tmp_path: Path, world: SyntheticWorld) -> None:
    built = built_model(world, tiny_params())
    dataset = TorchModelDataset(filepath=str(tmp_path / "ctr_transformer"))
    assert not dataset.exists()
    dataset.save(built.model)
    assert dataset.exists() and {p.name for p in (tmp_path / "ctr_transformer").iterdir()} == {
        CONFIG_FILE,
        WEIGHTS_FILE,
    }
    loaded = dataset.load()
    frame = world.valid.head(200)
    arguments = (frame, world.sequences, world.ad_features, built.text_embeddings)
    assert predict_ctr(loaded, *arguments).equals(predict_ctr(built.model, *arguments))
    assert dataset._describe()["filepath"].endswith("ctr_transformer")


def test_a_fine_tuned_model_round_trips_with_its_bert(tmp_path: Path, world: SyntheticWorld) -> None:
    built = built_model(world, tiny_params(text_encoder={"finetune_layers": 1}))
    dataset = TorchModelDataset(filepath=str(tmp_path / "finetuned"))
    dataset.save(built.model)
    frame = world.valid.head(50)
    assert predict_ctr(dataset.load(), frame, world.sequences, world.ad_features).equals(
        predict_ctr(built.model, frame, world.sequences, world.ad_features)
    )


def test_a_failed_save_keeps_the_previous_artifact(
    tmp_path: Path, world: SyntheticWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    built = built_model(world, tiny_params())
    target = tmp_path / "model"
    dataset = TorchModelDataset(filepath=str(target))
    dataset.save(built.model)
    saved_weights = (target / WEIGHTS_FILE).read_bytes()

    def failing_save(*args, **kwargs) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", failing_save)
    with pytest.raises(DatasetError):
        dataset.save(built.model)
    assert (target / WEIGHTS_FILE).read_bytes() == saved_weights
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary directory left behind


def test_loading_a_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no saved model"):
        TorchModelDataset(filepath=str(tmp_path / "absent")).load()
