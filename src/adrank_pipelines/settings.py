"""Project settings: config loading and project hooks."""

from kedro.config import OmegaConfigLoader

from adrank_pipelines.contract_hooks import HandoverContracts
from adrank_pipelines.dask_hooks import DaskCluster
from adrank_pipelines.graph_config import GraphParameters
from adrank_pipelines.hooks import FailingNodeNote, MlflowRunGuard, StartupChecks, TypedParametersToMlflow
from adrank_pipelines.lineage_hooks import DatasetLineage

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment overrides only the parameter keys it names (e.g. conf/test shrinks the world).
    "merge_strategy": {"parameters": "soft", "serving": "soft"},
    # The online service's settings (adrank_pipelines.serving.params): not pipeline parameters.
    "config_patterns": {"serving": ["serving*", "serving*/**"]},
}

HOOKS = (
    StartupChecks(),
    MlflowRunGuard(),
    FailingNodeNote(),
    TypedParametersToMlflow(),
    DatasetLineage(),
    HandoverContracts(),
    DaskCluster(),
    # Last: its tryfirst wrapper runs before every other hook's (the pipelines read its parameters).
    GraphParameters(),
)
