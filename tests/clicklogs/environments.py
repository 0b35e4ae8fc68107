"""The click-log environments' own configuration (conf/avazu, conf/criteo), typed, for the tests."""

from __future__ import annotations

from typing import Any

from kedro.config import OmegaConfigLoader
from omegaconf import OmegaConf

from adrank_pipelines.clicklogs.config import ClickLogFeatureParams, ColumnMapping
from adrank_pipelines.clicklogs.reader import FileLayout
from adrank_pipelines.settings import CONFIG_LOADER_ARGS
from tests.conftest import PROJECT_ROOT, project_parameters

ENVIRONMENTS = ("avazu", "criteo")


def clicklog_file_entry(env: str) -> dict[str, Any]:
    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"),
        base_env=CONFIG_LOADER_ARGS["base_env"],
        default_run_env=env,
        merge_strategy=CONFIG_LOADER_ARGS["merge_strategy"],
    )
    return loader["catalog"]["clicklog_file"]


def file_layout(env: str) -> FileLayout:
    return FileLayout.model_validate(clicklog_file_entry(env)["layout"])


def column_mapping(env: str) -> ColumnMapping:
    return ColumnMapping.model_validate(project_parameters(env)["clicklog_columns"])


def feature_params(env: str) -> ClickLogFeatureParams:
    return ClickLogFeatureParams.model_validate(project_parameters(env)["clicklog_features"])


def parameters_with_cli_params(env: str, params: str) -> dict[str, Any]:
    """The environment's parameters under ``kedro run --params <params>``: ``key.path=value`` items,
    comma-separated, turned into runtime parameters the way Kedro's CLI does (an OmegaConf dot-list)."""
    runtime_params = OmegaConf.to_container(OmegaConf.from_dotlist(params.split(",")))
    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"),
        base_env=CONFIG_LOADER_ARGS["base_env"],
        default_run_env=env,
        merge_strategy=CONFIG_LOADER_ARGS["merge_strategy"],
        runtime_params=runtime_params,
    )
    return loader["parameters"]
