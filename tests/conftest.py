"""Shared fixtures: the project's parameters as the config loader merges them, and a tiny world."""

from __future__ import annotations

from pathlib import Path

import mlflow
import pytest
from kedro.config import OmegaConfigLoader

from adrank_pipelines.marketplace import MarketplaceConfig, MarketplaceTables, simulate_marketplace
from adrank_pipelines.settings import CONFIG_LOADER_ARGS

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def project_parameters(env: str) -> dict:
    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"),
        base_env=CONFIG_LOADER_ARGS["base_env"],
        default_run_env=env,
        merge_strategy=CONFIG_LOADER_ARGS["merge_strategy"],
    )
    return loader["parameters"]


@pytest.fixture(scope="session")
def test_world_config() -> MarketplaceConfig:
    return MarketplaceConfig.model_validate(project_parameters("test")["marketplace"])


@pytest.fixture(scope="session")
def test_world(test_world_config: MarketplaceConfig) -> MarketplaceTables:
    return simulate_marketplace(test_world_config, show_progress=False)


@pytest.fixture(autouse=True)
def no_mlflow_run_leaks_between_tests():
    """A KedroSession may leave its MLflow run active in this process; the next test must not inherit it."""
    yield
    while mlflow.active_run() is not None:
        mlflow.end_run()
