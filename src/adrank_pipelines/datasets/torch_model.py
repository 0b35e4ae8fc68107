"""A trained CTR model in the catalog: a directory with its constructor config and its weights.

``config.json`` rebuilds the module (:func:`model_from_config`), ``state_dict.pt`` fills its weights;
loading always lands on CPU. A save writes a sibling temporary directory and renames it into place,
so a failed save never leaves a half-written artifact where the catalog looks.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

import torch
from kedro.io import AbstractDataset, DatasetError

from adrank_pipelines.models.factory import CtrModel, model_from_config

CONFIG_FILE = "config.json"
WEIGHTS_FILE = "state_dict.pt"


class TorchModelDataset(AbstractDataset[CtrModel, CtrModel]):
    """``type: adrank_pipelines.datasets.torch_model.TorchModelDataset`` with a directory ``filepath``."""

    def __init__(self, filepath: str, metadata: dict[str, Any] | None = None) -> None:
        self._filepath = Path(filepath)
        self.metadata = metadata

    def _describe(self) -> dict[str, Any]:
        return {"filepath": str(PurePosixPath(self._filepath)), "format": f"{CONFIG_FILE} + {WEIGHTS_FILE}"}

    def _exists(self) -> bool:
        return (self._filepath / CONFIG_FILE).is_file() and (self._filepath / WEIGHTS_FILE).is_file()

    def load(self) -> CtrModel:
        if not self._exists():
            raise DatasetError(f"no saved model at {self._filepath}")
        config = json.loads((self._filepath / CONFIG_FILE).read_text(encoding="utf-8"))
        model = model_from_config(config)
        model.load_state_dict(torch.load(self._filepath / WEIGHTS_FILE, map_location="cpu", weights_only=True))
        return model.eval()

    def save(self, data: CtrModel) -> None:
        self._filepath.parent.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{self._filepath.name}.", dir=self._filepath.parent))
        try:
            (staging / CONFIG_FILE).write_text(json.dumps(data.constructor_config(), indent=1), encoding="utf-8")
            torch.save(
                {name: value.detach().cpu() for name, value in data.state_dict().items()}, staging / WEIGHTS_FILE
            )
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
