"""Build the service for one project and environment: the app factory ``uvicorn`` (or ``kedro serve``) starts.

The project folder and environment come from ``ADRANK_PROJECT_PATH`` (default: the working
directory) and ``ADRANK_ENV`` (default: Kedro's default run environment), so that every worker
process ``uvicorn --workers N`` starts builds the same service.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI

from adrank_pipelines.serving.api import create_app
from adrank_pipelines.serving.artifacts import load_artifacts, load_entry
from adrank_pipelines.serving.engine import AdEngine
from adrank_pipelines.serving.history import logged_histories
from adrank_pipelines.serving.project import ProjectConfig, load_project
from adrank_pipelines.serving.state import OnlineState, open_state
from adrank_pipelines.serving.user_profiles import UserProfileStore

PROJECT_PATH_ENV, ENV_ENV = "ADRANK_PROJECT_PATH", "ADRANK_ENV"
logger = logging.getLogger("adrank_pipelines.serving")


def seed_profiles(project: ProjectConfig, profiles: UserProfileStore) -> int:
    """Record each known user's logged history before the statistics snapshot; the number of users."""
    artifacts_snapshot = load_entry(project.catalog, "statistics_snapshots")
    as_of = artifacts_snapshot[max(artifacts_snapshot)].as_of
    recipe = load_entry(project.catalog, "feature_recipe")["sequences"]
    histories = logged_histories(
        load_entry(project.catalog, "impressions_enriched"),
        load_entry(project.catalog, "validated_user_events"),
        as_of,
        recipe["sequence_length"],
        recipe["browse_length"],
    )
    profiles.record_histories(histories)
    return len(histories)


def _open_state(project: ProjectConfig, project_path: Path) -> OnlineState:
    """The online state, a relative ledger path taken from the project folder (not the working directory)."""
    params = project.serving.state
    ledger = Path(params.budget_path)
    if not ledger.is_absolute():
        params = params.model_copy(update={"budget_path": str(project_path / ledger)})
    return open_state(params)


def prepare_workers(project_path: str | Path, env: str | None, workers: int, seed: bool) -> int:
    """Check that ``workers`` processes can share the configured state and, with ``seed``, record the known
    users' history in Redis once before they start; the number of users seeded."""
    project = load_project(Path(project_path), env)
    backend = project.serving.state.backend
    if backend == "embedded" and workers > 1:
        raise ValueError("serving.state.backend: embedded keeps profiles in one process; use redis for several workers")
    if not seed:
        return 0
    if backend != "redis":
        raise ValueError("--seed-profiles is for serving.state.backend: redis (the embedded store seeds itself)")
    with _open_state(project, Path(project_path)) as state:
        return seed_profiles(project, state.profiles)


def engine_factory(
    load: Callable[[], ProjectConfig], state: OnlineState, seed: bool | None = None
) -> Callable[[], AdEngine]:
    """What the app calls at start-up and on each reload: the project's configuration read again (``load``),
    its artifacts loaded, an engine over the shared ``state``. The first call seeds the embedded profile
    store from the logged history (``seed`` None: as ``serving.seed_profiles_from_history`` says)."""
    first_load = threading.Event()

    def factory() -> AdEngine:
        project = load()
        artifacts = load_artifacts(project.catalog, project.parameters, project.serving)
        seeds = project.serving.seed_profiles_from_history if seed is None else seed
        if seeds and project.serving.state.backend == "embedded" and not first_load.is_set():
            logger.info("profiles seeded for %d users", seed_profiles(project, state.profiles))
        first_load.set()
        return AdEngine(artifacts, project.serving, state)

    return factory


def build_app(project_path: Path, env: str | None) -> FastAPI:
    state = _open_state(load_project(project_path, env), project_path)
    return create_app(engine_factory(lambda: load_project(project_path, env), state), state)


def app_from_environment() -> FastAPI:
    """The uvicorn factory: ``uvicorn --factory adrank_pipelines.serving.main:app_from_environment``."""
    project_path = Path(os.environ.get(PROJECT_PATH_ENV, os.getcwd())).resolve()
    return build_app(project_path, os.environ.get(ENV_ENV) or None)
