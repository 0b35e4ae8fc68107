"""One Dask client per run of ``--env dask``: started before the pipeline runs, closed when it ends or fails.

``dask.scheduler_address`` empty starts a LocalCluster sized to this machine; an address connects to an
existing cluster (which is left running). Dask's default scheduler then is the client, so the features
stage's partitioned nodes and lightgbm.dask run on it without a handle being passed around.
"""

from __future__ import annotations

import logging
from typing import Any

from kedro.config import MissingConfigException
from kedro.framework.context import KedroContext
from kedro.framework.hooks import hook_impl
from pydantic import BaseModel, ConfigDict, Field, PositiveInt, ValidationError

from adrank_pipelines.run_checks import InvalidParameterError
from adrank_pipelines.schemas.parameter_errors import describe_validation_error

logger = logging.getLogger(__name__)


class DaskSettings(BaseModel):
    """``params:dask``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    scheduler_address: str = ""
    n_workers: PositiveInt | None = None
    threads_per_worker: PositiveInt | None = Field(default=1)
    processes: bool = True
    memory_limit: str = "auto"


class DaskCluster:
    """Starts the run's Dask client when ``dask.enabled`` and closes it (and its LocalCluster) at the end."""

    def __init__(self) -> None:
        self._settings = DaskSettings()
        self._client: Any = None
        self._config: Any = None

    @hook_impl
    def after_context_created(self, context: KedroContext) -> None:
        try:
            block = context.config_loader["parameters"].get("dask") or {}
        except MissingConfigException:
            return  # an unknown --env: the start-up checks name it
        try:
            self._settings = DaskSettings.model_validate(block)
        except ValidationError as error:
            lines = "\n".join(f"  {line}" for line in describe_validation_error("dask", DaskSettings, error))
            raise InvalidParameterError(f"invalid Dask settings:\n{lines}") from None

    @hook_impl
    def before_pipeline_run(self) -> None:
        if not self._settings.enabled:
            return
        # Imported here: Dask is an optional extra, and a run without it never needs it.
        try:
            import dask
            from distributed import Client, LocalCluster
        except ImportError as error:
            raise ImportError(
                'dask.enabled is true but Dask is not installed: pip install -e ".[dask]" (see README, --env dask)'
            ) from error

        settings = self._settings
        # Frames read back from Parquet keep pandas' own string dtype, as on the in-memory path.
        self._config = dask.config.set({"dataframe.convert-string": False})
        if settings.scheduler_address:
            self._client = Client(settings.scheduler_address)
        else:
            cluster = LocalCluster(
                n_workers=settings.n_workers,
                threads_per_worker=settings.threads_per_worker,
                processes=settings.processes,
                memory_limit=settings.memory_limit,
                dashboard_address=None,
            )
            self._client = Client(cluster)
        logger.info("Dask client on %s", self._client.scheduler.address)

    @hook_impl
    def after_pipeline_run(self) -> None:
        self._close()

    @hook_impl
    def on_pipeline_error(self) -> None:
        self._close()

    def _close(self) -> None:
        if self._config is not None:
            self._config.__exit__(None, None, None)
            self._config = None
        if self._client is None:
            return
        cluster = None if self._settings.scheduler_address else self._client.cluster
        self._client.close()
        if cluster is not None:
            cluster.close()
        self._client = None
