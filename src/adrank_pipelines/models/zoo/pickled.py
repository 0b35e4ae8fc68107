"""Saving for zoo models whose trained form pickles (scikit-learn and LightGBM objects)."""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import TypeVar

from adrank_pipelines.models.zoo.interface import ParamsT, ZooModel

MODEL_FILE = "model.pkl"
PickledT = TypeVar("PickledT")


class PickledZooModel(ZooModel[ParamsT, PickledT]):
    """A zoo model stored as one pickle; only this project's own artifacts are ever loaded."""

    def save(self, model: PickledT, directory: Path) -> None:
        (directory / MODEL_FILE).write_bytes(pickle.dumps(model))

    def load(self, directory: Path) -> PickledT:
        model: PickledT = pickle.loads((directory / MODEL_FILE).read_bytes())
        return model
