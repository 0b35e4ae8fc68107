"""The one interface every CTR model of the zoo implements, and the data handed to it.

A zoo model is a stateless object (one per folder, ``MODEL`` in its ``__init__``) that fits a trained
model on the model-input tables, scores frames with it, and saves / loads it. It declares what it reads
beyond the tabular model inputs (behaviour sequences, ad text) and which other models' scores it builds
on (the hybrid), so the pipelines wire its inputs from configuration without knowing its name.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Generic, TypeVar

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, PositiveInt

from adrank_pipelines.models.calibration import DEFAULT_MIN_COLD_START_CLICKS, CalibrationChoice


class ModelInput(StrEnum):
    """Tables a model reads beside the model-input rows and the feature spec."""

    SEQUENCES = "sequences"  # behaviour_sequences: one row of recent events per request
    TEXT = "text"  # ad_features + the cached embeddings of each ad's creative


class ZooParams(BaseModel):
    """What the pipelines read from every model's parameter block; each model adds its own fields."""

    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Post-hoc calibration fitted on the validation day and used by every stage that reads a calibrated
    # score; ``none`` for models calibrated by construction (a logistic regression, a fitted blend).
    calibration: CalibrationChoice = "platt"
    # platt_cold_start keeps plain Platt when the validation day's cold-start ads have fewer clicks.
    cold_start_min_clicks: PositiveInt = DEFAULT_MIN_COLD_START_CLICKS


@dataclass(frozen=True)
class SideTables:
    """What a model may read beside the rows it scores; None where it does not need the table."""

    sequences: pd.DataFrame | None = None
    ad_features: pd.DataFrame | None = None
    text_embeddings: pd.DataFrame | None = None


@dataclass(frozen=True)
class TrainingData:
    """The training and validation days, the feature spec, side tables and upstream models' raw pCTR.

    ``upstream_train`` / ``upstream_valid``: per upstream model, its pCTR of each row of ``train`` /
    ``valid``, in row order.
    """

    train: pd.DataFrame
    valid: pd.DataFrame
    spec: Mapping[str, Any]
    side: SideTables = SideTables()
    upstream_train: Mapping[str, np.ndarray] = field(default_factory=dict)
    upstream_valid: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class ModelScores:
    """pCTR of each scored row in order, and pCVR = P(conversion | click) where the model has a head for it."""

    pctr: np.ndarray
    pcvr: np.ndarray | None = None


@dataclass(frozen=True)
class TrainedModel:
    """A trained model with the name of the zoo model that made it (which alone scores, saves and loads it)."""

    zoo: str
    model: Any


@dataclass(frozen=True)
class FittedModel:
    """A trained model and a JSON-ready summary of its fit (epochs, trees, validation figures)."""

    model: Any
    summary: dict[str, Any]


ParamsT = TypeVar("ParamsT", bound=ZooParams)
TrainedT = TypeVar("TrainedT")


class ZooModel(ABC, Generic[ParamsT, TrainedT]):
    """One CTR model of the zoo: its name in configuration, its parameters, what it reads, fit / predict / save / load."""

    name: str
    params_type: type[ParamsT]
    inputs: frozenset[ModelInput] = frozenset()
    predicts_pcvr: bool = False

    def upstream(self, params: ParamsT) -> tuple[str, ...]:
        """Names of the models whose raw pCTR this one reads (it is trained and scored after them)."""
        return ()

    def reads(self, model: TrainedT) -> tuple[str, ...]:
        """Names of the models whose raw pCTR a trained ``model`` reads when it scores."""
        return ()

    @abstractmethod
    def fit(self, data: TrainingData, params: ParamsT) -> FittedModel: ...

    @abstractmethod
    def predict(
        self, model: TrainedT, frame: pd.DataFrame, side: SideTables, upstream: Mapping[str, np.ndarray]
    ) -> ModelScores:
        """Scores of every row of ``frame`` (model-input columns; labels ignored); ``upstream`` as in TrainingData."""

    @abstractmethod
    def save(self, model: TrainedT, directory: Path) -> None:
        """Write ``model`` into ``directory`` (which exists and is empty)."""

    @abstractmethod
    def load(self, directory: Path) -> TrainedT: ...

    def limit_threads(self, model: TrainedT, num_threads: int) -> None:
        """Score with at most ``num_threads`` threads from now on. A model whose library keeps its thread count
        in the model (LightGBM saves the training's) must override this; torch's count is process-wide."""

    def side_tables(self, side: SideTables) -> SideTables:
        """Only the side tables this model reads: the others are dropped so it never depends on them by accident."""
        return SideTables(
            sequences=side.sequences if ModelInput.SEQUENCES in self.inputs else None,
            ad_features=side.ad_features if ModelInput.TEXT in self.inputs else None,
            text_embeddings=side.text_embeddings if ModelInput.TEXT in self.inputs else None,
        )
