"""ctr_training on the test environment: models are saved, scored, reported and recorded in MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

from tests.conftest import project_parameters

pytestmark = pytest.mark.integration


def test_ctr_training_learns_and_reports_every_model_beside_the_oracle(project_copy: Path):
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="test") as session:
        session.run(pipeline_names=["ingest", "validate", "features", "ctr_training"])

    data = project_copy / "data"
    report = json.loads((data / "08_reporting" / "ctr_evaluation_report.json").read_text())
    overall = report["subsets"]["all"]["metrics"]
    # Every model of ctr_training.models, calibrated beside raw where its calibrator is not the identity.
    parameters = project_parameters("test")
    models, blocks = parameters["ctr_training"]["models"], parameters["ctr_models"]
    calibrated = {f"{model}_calibrated" for model in models if blocks[model]["calibration"] != "none"}
    reported = {"oracle", *models, *calibrated}
    assert {"lightgbm_calibrated", "transformer_calibrated"} <= calibrated and "baseline_calibrated" not in calibrated
    assert set(overall) == reported
    for model in reported:
        assert 0.0 <= overall[model]["auc"] <= 1.0
    assert overall["transformer"]["auc"] > 0.6, "the transformer should learn on the test world"
    assert overall["oracle"]["auc"] > overall["baseline"]["auc"]
    assert "cold_start" in report["subsets"]
    assert (data / "08_reporting" / "ctr_reliability_plot.png").stat().st_size > 0
    assert json.loads((data / "06_models" / "transformer" / "zoo.json").read_text()) == {"model": "transformer"}
    assert (data / "06_models" / "transformer.calibrator.pkl").exists()

    predictions = pd.read_parquet(data / "07_model_output" / "transformer" / "predictions.parquet")
    assert set(predictions["split"]) == {"train", "valid", "test", "drift"}
    assert predictions[["pctr", "pcvr"]].apply(lambda s: s.between(0, 1).all()).all()
    calibrated = pd.read_parquet(data / "07_model_output" / "transformer" / "calibrated_predictions.parquet")
    assert calibrated["impression_id"].equals(predictions["impression_id"])
    assert calibrated["pcvr"].equals(predictions["pcvr"]) and not calibrated["pctr"].equals(predictions["pctr"])
    # The baseline is calibrated by construction: its calibrator is the identity.
    baseline = pd.read_parquet(data / "07_model_output" / "baseline" / "predictions.parquet")
    baseline_calibrated = pd.read_parquet(data / "07_model_output" / "baseline" / "calibrated_predictions.parquet")
    assert baseline_calibrated["pctr"].equals(baseline["pctr"])

    # A client of its own: setting MLflow's global tracking URI here would leak into later tests.
    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments)
    assert len(runs) == 1
    run = runs[0]
    assert run.data.metrics["ctr_metrics.test_auc_transformer"] == pytest.approx(overall["transformer"]["auc"])
    assert run.data.params["ctr_models.transformer.training.max_epochs"] == "2"
    assert {"transformer_valid_auc", "dcn_v2_valid_auc", "lightgbm_best_iteration"} <= set(run.data.metrics)
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "models")}
    assert {"models/transformer", "models/lightgbm"} <= artifacts
