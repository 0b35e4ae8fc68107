"""The MLflow Model Registry of the trained CTR models: versions with their metrics and lineage, and aliases.

A version points at the model's artifact as the catalog saved it (a directory or a file); its offline metrics
and lineage are version tags (``metric.<name>``, ``lineage.<key>``), so resolving an alias gives everything a
gate or a loader needs. The ``champion`` serves; the ``challenger`` is the version under evaluation. The URI is
the caller's (the project's store is ``sqlite:///mlflow.db``); nothing here holds state between calls.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

from adrank_pipelines.mlflow_store import create_store_atomically, sqlite_store_path, store_lock

CHAMPION = "champion"
CHALLENGER = "challenger"
METRIC_PREFIX = "metric."
LINEAGE_PREFIX = "lineage."


class RegistryLookupError(LookupError):
    """A registered model or an alias the registry does not hold."""


@dataclass(frozen=True)
class ModelVersion:
    name: str
    version: int
    source: str
    tags: Mapping[str, str]
    aliases: tuple[str, ...]

    def metrics(self) -> dict[str, float]:
        """The offline metrics it was registered with (``nan`` stays NaN, for a gate to refuse)."""
        return {
            key.removeprefix(METRIC_PREFIX): float(v) for key, v in self.tags.items() if key.startswith(METRIC_PREFIX)
        }

    def lineage(self) -> dict[str, str]:
        return {key.removeprefix(LINEAGE_PREFIX): v for key, v in self.tags.items() if key.startswith(LINEAGE_PREFIX)}


def _client(uri: str) -> Any:
    # Two runs opening a fresh SQLite store at once would both migrate it; the project's lock serialises that.
    database = sqlite_store_path(uri)
    with store_lock(database):
        create_store_atomically(database)
    return MlflowClient(tracking_uri=uri, registry_uri=uri)


def _version(entity: Any) -> ModelVersion:
    return ModelVersion(
        name=str(entity.name),
        version=int(entity.version),
        source=str(entity.source),
        tags={str(key): str(value) for key, value in entity.tags.items()},
        aliases=tuple(str(alias) for alias in entity.aliases),
    )


def _version_tags(metrics: Mapping[str, float], lineage: Mapping[str, str]) -> dict[str, str]:
    not_numbers = [name for name, value in metrics.items() if not isinstance(value, int | float)]
    if not_numbers:
        raise TypeError(f"metrics must be numbers: {', '.join(not_numbers)}")
    # repr round-trips a float exactly, so a gate reads back the very number that was measured.
    return {
        **{f"{METRIC_PREFIX}{name}": repr(float(value)) for name, value in metrics.items()},
        **{f"{LINEAGE_PREFIX}{key}": str(value) for key, value in lineage.items()},
    }


def register_version(
    uri: str, name: str, artifact_path: Path, metrics: Mapping[str, float], lineage: Mapping[str, str]
) -> ModelVersion:
    """A new version of the registered model ``name`` (created on first use) for the saved ``artifact_path``."""
    if not artifact_path.exists():
        raise FileNotFoundError(f"artifact_path {artifact_path} does not exist: register the model as it was saved")
    tags = _version_tags(metrics, lineage)
    client = _client(uri)
    try:
        client.create_registered_model(name)
    except MlflowException as error:
        if error.error_code != "RESOURCE_ALREADY_EXISTS":
            raise
    return _version(client.create_model_version(name, source=str(artifact_path.resolve()), tags=tags))


def _aliases(client: Any, name: str) -> dict[str, int]:
    try:
        registered = client.get_registered_model(name)
    except MlflowException as error:
        if error.error_code == "RESOURCE_DOES_NOT_EXIST":
            raise RegistryLookupError(f"no registered model '{name}'") from error
        raise
    return {str(alias): int(version) for alias, version in registered.aliases.items()}


def held_aliases(uri: str, name: str) -> dict[str, int]:
    """The aliases of ``name`` and their versions; none for a model not registered yet."""
    try:
        return _aliases(_client(uri), name)
    except RegistryLookupError:
        return {}


def delete_version(uri: str, name: str, version: int) -> None:
    """Remove ``version`` of ``name`` (with any alias on it): undoes a registration whose follow-up failed."""
    _client(uri).delete_model_version(name, str(version))


def set_alias(uri: str, name: str, alias: str, version: int) -> None:
    """Point ``alias`` of ``name`` at ``version`` (moving it off any other version)."""
    client = _client(uri)
    _aliases(client, name)
    client.set_registered_model_alias(name, alias, str(version))


def remove_alias(uri: str, name: str, alias: str) -> None:
    """Drop ``alias`` of ``name``; an error naming it when it is not set."""
    client = _client(uri)
    if alias not in _aliases(client, name):
        raise RegistryLookupError(f"registered model '{name}' has no alias '{alias}'")
    client.delete_registered_model_alias(name, alias)


def resolve_alias(uri: str, name: str, alias: str) -> ModelVersion:
    """The version ``alias`` of ``name`` points at, with its source and tags."""
    client = _client(uri)
    aliases = _aliases(client, name)
    if alias not in aliases:
        held = ", ".join(sorted(aliases)) or "none"
        raise RegistryLookupError(f"registered model '{name}' has no alias '{alias}' (aliases: {held})")
    return _version(client.get_model_version(name, str(aliases[alias])))


def promote_challenger(uri: str, name: str) -> ModelVersion:
    """The challenger becomes the champion: ``champion`` moves to its version and ``challenger`` is dropped."""
    challenger = resolve_alias(uri, name, CHALLENGER)
    set_alias(uri, name, CHAMPION, challenger.version)
    remove_alias(uri, name, CHALLENGER)
    return resolve_alias(uri, name, CHAMPION)
