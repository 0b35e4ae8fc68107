"""Project hooks."""

from __future__ import annotations

import re
from typing import Any

import mlflow
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node
from pydantic import BaseModel

_PARAMS_PREFIX = "params:"
_MLFLOW_VALUE_LIMIT = 6000
# MLflow accepts only these characters in a parameter name (e.g. the age bucket "55+" is refused).
_NOT_ALLOWED_IN_KEYS = re.compile(r"[^\w\-. :/]")


def _flatten(prefix: str, value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(f"{prefix}.{_NOT_ALLOWED_IN_KEYS.sub('_', str(key))}", item))
        return flat
    return {prefix: str(value)[:_MLFLOW_VALUE_LIMIT]}


class TypedParametersToMlflow:
    """Log typed (pydantic) node parameters to MLflow one field per key.

    kedro-mlflow flattens dictionaries only; Kedro hands typed ``params:`` inputs to nodes as pydantic
    models, which it would log as one truncated string.
    """

    @hook_impl
    def before_node_run(self, node: Node, inputs: dict[str, Any]) -> None:
        if mlflow.active_run() is None:
            return
        flat: dict[str, Any] = {}
        for name, value in inputs.items():
            if name.startswith(_PARAMS_PREFIX) and isinstance(value, BaseModel):
                flat.update(_flatten(name.removeprefix(_PARAMS_PREFIX), value.model_dump(mode="json")))
        if flat:
            mlflow.log_params(flat)
