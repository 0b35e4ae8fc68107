"""Project settings: config loading."""

from kedro.config import OmegaConfigLoader

CONFIG_LOADER_CLASS = OmegaConfigLoader
CONFIG_LOADER_ARGS = {
    "base_env": "base",
    "default_run_env": "local",
    # An environment overrides only the parameter keys it names (e.g. conf/test shrinks the world).
    "merge_strategy": {"parameters": "soft"},
}

from adrank_pipelines.hooks import TypedParametersToMlflow  # noqa: E402

HOOKS = (TypedParametersToMlflow(),)
