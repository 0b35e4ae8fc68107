"""A trained model as an MLflow Model Registry entry: saving registers a new version, loading resolves an alias.

A save writes the model (as ``ZooModelDataset`` does) and the calibrator fitted with it into a new, uniquely
named version folder under ``filepath``, registers that folder as a version of ``name`` with its metrics and
lineage (plus the MLflow run and git commit it came from), then moves aliases by the ``promote`` policy.
A version folder is never written again. A save that fails at any step removes its folder and its
registry version, so nothing half-made is left or served. A load returns the version ``alias`` points at.

``registry.filepath`` is the SQLite store (Kedro resolves it against the project folder like any path, so
the service and ``kedro run`` open the same store whatever their working directory).
"""

from __future__ import annotations

import json
import os
import pickle
import shutil
import subprocess
import tempfile
import uuid
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import Any

import mlflow
from kedro.io import AbstractDataset, DatasetError

from adrank_pipelines.datasets.zoo_model import ZooModelDataset
from adrank_pipelines.lifecycle.registry import (
    CHAMPION,
    RegistryLookupError,
    delete_version,
    held_aliases,
    register_version,
    resolve_alias,
    set_alias,
)
from adrank_pipelines.lifecycle.release import (
    PROMOTION_POLICIES,
    ModelRelease,
    PromotionPolicy,
    aliases_for_new_version,
)

MODEL_FOLDER, CALIBRATOR_FILE, RELEASE_FILE = "model", "calibrator.pkl", "release.json"


def _git_commit() -> str | None:
    """The checked-out commit of the working directory's repository; None outside one (an installed project)."""
    try:
        done = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return None
    return (done.stdout.strip() or None) if done.returncode == 0 else None


def _run_lineage() -> dict[str, str]:
    run = mlflow.active_run()
    found = {"mlflow_run_id": run.info.run_id if run is not None else None, "git_commit": _git_commit()}
    return {key: value for key, value in found.items() if value}


class RegisteredModelDataset(AbstractDataset[ModelRelease, ModelRelease]):
    """``type: adrank_pipelines.datasets.registered_model.RegisteredModelDataset``.

    ``name``: the registered model; ``filepath``: the folder of its version folders; ``registry``:
    ``{filepath: <SQLite store>}``; ``alias``: what a load resolves; ``promote``: ``always`` or ``if_no_champion``.
    """

    def __init__(
        self,
        name: str,
        filepath: str,
        registry: dict[str, str],
        alias: str = CHAMPION,
        promote: PromotionPolicy = "always",
        metadata: dict[str, Any] | None = None,
    ) -> None:
        if promote not in PROMOTION_POLICIES:
            raise DatasetError(f"registered model '{name}': promote is '{promote}', not one of {PROMOTION_POLICIES}")
        if set(registry) != {"filepath"}:
            raise DatasetError(f"registered model '{name}': registry takes exactly one key, filepath (the store)")
        self._name = name
        self._versions = Path(filepath)
        self._uri = f"sqlite:///{Path(registry['filepath']).resolve()}"
        self._alias = alias
        self._promote: PromotionPolicy = promote
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        # No "filepath" key on purpose: the lineage hook would set the whole folder of versions aside before a
        # save; a version's lineage is in its registry tags, and a version folder never changes.
        return {
            "registered_model": self._name,
            "versions": str(PurePosixPath(self._versions)),
            "alias": self._alias,
            "promote": self._promote,
            "registry": self._uri,
        }

    def _exists(self) -> bool:
        try:
            resolve_alias(self._uri, self._name, self._alias)
        except RegistryLookupError:
            return False
        return True

    def load(self) -> ModelRelease:
        try:
            version = resolve_alias(self._uri, self._name, self._alias)
        except RegistryLookupError as error:
            raise DatasetError(
                f"{error} in the registry {self._uri}: register a version with `kedro run --pipeline ctr_training`"
                f", or point alias '{self._alias}' at a version"
            ) from error
        folder = Path(version.source)
        if not (folder / CALIBRATOR_FILE).is_file():
            raise DatasetError(
                f"version {version.version} of registered model '{self._name}' ('{self._alias}') points at "
                f"{folder}, which holds no {CALIBRATOR_FILE}: its folder was moved or deleted"
            )
        with (folder / CALIBRATOR_FILE).open("rb") as file:
            calibrator = pickle.load(file)
        return ModelRelease(
            trained=ZooModelDataset(str(folder / MODEL_FOLDER)).load(),
            calibrator=calibrator,
            metrics=version.metrics(),
            lineage=version.lineage(),
            version=version.version,
        )

    def save(self, data: ModelRelease) -> None:
        lineage = {**data.lineage, **_run_lineage()}
        folder = self._write_version_folder(data, lineage)
        registered: int | None = None
        try:
            aliases = aliases_for_new_version(self._promote, held_aliases(self._uri, self._name))
            registered = register_version(self._uri, self._name, folder, data.metrics, lineage).version
            for alias in aliases:
                set_alias(self._uri, self._name, alias, registered)
        except BaseException:
            if registered is not None:
                delete_version(self._uri, self._name, registered)
            shutil.rmtree(folder, ignore_errors=True)
            raise

    def _write_version_folder(self, data: ModelRelease, lineage: dict[str, str]) -> Path:
        """A new folder holding the model, its calibrator and a readable copy of the metrics and lineage."""
        self._versions.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=self._versions))
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        folder = self._versions / f"{stamp}-{uuid.uuid4().hex[:8]}"
        try:
            ZooModelDataset(str(staging / MODEL_FOLDER)).save(data.trained)
            with (staging / CALIBRATOR_FILE).open("wb") as file:
                pickle.dump(data.calibrator, file)
            release = {"registered_model": self._name, "metrics": dict(data.metrics), "lineage": lineage}
            (staging / RELEASE_FILE).write_text(json.dumps(release, indent=2, sort_keys=True), encoding="utf-8")
            os.rename(staging, folder)  # a fresh name: an existing version folder is never replaced
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        return folder
