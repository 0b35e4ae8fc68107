"""Project hooks."""

from __future__ import annotations

import atexit
import logging
import os
import re
from collections.abc import Generator
from pathlib import Path
from typing import Any

import mlflow
from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from kedro.pipeline import Node
from mlflow.entities import RunStatus
from mlflow.tracking import MlflowClient
from pydantic import BaseModel

from adrank_pipelines.graph_config import graph_keys
from adrank_pipelines.mlflow_store import create_store_atomically, sqlite_store_path, store_lock
from adrank_pipelines.pipeline_registry import all_pipelines, pipeline_names, requested_names
from adrank_pipelines.run_checks import (
    check_environment,
    check_parameters,
    check_pipeline_names,
    runtime_parameter_keys,
)

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


class StartupChecks:
    """Refuse a run whose environment, pipeline names or parameters are wrong, naming the bad input.

    A wrapper that runs first, so the checks come before any plugin acts on the configuration: without them,
    an unknown ``--env`` surfaces as kedro-mlflow's complaint about the file store it falls back to, a
    parameter outside its model's rules as an error deep inside a node, and a misspelt parameter key not at all.
    """

    @hook_impl(wrapper=True, tryfirst=True)
    def after_context_created(self, context: KedroContext) -> Generator[None, None, None]:
        loader = context.config_loader
        conf_source = Path(loader.conf_source)
        base_env = getattr(loader, "base_env", "base")
        if context.env:
            check_environment(conf_source, context.env, base_env)
        try:
            parameters = loader["parameters"]
        except MissingConfigException:
            parameters = {}
        # Kedro narrows the registry to the requested names before creating the context, but loads it later.
        check_pipeline_names(requested_names(), pipeline_names())
        environments = [base_env, context.env or getattr(loader, "default_run_env", "")]
        # Every pipeline, not only the requested ones: the schema is the whole tree's, whatever runs.
        configured = runtime_parameter_keys(conf_source, environments, loader.runtime_params or {})
        pipelines_of_every_name = all_pipelines()
        # Keys the pipeline builders read (which models are trained, ranked, ...) are known though no node takes them.
        check_parameters(parameters, pipelines_of_every_name, configured | graph_keys())
        return (yield)


class FailingNodeNote:
    """Add the failing node's name to its error, so the failure report (and any traceback) names it."""

    @hook_impl
    def on_node_error(self, error: Exception, node: Node) -> None:
        error.add_note(f"in node '{node.name}'")


class MlflowRunGuard:
    """Make MLflow's record of a run match what happened to it.

    - Two runs started together on a fresh project must not both create the SQLite store and the experiment:
      kedro-mlflow's set-up runs under a lock on the store.
    - An interrupted run (KeyboardInterrupt) reaches no pipeline hook, and MLflow's exit handler would record it
      FINISHED: it is ended KILLED at exit, or when the same process starts its next run.
    """

    def __init__(self) -> None:
        self._open_run_id: str | None = None
        self._exit_handler_registered = False

    @hook_impl(wrapper=True)
    def after_context_created(self, context: KedroContext) -> Generator[None, None, None]:
        # Before kedro-mlflow looks for an active run, which it would otherwise adopt as an orchestrator's.
        self.end_interrupted_run()
        database = sqlite_store_path(_tracking_uri(context))
        with store_lock(database):
            create_store_atomically(database)
            return (yield)

    @hook_impl(trylast=True)
    def before_pipeline_run(self) -> None:
        # After kedro-mlflow's own before_pipeline_run, which starts the run.
        run = mlflow.active_run()
        self._open_run_id = run.info.run_id if run is not None else None
        if not self._exit_handler_registered:
            # Registered after MLflow's own handler, so it runs before it (exit handlers run last-in first-out).
            atexit.register(self.end_interrupted_run)
            self._exit_handler_registered = True

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._open_run_id = None

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._open_run_id = None

    def end_interrupted_run(self) -> None:
        run_id, self._open_run_id = self._open_run_id, None
        if run_id is None:
            return
        logging.getLogger(__name__).warning("The run was interrupted: MLflow run '%s' is recorded KILLED.", run_id)
        active = mlflow.active_run()
        if active is not None and active.info.run_id == run_id:
            # Ending it through the fluent API also takes it off the active-run stack MLflow ends at exit.
            mlflow.end_run(RunStatus.to_string(RunStatus.KILLED))
        else:
            MlflowClient().set_terminated(run_id, RunStatus.to_string(RunStatus.KILLED))


def _tracking_uri(context: KedroContext) -> str | None:
    """The tracking URI kedro-mlflow will use: mlflow.yml's, else MLFLOW_TRACKING_URI."""
    loader = context.config_loader
    # kedro-mlflow registers the same pattern in its own after_context_created, which runs after this one.
    patterns = getattr(loader, "config_patterns", None)
    if isinstance(patterns, dict):
        patterns.setdefault("mlflow", ["mlflow*", "mlflow*/**", "**/mlflow*"])
    try:
        configured = (loader["mlflow"].get("server") or {}).get("mlflow_tracking_uri")
    except (KeyError, MissingConfigException):
        configured = None
    return configured or os.environ.get("MLFLOW_TRACKING_URI")
