"""The per-model template: one namespace per listed model, its catalog entries, and a model added as one folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.io.catalog_config_resolver import CatalogConfigResolver
from kedro.runner import SequentialRunner

from adrank_pipelines.models import zoo
from adrank_pipelines.models.calibration import Calibrator
from adrank_pipelines.pipelines.ctr_training.pipeline import MODEL_INPUTS
from adrank_pipelines.pipelines.zoo_template import ModelInputs, evaluation_inputs, model_pipelines
from tests.conftest import project_parameters
from tests.pipelines.kept_dataset import KeptDataset

CONF = Path(__file__).resolve().parents[3] / "conf"
INPUTS = MODEL_INPUTS
CLICK_LOG = ModelInputs(train="cl_train", valid="cl_valid", test="cl_test", spec="cl_spec", prefix="clicklog.")
PER_MODEL = {"trained_model", "training_summary", "training_metrics", "predictions", "calibrator"}
PER_MODEL |= {"calibrated_predictions", "registered_model"}


def test_each_model_gets_its_own_namespace_and_outputs() -> None:
    pipeline = model_pipelines(["baseline", "lightgbm", "transformer", "hybrid"], {}, INPUTS)
    assert {node.namespace for node in pipeline.nodes} == {"baseline", "lightgbm", "transformer", "hybrid"}
    expected = {
        f"{model}.{output}" for model in ("baseline", "lightgbm", "transformer", "hybrid") for output in PER_MODEL
    }
    assert pipeline.all_outputs() == expected | {"transformer.ad_text_embeddings"}
    # Only the transformer reads sequences and ad text; the hybrid reads its upstream models' scores.
    transformer_fit = next(node for node in pipeline.nodes if node.name == "transformer.fit")
    assert {"behaviour_sequences", "ad_features", "transformer.ad_text_embeddings"} <= set(transformer_fit.inputs)
    lightgbm_fit = next(node for node in pipeline.nodes if node.name == "lightgbm.fit")
    assert not {"behaviour_sequences", "ad_features"} & set(lightgbm_fit.inputs)
    hybrid_fit = next(node for node in pipeline.nodes if node.name == "hybrid.fit")
    assert {"lightgbm.predictions", "transformer.predictions", "params:ctr_models.hybrid"} <= set(hybrid_fit.inputs)
    assert pipeline.inputs() >= {"model_input_train", "params:ctr_models.transformer.text_encoder"}


def test_a_graph_without_sequences_refuses_a_model_that_reads_them() -> None:
    assert model_pipelines(["lightgbm"], {}, CLICK_LOG).all_outputs() >= {"clicklog.lightgbm.predictions"}
    with pytest.raises(
        ValueError, match="model 'transformer' reads sequences and text, which this graph does not have"
    ):
        model_pipelines(["transformer"], {}, CLICK_LOG)


@pytest.mark.parametrize("env", ["base", "avazu"])
def test_every_template_output_resolves_to_a_catalog_entry_with_a_layer(env: str) -> None:
    parameters = project_parameters(env)
    listed = parameters["ctr_training" if env == "base" else "clicklog_training"]["models"]
    pipeline = model_pipelines(listed, parameters["ctr_models"], INPUTS if env == "base" else CLICK_LOG)
    catalog = {}
    for name in ("catalog_ctr_training.yml", "catalog_clicklog.yml"):
        catalog |= yaml.safe_load((CONF / "base" / name).read_text())
    resolver = CatalogConfigResolver(catalog)
    for output in pipeline.all_outputs():
        entry = resolver.resolve_pattern(output)
        assert entry, f"{output} matches no catalog entry"
        if not output.endswith(".training_metrics"):  # MLflow metrics have no file and no layer
            assert entry["metadata"]["kedro-viz"]["layer"], output
        if output.endswith("predictions"):
            assert entry["metadata"]["contract"] == "predictions", output
        if output.endswith(".ad_text_embeddings"):
            assert entry["metadata"]["contract"] == "ad_text_embeddings", output


def test_evaluation_reads_raw_and_calibrated_scores_and_the_calibrator_of_each_model() -> None:
    assert evaluation_inputs(["deepfm"], "clicklog.") == {
        "deepfm": "clicklog.deepfm.predictions",
        "deepfm_calibrated": "clicklog.deepfm.calibrated_predictions",
        "deepfm__calibrator": "clicklog.deepfm.calibrator",
    }


MEAN_MODEL = '''
    """A zoo model of one number: the click rate of the training days."""

    from adrank_pipelines.models.zoo.interface import FittedModel, ModelScores, TrainingData, ZooParams
    from adrank_pipelines.models.zoo.pickled import PickledZooModel


    class MeanParams(ZooParams):
        shrink: float = 1.0


    class MeanModel(PickledZooModel):
        name = "mean_rate"
        params_type = MeanParams

        def fit(self, data: TrainingData, params: MeanParams) -> FittedModel:
            rate = params.shrink * float(data.train["click"].mean())
            return FittedModel(rate, {"rate": rate})

        def predict(self, model, frame, side, upstream) -> ModelScores:
            import numpy as np

            return ModelScores(pctr=np.full(len(frame), model))


    MODEL = MeanModel()
'''


def test_adding_a_model_is_one_folder_and_one_config_entry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "mean_rate"
    folder.mkdir()
    (folder / "__init__.py").write_text('"""The mean click rate."""\n')
    (folder / "model.py").write_text(textwrap.dedent(MEAN_MODEL))
    monkeypatch.setattr(zoo, "__path__", [*zoo.__path__, str(tmp_path)])
    assert "mean_rate" in zoo.zoo_names()

    pipeline = model_pipelines(["mean_rate"], {"mean_rate": {"shrink": 0.5}}, CLICK_LOG)
    rng = np.random.default_rng(0)
    frames = {
        split: pd.DataFrame({"impression_id": np.arange(n) + offset, "click": (rng.random(n) < 0.2).astype(int)})
        for split, n, offset in (("train", 400, 0), ("valid", 200, 400), ("test", 100, 600))
    }
    params = zoo.model_params("mean_rate", {"shrink": 0.5})
    catalog = DataCatalog(
        datasets={f"cl_{split}": MemoryDataset(frame) for split, frame in frames.items()}
        | {"cl_spec": MemoryDataset({}), "params:ctr_models.mean_rate": MemoryDataset(params)}
        | {name: KeptDataset() for name in pipeline.all_outputs()}
    )
    SequentialRunner().run(pipeline, catalog)

    predictions = catalog.load("clicklog.mean_rate.predictions")
    assert predictions.groupby("split").size().to_dict() == {"test": 100, "train": 400, "valid": 200}
    np.testing.assert_allclose(predictions["pctr"], 0.5 * frames["train"]["click"].mean())
    calibrator = catalog.load("clicklog.mean_rate.calibrator")
    assert isinstance(calibrator, Calibrator) and calibrator.method == "platt"
    assert catalog.load("clicklog.mean_rate.training_summary") == {"rate": 0.5 * frames["train"]["click"].mean()}
    # The release the registry gets: the model with its own calibrator and the validation metrics of the
    # calibrated score (one constant score: AUC 0.5); no event_time, so no training days.
    release = catalog.load("clicklog.mean_rate.registered_model")
    assert release.trained.zoo == "mean_rate" and release.calibrator.method == "platt"
    probe = np.array([0.05, 0.1, 0.3])
    np.testing.assert_array_equal(release.calibrator.transform(probe), calibrator.transform(probe))
    assert release.metrics["valid_auc"] == 0.5 and set(release.metrics) == {"valid_auc", "valid_logloss"}
    assert release.lineage == {"model": "mean_rate"} and release.version is None
