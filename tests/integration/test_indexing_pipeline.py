"""indexing on the test environment, after ingest -> validate -> features -> ctr_training."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient

from adrank_pipelines.datasets.faiss_index import FaissIndexDataset
from adrank_pipelines.retrieval.index import index_ad_ids
from tests.conftest import project_parameters

pytestmark = pytest.mark.integration


def test_indexing_retrieves_k_eligible_ads_per_test_request_and_reports(project_copy: Path):
    bootstrap_project(project_copy)
    with KedroSession.create(project_path=project_copy, env="test") as session:
        session.run(pipeline_names=["ingest", "validate", "features", "ctr_training", "indexing"])

    data = project_copy / "data"
    k = project_parameters("test")["indexing"]["top_k"]
    candidates = pd.read_parquet(data / "07_model_output" / "retrieved_candidates.parquet")
    test_requests = set(pd.read_parquet(data / "05_model_input" / "model_input_test.parquet")["request_id"])
    assert set(candidates["request_id"]) == test_requests
    assert (candidates.groupby("request_id").size() == k).all()
    assert str(candidates["retrieval_rank"].dtype) == "int32" and str(candidates["retrieval_score"].dtype) == "float32"

    ads = pd.read_parquet(data / "02_intermediate" / "validated_ads.parquet").set_index("ad_id")
    test_day = pd.read_parquet(data / "05_model_input" / "model_input_test.parquet")["day"].max()
    assert (ads.loc[candidates["ad_id"], "first_day"].to_numpy() <= test_day).all()  # no drift-only ad

    index_files = list((data / "06_models" / "ad_index.faiss").glob("*/ad_index.faiss"))
    assert len(index_files) == 1  # versioned
    index = FaissIndexDataset(filepath=str(index_files[0])).load()
    assert set(index_ad_ids(index)) == set(ads.index)

    report = json.loads((data / "08_reporting" / "indexing_report.json").read_text())
    pipeline = report["pipeline"]
    assert pipeline["requests_below_k"] == 0 and pipeline["n_requests"] == len(test_requests)
    assert 0.8 <= pipeline["recall_at_k_vs_exact"] <= 1.0
    rows = {row["name"]: row for row in report["index_types"]}
    assert rows["Flat"]["recall_at_k"] == 1.0
    assert pipeline["index"] in rows and rows[pipeline["index"]]["latency"]["single_median_ms"] > 0
    assert (data / "08_reporting" / "indexing_recall_latency_plot.png").stat().st_size > 0

    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    run = client.search_runs([e.experiment_id for e in client.search_experiments()])[0]
    assert run.data.metrics["indexing_metrics.indexing_recall_at_k"] == pytest.approx(pipeline["recall_at_k_vs_exact"])
