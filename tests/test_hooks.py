"""Typed parameters reach MLflow one field per key, with names MLflow accepts."""

from __future__ import annotations

import mlflow
from kedro.pipeline import Node
from pydantic import BaseModel

from adrank_pipelines.hooks import FailingNodeNote, MlflowRunGuard, TypedParametersToMlflow


class _Inner(BaseModel):
    shares: dict[str, float]


class _Params(BaseModel):
    rate: float
    inner: _Inner


def _identity(x):
    return x


def test_typed_parameters_are_logged_flat_with_safe_names(tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("typed-parameters")
    node = Node(_identity, "params:model", "out")
    with mlflow.start_run() as run:
        TypedParametersToMlflow().before_node_run(
            node, {"params:model": _Params(rate=0.5, inner=_Inner(shares={"55+": 0.1})), "data": 1}
        )
    logged = mlflow.get_run(run.info.run_id).data.params
    assert logged == {"model.rate": "0.5", "model.inner.shares.55_": "0.1"}


def test_nothing_is_logged_without_an_active_run(tmp_path):
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    TypedParametersToMlflow().before_node_run(
        Node(_identity, "params:model", "out"), {"params:model": _Params(rate=1, inner=_Inner(shares={}))}
    )
    assert mlflow.active_run() is None


def test_a_failing_node_is_named_on_its_error():
    error = ValueError("Probabilities are not non-negative")
    FailingNodeNote().on_node_error(error, Node(_identity, "params:model", "out", name="simulate_marketplace"))
    assert error.__notes__ == ["in node 'simulate_marketplace'"]


def _started_run(tmp_path) -> str:
    mlflow.set_tracking_uri(f"sqlite:///{tmp_path / 'mlflow.db'}")
    mlflow.set_experiment("run-status")
    return mlflow.start_run().info.run_id


def test_an_interrupted_run_is_recorded_killed(tmp_path):
    guard = MlflowRunGuard()
    run_id = _started_run(tmp_path)
    guard.before_pipeline_run()
    # A KeyboardInterrupt reaches neither after_pipeline_run nor on_pipeline_error; the exit handler then runs.
    guard.end_interrupted_run()
    assert mlflow.active_run() is None
    assert mlflow.get_run(run_id).info.status == "KILLED"


def test_an_interrupted_run_of_another_thread_is_recorded_killed(tmp_path):
    guard = MlflowRunGuard()
    run_id = _started_run(tmp_path)
    guard.before_pipeline_run()
    mlflow.end_run("RUNNING")  # no longer this thread's active run
    guard.end_interrupted_run()
    assert mlflow.get_run(run_id).info.status == "KILLED"


def test_a_finished_or_failed_run_is_left_as_it_ended(tmp_path):
    guard = MlflowRunGuard()
    for end_hook, status in [(guard.after_pipeline_run, "FINISHED"), (guard.on_pipeline_error, "FAILED")]:
        run_id = _started_run(tmp_path)
        guard.before_pipeline_run()
        mlflow.end_run(status)
        end_hook()
        guard.end_interrupted_run()
        assert mlflow.get_run(run_id).info.status == status
