"""A trained zoo model in the catalog: a directory naming its zoo model, with what that model saves.

``zoo.json`` names the zoo model that wrote the directory, which alone knows how to read the rest; loading
always lands on CPU. A save writes a sibling temporary directory and renames it into place, so a failed
save never leaves a half-written artifact where the catalog looks.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from kedro.io import AbstractDataset, DatasetError

from adrank_pipelines.models.zoo import zoo_model
from adrank_pipelines.models.zoo.interface import TrainedModel

ZOO_FILE = "zoo.json"


class ZooModelDataset(AbstractDataset[TrainedModel, TrainedModel]):
    """``type: adrank_pipelines.datasets.zoo_model.ZooModelDataset`` with a directory ``filepath``."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(PurePosixPath(self._filepath)), "format": f"{ZOO_FILE} + the zoo model's files"}

    def _exists(self) -> bool:
        return (self._filepath / ZOO_FILE).is_file()

    def load(self) -> TrainedModel:
        if not self._exists():
            raise DatasetError(f"no saved model at {self._filepath}")
        name = json.loads((self._filepath / ZOO_FILE).read_text(encoding="utf-8"))["model"]
        return TrainedModel(name, zoo_model(name).load(self._filepath))

    def save(self, data: TrainedModel) -> None:
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{self._filepath.name}.", dir=self._filepath.parent))
        try:
            zoo_model(data.zoo).save(data.model, staging)
            (staging / ZOO_FILE).write_text(json.dumps({"model": data.zoo}), encoding="utf-8")
            self._replace_with(staging)
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise

    def _replace_with(self, staging: Path) -> None:
        """Swap ``staging`` in; an earlier artifact is moved aside first and removed only afterwards."""
        previous = None
        if self._filepath.exists():
            previous = self._filepath.with_name(f".{self._filepath.name}.previous")
            shutil.rmtree(previous, ignore_errors=True)
            os.replace(self._filepath, previous)
        try:
            os.replace(staging, self._filepath)
        except OSError:
            if previous is not None:
                os.replace(previous, self._filepath)
            raise
        if previous is not None:
            shutil.rmtree(previous, ignore_errors=True)
