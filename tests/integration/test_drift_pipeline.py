"""drift on the test environment: the tiny world's injected drift is flagged, its clean test day is not."""

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


def test_drift_flags_the_injected_shifts_and_leaves_the_test_day_alone(project_copy: Path):
    drift = project_parameters("test")["marketplace"]["drift"]
    assert drift["enabled"] and drift["new_category_ads"] > 0  # the tiny world injects a drift window
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="test") as session:
        session.run(pipeline_names=["ingest", "validate", "features", "ctr_training", "drift"])

    reporting = project_copy / "data" / "08_reporting"
    report = json.loads((reporting / "drift_report.json").read_text())
    assert report["model"] == "transformer" and report["recommendation"] == "retrain"
    assert report["windows"]["test"]["alerts"] == 0
    drift_window = report["windows"]["drift"]
    # shifted platform mix, shifted category interests and the new category's ads
    assert {"platform", "category"} <= set(drift_window["features"]["flagged_sources"])
    assert {"prediction", "label", "calibration", "performance"} <= set(drift_window)

    alerts = pd.read_csv(reporting / "drift_alerts.csv")
    assert set(alerts.loc[alerts["severity"] == "alert", "window"]) == {"drift"}
    flagged = set(zip(alerts["subject"], alerts["statistic"], strict=True))
    assert {("platform_idx", "psi"), ("category_idx", "unseen_share_increase")} <= flagged
    new_category = alerts.set_index(["subject", "statistic"]).loc[("category_idx", "unseen_share_increase")]
    assert new_category["current_value"] > 0.01 and new_category["reference_value"] == 0

    statistics = pd.read_parquet(reporting / "drift_statistics.parquet")
    assert set(statistics["window"]) == {"test", "drift"}
    assert set(statistics["group"]) == {"feature", "prediction", "label", "calibration", "performance"}
    for plot in ("psi", "score_histogram", "reliability"):
        assert (reporting / f"drift_{plot}_plot.png").stat().st_size > 0

    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    run = client.search_runs([e.experiment_id for e in client.search_experiments()])[0]
    assert run.data.metrics["drift_metrics.drift_alerts"] == drift_window["alerts"]
    assert run.data.metrics["drift_metrics.test_alerts"] == 0
    assert {"reports/drift_report.json", "reports/drift_psi_plot.png"} <= {
        artifact.path for artifact in client.list_artifacts(run.info.run_id, "reports")
    }
