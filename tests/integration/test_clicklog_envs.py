"""`kedro run --env avazu|criteo --pipelines ctr` end to end on small generated files, plain and gzip."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from kedro.config import OmegaConfigLoader
from kedro.framework.project import pipelines
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
from mlflow import MlflowClient
from sklearn.metrics import roc_auc_score

from adrank_pipelines.clicklogs.synthetic import avazu_like, criteo_like
from adrank_pipelines.models.zoo import model_params
from adrank_pipelines.pipeline_registry import CLICK_LOG_PIPELINES
from tests.conftest import project_parameters
from tests.integration.test_catalog_layers import LAYER_ORDER, _layer_of

pytestmark = pytest.mark.integration

# A tiny model and few trees: the test checks the wiring and that the planted signal is found.
TINY_TRAINING = {"batch_size": 512, "max_epochs": 2, "min_steps": 0, "patience": 1, "num_threads": 1}
TINY_RUN = {
    "ctr_models": {
        "field_attention": {
            "d_model": 8,
            "n_layers": 1,
            "feedforward_dim": 16,
            "mlp_hidden": [16],
            "training": TINY_TRAINING,
        },
        "deepfm": {"embedding_dim": 4, "mlp_hidden": [16], "training": TINY_TRAINING},
        "dcn_v2": {"embedding_dim": 4, "mlp_hidden": [16], "cross_layers": 2, "training": TINY_TRAINING},
        "lightgbm": {
            "n_estimators": 100,
            "learning_rate": 0.1,
            "early_stopping_rounds": 10,
            "min_child_samples": 50,
            "num_threads": 1,
        },
    },
    "ctr_evaluation": {"n_bins": 10},
    "clicklog_features": {"min_count": 2, "crosses": {"n_hash_buckets": 1009}},
}
MODELS = project_parameters("avazu")["clicklog_training"]["models"]


def _run_ctr(project: Path, env: str, log_file: Path) -> None:
    bootstrap_project(project)
    runtime_params = {"clicklog_path": str(log_file), **TINY_RUN}
    with KedroSession.create(project_path=project, env=env, runtime_params=runtime_params) as session:
        session.run(pipeline_names=["ctr"])


@pytest.mark.parametrize(
    ("env", "file_name", "log"),
    [("avazu", "train.gz", avazu_like(4_000, seed=11)), ("criteo", "train.txt", criteo_like(5_000, seed=11))],
    ids=["avazu-gzip", "criteo-plain"],
)
def test_ctr_trains_both_models_on_a_click_log_and_finds_the_planted_signal(project_copy, env, file_name, log):
    log_file = log.write(project_copy / "downloads" / file_name)
    _run_ctr(project_copy, env, log_file)

    data = project_copy / "data"
    events = pd.read_parquet(data / "01_raw" / "clicklog" / "clicklog_events.parquet")
    first_line = 2 if env == "avazu" else 1  # impression_id is the line number; Avazu's line 1 is the header
    assert events["impression_id"].tolist() == list(range(first_line, first_line + len(log.frame)))
    inputs = {split: pd.read_parquet(data / "05_model_input" / "clicklog" / f"clicklog_model_input_{split}.parquet")
              for split in ("train", "valid", "test")}  # fmt: skip

    report = json.loads((data / "08_reporting" / "clicklog_evaluation_report.json").read_text())
    metrics = report["subsets"]["all"]["metrics"]
    blocks = project_parameters(env)["ctr_models"]
    calibrated = {f"{m}_calibrated" for m in MODELS if model_params(m, blocks.get(m)).calibration != "none"}
    assert set(metrics) == set(MODELS) | calibrated
    test_rows = inputs["test"]["impression_id"].to_numpy() - first_line
    oracle_auc = roc_auc_score(log.frame.iloc[test_rows, 1 if env == "avazu" else 0], log.true_ctr[test_rows])
    for model in ("lightgbm", "field_attention"):
        share_of_signal = (metrics[model]["auc"] - 0.5) / (oracle_auc - 0.5)
        assert share_of_signal > 0.35, f"{model} should find the planted signal (oracle AUC {oracle_auc:.3f})"
    assert metrics["lightgbm_calibrated"]["normalized_entropy"] < 1.0
    assert (data / "08_reporting" / "clicklog_metrics_plot.png").stat().st_size > 0
    assert sum(len(frame) for frame in inputs.values()) == len(log.frame)
    if env == "avazu":  # time-ordered: the test day after the validation day after the train days
        assert inputs["train"]["event_time"].max() < inputs["valid"]["event_time"].min()
        assert inputs["valid"]["event_time"].max() < inputs["test"]["event_time"].min()
    else:  # a seeded random tenth per evaluation split
        assert len(inputs["test"]) / len(log.frame) == pytest.approx(0.1, abs=0.02)

    client = MlflowClient(tracking_uri=f"sqlite:///{project_copy / 'mlflow.db'}")
    (run,) = client.search_runs([e.experiment_id for e in client.search_experiments()])
    assert run.data.metrics["clicklog_metrics.test_auc_lightgbm"] == pytest.approx(metrics["lightgbm"]["auc"])
    artifacts = {a.path for a in client.list_artifacts(run.info.run_id, "models")}
    assert {f"models/clicklog.{model}" for model in MODELS} <= artifacts
    saved = json.loads((data / "06_models" / "clicklog.field_attention" / "zoo.json").read_text())
    assert saved == {"model": "field_attention"}


def test_a_malformed_line_stops_the_run_naming_file_and_line_before_anything_is_written(project_copy):
    # Every kind of malformed line is covered by tests/clicklogs/test_reader.py; here, that a run stops.
    lines = avazu_like(60, seed=1).write(project_copy / "clean.csv").read_text().splitlines()
    lines[29] += ",surplus"  # line 30 of the file
    log_file = project_copy / "broken.csv"
    log_file.write_text("\n".join(lines) + "\n")
    with pytest.raises(Exception, match=r"line 30: 25 field\(s\), expected 24") as error:
        _run_ctr(project_copy, "avazu", log_file)
    assert str(log_file) in str(error.value)
    assert not (project_copy / "data" / "01_raw" / "clicklog" / "clicklog_events.parquet").exists()


def test_the_default_graph_holds_no_click_log_node_and_ctr_holds_every_click_log_stage(project_copy):
    bootstrap_project(project_copy)
    default, ctr = pipelines["__default__"], pipelines["ctr"]
    assert not any(name.startswith("clicklog_") for name in default.datasets())
    stages = [pipelines[name] for name in CLICK_LOG_PIPELINES if name != "ctr"]
    assert {node.name for node in ctr.nodes} == {node.name for stage in stages for node in stage.nodes}
    shared = set(ctr.datasets()) & set(default.datasets())
    # Only parameters are shared: the same model and validation settings, no dataset of the simulated world.
    both = set(project_parameters("base")["ctr_training"]["models"]) & set(MODELS)
    assert both, "the two graphs share at least one zoo model"
    assert shared == {f"params:ctr_models.{model}" for model in both} | {
        "params:ctr_evaluation",
        "params:validate.report",
    }

    catalog = OmegaConfigLoader(str(project_copy / "conf"), base_env="base", default_run_env="avazu")["catalog"]
    backwards, unlayered = [], []
    for node in ctr.nodes:
        read = [_layer_of(catalog, name) for name in node.inputs if not name.startswith("params:")]
        written = [_layer_of(catalog, name) for name in node.outputs]
        unlayered += [name for name, layer in zip(node.outputs, written, strict=True) if layer is None]
        backwards += [
            (node.name, source, target)
            for source in filter(None, read)
            for target in filter(None, written)
            if LAYER_ORDER.index(target) < LAYER_ORDER.index(source)
        ]
    assert not backwards, f"nodes writing an earlier layer than they read (kedro-viz drops all layers): {backwards}"
    mlflow_metrics = {"clicklog_metrics", *(f"clicklog.{model}.training_metrics" for model in MODELS)}
    assert set(unlayered) == mlflow_metrics, "every output but the MLflow metrics has a kedro-viz layer"
