"""The project's catalog, parameters and serving settings for one environment, without a Kedro session.

The service loads artifacts once at start-up (and on reload), never per request. It builds the
Kedro context directly with a null hook manager: no plugin hook runs, so kedro-mlflow neither opens
a run nor touches the tracking store, and the project's run hooks (start-up checks, lineage) stay
with ``kedro run``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kedro.framework.context import KedroContext
from kedro.framework.hooks.manager import _NullPluginManager
from kedro.framework.project import settings
from kedro.framework.startup import bootstrap_project
from pydantic import ValidationError

from adrank_pipelines.graph_config import use_parameters
from adrank_pipelines.schemas.parameter_errors import describe_validation_error
from adrank_pipelines.serving.params import ServingParams

SERVING_CONFIG = "serving"


class ServingConfigError(RuntimeError):
    """The serving settings are missing or invalid; the message names the setting."""


@dataclass(frozen=True)
class ProjectConfig:
    catalog: Any  # a Kedro DataCatalog
    parameters: dict[str, Any]
    serving: ServingParams
    env: str | None


def load_project(project_path: Path, env: str | None) -> ProjectConfig:
    """The catalog, parameters and ``serving`` settings of ``env`` (None: the default run environment)."""
    metadata = bootstrap_project(project_path)
    conf_source = str(project_path / settings.CONF_SOURCE)
    config_loader = settings.CONFIG_LOADER_CLASS(conf_source=conf_source, env=env, **settings.CONFIG_LOADER_ARGS)
    # Typing the parameters builds the pipelines, which must read this project's configuration.
    use_parameters(config_loader["parameters"])
    context = KedroContext(
        project_path=project_path,
        config_loader=config_loader,
        env=env,
        package_name=metadata.package_name,
        hook_manager=_NullPluginManager(),  # type: ignore[arg-type]  # Kedro's own stand-in for a PluginManager
    )
    try:
        raw = config_loader[SERVING_CONFIG]
    except KeyError as error:
        raise ServingConfigError(f"no serving settings found: add conf/base/{SERVING_CONFIG}.yml") from error
    if SERVING_CONFIG not in raw:
        raise ServingConfigError(f"conf/*/{SERVING_CONFIG}.yml must hold a top-level '{SERVING_CONFIG}' key")
    try:
        serving = ServingParams.model_validate(raw[SERVING_CONFIG])
    except ValidationError as error:
        raise ServingConfigError("; ".join(describe_validation_error(SERVING_CONFIG, ServingParams, error))) from error
    return ProjectConfig(catalog=context.catalog, parameters=dict(context.params), serving=serving, env=env)
