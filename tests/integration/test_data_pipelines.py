"""ingest -> validate -> features on the test environment, each stage its own `kedro run --pipeline`."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

pytestmark = pytest.mark.integration

DATA_STAGES = ("ingest", "validate", "features")


def _run(project: Path, pipeline_name: str) -> None:
    bootstrap_project(project)
    with KedroSession.create(project_path=project, env="test") as session:
        session.run(pipeline_name=pipeline_name)


def test_data_stages_run_one_after_another_through_the_catalog(project_copy: Path):
    for stage in DATA_STAGES:
        _run(project_copy, stage)

    data = project_copy / "data"
    raw = pd.read_parquet(data / "01_raw" / "impressions.parquet")
    validated = pd.read_parquet(data / "02_intermediate" / "validated_impressions.parquet")
    assert len(validated) == len(raw) > 0

    splits = {
        name: pd.read_parquet(data / "05_model_input" / f"model_input_{name}.parquet")
        for name in ("train", "valid", "test", "drift")
    }
    assert sum(len(frame) for frame in splits.values()) == len(raw)
    assert splits["train"]["event_time"].max() < splits["valid"]["event_time"].min()
    assert splits["valid"]["event_time"].max() < splits["test"]["event_time"].min()
    assert splits["test"]["event_time"].max() < splits["drift"]["event_time"].min()
    assert splits["test"]["is_cold_start_ad"].any()
    assert not splits["train"]["is_cold_start_ad"].any()
    for frame in splits.values():
        assert not {"true_pctr", "true_pcvr"} & set(frame.columns)
    assert (data / "04_feature" / "behaviour_sequences.parquet").exists()
    assert any((data / "08_reporting").rglob("*.html")), "the Great Expectations Data Docs report is missing"
    assert (project_copy / "mlflow.db").exists(), "MLflow must record into the project copy, not the user's store"


def test_every_stage_is_a_named_pipeline_and_the_default_runs_them_all(project_copy: Path):
    bootstrap_project(project_copy)
    registered = dict(pipelines)
    for stage in DATA_STAGES:
        assert stage in registered
    default_nodes = {node.name for node in registered["__default__"].nodes}
    for stage in DATA_STAGES:
        assert {node.name for node in registered[stage].nodes} <= default_nodes


def test_no_training_stage_reads_the_ground_truth(project_copy: Path):
    bootstrap_project(project_copy)
    for name in ("features",):
        inputs = pipelines[name].inputs()
        assert not {i for i in inputs if i.startswith("truth_")}, f"{name} reads the simulator's ground truth"
