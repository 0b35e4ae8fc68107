"""Typed parameters of the LightGBM ranker, the hybrid, calibration and the test-day evaluation.

Kedro validates ``params:ctr_lightgbm.*`` and ``params:ctr_evaluation`` node inputs against these
models, so a misspelt key or an out-of-range value fails at start-up with its name in the message.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveInt

from adrank_pipelines.models.metrics import Binning

# numeric: the spec's numeric columns (context, past-only counts and smoothed CTRs);
# categorical: vocabulary / fixed columns up to ``max_categorical_cardinality`` values;
# ids: vocabulary columns above it (user, ad, ...); crosses: the hashed pair columns.
FeatureGroup = Literal["numeric", "categorical", "ids", "crosses"]
IdEncoding = Literal["categorical", "integer"]
HybridMethod = Literal["feature", "blend"]
CalibrationMethod = Literal["platt", "isotonic"]


class _StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _default_feature_groups() -> list[FeatureGroup]:
    return ["numeric", "categorical"]


class LightGBMParams(_StrictModel):
    """Boosting hyper-parameters and which feature groups of the feature spec the model sees."""

    num_leaves: int = Field(default=31, ge=2)
    learning_rate: float = Field(default=0.08, gt=0.0, le=1.0)
    n_estimators: PositiveInt = 600
    early_stopping_rounds: PositiveInt = 30
    min_child_samples: PositiveInt = 1000
    feature_fraction: float = Field(default=0.8, gt=0.0, le=1.0)
    bagging_fraction: float = Field(default=0.8, gt=0.0, le=1.0)
    bagging_freq: NonNegativeInt = 1  # 0 turns bagging off
    lambda_l2: NonNegativeFloat = 1.0
    max_bin: int = Field(default=255, ge=2)
    num_threads: PositiveInt = 2
    seed: int = 42
    feature_groups: list[FeatureGroup] = Field(default_factory=_default_feature_groups, min_length=1)
    # Vocabulary columns with more values than this form the "ids" group.
    max_categorical_cardinality: PositiveInt = 256
    # How the "ids" group enters the model: LightGBM categoricals or the plain index (the vocabulary
    # orders values by train frequency, so the index doubles as a popularity rank).
    id_encoding: IdEncoding = "integer"


class HybridParams(_StrictModel):
    """How the transformer's pCTR joins LightGBM: as one more feature, or a logit blend fitted on valid."""

    method: HybridMethod = "blend"


class CalibrationParams(_StrictModel):
    """Calibration fitted on the validation day: Platt scaling in logit space, or isotonic regression."""

    method: CalibrationMethod = "platt"


class CtrLightGBMParams(_StrictModel):
    """``params:ctr_lightgbm``."""

    model: LightGBMParams = Field(default_factory=LightGBMParams)
    hybrid: HybridParams = Field(default_factory=HybridParams)
    calibration: CalibrationParams = Field(default_factory=CalibrationParams)


class EvaluationParams(_StrictModel):
    """``params:ctr_evaluation``: binning of the calibration metrics and the reliability diagram."""

    n_bins: int = Field(default=20, ge=2)
    ece_binning: Binning = "equal_mass"
    baseline_name: str = "baseline"
    oracle_name: str = "oracle"
