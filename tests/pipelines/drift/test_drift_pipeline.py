"""The drift pipeline as Kedro sees it: wiring, catalog entries, typed parameters, one in-memory run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
import yaml
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro.validation.exceptions import ParameterValidationError
from kedro.validation.parameter_validator import ParameterValidator
from matplotlib.figure import Figure

from adrank_pipelines.monitoring.params import DriftParams
from adrank_pipelines.pipelines.drift import create_pipeline
from adrank_pipelines.pipelines.drift.nodes import compute_model_drift, fit_reference
from tests.conftest import project_parameters
from tests.monitoring.drift_windows import window

CONF = Path(__file__).resolve().parents[3] / "conf"
# Every model of ctr_training.models, raw and calibrated: the pipeline reads the list from conf/base.
MODELS = project_parameters("base")["ctr_training"]["models"]
PREDICTIONS = [f"{model}.{table}" for model in MODELS for table in ("predictions", "calibrated_predictions")]
INPUTS = {
    "model_input_train",
    "model_input_valid",
    "model_input_test",
    "model_input_drift",
    "feature_spec",
    "params:drift",
    *PREDICTIONS,
}
REPORTED = {
    "drift_statistics": "08_reporting",
    "drift_alerts": "08_reporting",
    "drift_retrain_recommendation": "08_reporting",
    "drift_report": "08_reporting",
    "drift_psi_plot": "08_reporting",
    "drift_score_histogram_plot": "08_reporting",
    "drift_reliability_plot": "08_reporting",
}
SPEC = {
    "categorical": {
        "platform_idx": {"kind": "vocabulary", "source": ["platform"], "size": 5},
        "category_idx": {"kind": "vocabulary", "source": ["category"], "size": 12},
    },
    "numeric": ["log_bid", "age_hours"],
}
# DriftParams' defaults (conf/base's) name the simulated world's features, which SPEC lacks.
NO_SELECTION = {"excluded": [], "report_only": []}


def _validated(raw: dict[str, Any]) -> DriftParams:
    return ParameterValidator({"drift": create_pipeline()}).validate_raw_params(raw)["drift"]


def test_nodes_and_datasets():
    pipeline = create_pipeline()
    assert pipeline.inputs() == INPUTS
    persisted = set(REPORTED) | {"drift_metrics"}
    in_memory = {
        "drift_reference_profile",
        "drift_feature_statistics",
        "drift_model_statistics",
        "drift_scored_windows",
    }
    assert pipeline.all_outputs() == persisted | in_memory


def test_every_reported_dataset_is_a_catalog_entry_with_its_layer():
    catalog = yaml.safe_load((CONF / "base" / "catalog_drift.yml").read_text())
    for name, layer in REPORTED.items():
        entry = catalog.get(name) or catalog["drift_{plot}_plot"]
        assert entry["metadata"]["kedro-viz"]["layer"] == layer, name


@pytest.mark.parametrize("env", ["base", "test"])
def test_project_parameters_pass_kedro_validation(env):
    params = _validated(project_parameters(env))
    assert isinstance(params, DriftParams) and params.model == "transformer"
    assert "day_of_week_idx" in params.features.excluded


def test_a_bad_parameter_fails_at_start_up_with_its_name():
    raw = project_parameters("test")
    raw["drift"]["rules"]["feature"]["psi"] = {"warn": 0.3, "alert": 0.2}
    with pytest.raises(ParameterValidationError, match=r"drift"):
        _validated(raw)


def test_an_unknown_model_fails_naming_the_parameter():
    frame = window(np.random.default_rng(0), 100)
    with pytest.raises(ValueError, match=r"drift\.model is 'tranformer'; the predictions tables are \['lightgbm'"):
        compute_model_drift(frame, frame, frame, frame, DriftParams(model="tranformer"), lightgbm=frame)


def test_a_parameter_naming_an_unknown_feature_fails_with_its_name():
    train = window(np.random.default_rng(0), 500)
    params = DriftParams.model_validate(
        {"features": NO_SELECTION, "rules": {"feature_overrides": {"platfrom_idx": {}}}}
    )
    with pytest.raises(ValueError, match=r"drift\.rules\.feature_overrides names \['platfrom_idx'\]"):
        fit_reference(train, SPEC, params)


@pytest.mark.parametrize("model", ["transformer", "lightgbm"])
def test_full_run_flags_the_shifted_window_only(model):
    rng = np.random.default_rng(1)
    frames = {
        "train": window(rng, 20_000),
        "valid": window(rng, 5_000),
        "test": window(rng, 5_000),
        "drift": window(rng, 5_000, platform_shares={2: 0.3, 3: 0.35, 4: 0.35}, new_category_share=0.02),
    }
    offset = 0
    for frame in frames.values():  # impression ids unique across windows, as in the real model inputs
        frame["impression_id"] += offset
        offset += len(frame)
    scores = pd.concat([f[["impression_id", "pctr"]].assign(split=s) for s, f in frames.items()])
    # lightgbm scores only the validation and test days, as ctr_training's table does
    lightgbm = scores.loc[scores["split"].isin(["valid", "test"])]
    params = DriftParams.model_validate(
        {
            "model": model,
            "features": {**NO_SELECTION, "report_only": ["age_hours"]},
            "rules": {"feature_overrides": {}},
        }
    )
    datasets = {f"model_input_{split}": MemoryDataset(frame) for split, frame in frames.items()}
    datasets |= {name: MemoryDataset(scores.iloc[:0]) for name in PREDICTIONS}
    datasets |= {"transformer.predictions": MemoryDataset(scores), "lightgbm.predictions": MemoryDataset(lightgbm)}
    datasets |= {"feature_spec": MemoryDataset(SPEC), "params:drift": MemoryDataset(params)}
    datasets |= {name: MemoryDataset() for name in create_pipeline().all_outputs()}
    catalog = DataCatalog(datasets=datasets)
    SequentialRunner().run(create_pipeline(), catalog)

    alerts = catalog.load("drift_alerts")
    assert set(alerts["window"]) == {"drift"}
    flagged = set(zip(alerts["subject"], alerts["statistic"], strict=True))
    assert {("platform_idx", "psi"), ("category_idx", "unseen_share_increase")} <= flagged
    report = catalog.load("drift_report")
    assert report["recommendation"] == "retrain"
    assert report["windows"]["test"]["decision"] == "none"
    assert report["windows"]["drift"]["features"]["flagged_sources"] == ["category", "platform"]
    monitored = {"transformer": {"prediction", "label", "calibration", "performance"}, "lightgbm": {"label"}}[model]
    assert monitored <= set(report["windows"]["drift"])
    assert ("calibration" in report["windows"]["test"]) and report["model"] == model
    assert report["settings"]["reference_window"] == "train"
    metrics = catalog.load("drift_metrics")
    assert metrics["drift_alerts"]["value"] >= 1 and metrics["test_alerts"]["value"] == 0
    assert all(
        isinstance(catalog.load(f"drift_{name}_plot"), Figure) for name in ("psi", "score_histogram", "reliability")
    )
