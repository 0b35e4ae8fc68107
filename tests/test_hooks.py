"""Typed parameters reach MLflow one field per key, with names MLflow accepts."""

from __future__ import annotations

import mlflow
from kedro.pipeline import Node
from pydantic import BaseModel

from adrank_pipelines.hooks import TypedParametersToMlflow


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
