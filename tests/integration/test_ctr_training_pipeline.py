"""ctr_training on the test environment: models are saved, scored, reported and recorded in MLflow."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

pytestmark = pytest.mark.integration


def test_ctr_training_learns_and_reports_every_model_beside_the_oracle(project_copy: Path):
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="test") as session:
        session.run(pipeline_names=["ingest", "validate", "features", "ctr_training"])

    data = project_copy / "data"
    report = json.loads((data / "08_reporting" / "ctr_evaluation_report.json").read_text())
    overall = report["subsets"]["all"]["metrics"]
    for model in (
        "baseline",
        "lightgbm",
        "lightgbm_calibrated",
        "transformer",
        "transformer_calibrated",
        "hybrid",
        "oracle",
    ):
        assert 0.0 <= overall[model]["auc"] <= 1.0
    assert overall["transformer"]["auc"] > 0.6, "the transformer should learn on the test world"
    assert overall["oracle"]["auc"] > overall["baseline"]["auc"]
    assert "cold_start" in report["subsets"]
    assert (data / "08_reporting" / "ctr_reliability_plot.png").stat().st_size > 0
    assert (data / "06_models" / "transformer_ctr_model.pt").exists()

    predictions = pd.read_parquet(data / "07_model_output" / "transformer_predictions.parquet")
    assert set(predictions["split"]) == {"train", "valid", "test", "drift"}
    assert predictions[["pctr", "pcvr"]].apply(lambda s: s.between(0, 1).all()).all()

    # A client of its own: setting MLflow's global tracking URI here would leak into later tests.
    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    experiments = [e.experiment_id for e in client.search_experiments()]
    runs = client.search_runs(experiments)
    assert len(runs) == 1
    run = runs[0]
    assert run.data.metrics["ctr_metrics.test_auc_transformer"] == pytest.approx(overall["transformer"]["auc"])
    assert run.data.params["ctr_transformer.training.max_epochs"] == "2"
    assert "transformer_training_metrics.transformer_valid_auc" in run.data.metrics
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "models")}
    assert {"models/transformer_ctr_model.pt", "models/lightgbm_model.pkl"} <= artifacts
