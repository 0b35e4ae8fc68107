"""LightGBM pCTR model on the tabular model inputs.

Columns come from the feature spec (a dict, as the features pipeline writes it), grouped so a
parameter picks which groups the model sees. Training early-stops on the validation day and is
deterministic for a given seed and thread count.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import lightgbm as lgb
import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveInt

from adrank_pipelines.columns import column_matrix

LABEL_COLUMN = "click"
# numeric: the spec's numeric columns (context, past-only counts and smoothed CTRs);
# categorical: vocabulary / fixed columns up to ``max_categorical_cardinality`` values;
# ids: vocabulary columns above it (user, ad, ...); crosses: the hashed pair columns.
FeatureGroup = Literal["numeric", "categorical", "ids", "crosses"]
IdEncoding = Literal["categorical", "integer"]
# local: lgb.train in this process; dask: lightgbm.dask on the run's Dask cluster (--env dask).
Engine = Literal["local", "dask"]


def _default_feature_groups() -> list[FeatureGroup]:
    return ["numeric", "categorical"]


class LightGBMParams(BaseModel):
    """Boosting hyper-parameters and which feature groups of the feature spec the model sees."""

    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)

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
    engine: Engine = "local"


# Early stopping watches the first metric; the second is logged for the record.
_VALID_METRICS = ["auc", "binary_logloss"]


@dataclass(frozen=True)
class FeatureSelection:
    """The model's input columns in order, and which of them LightGBM treats as categorical."""

    columns: tuple[str, ...]
    categorical: tuple[str, ...]

    def with_numeric(self, columns: tuple[str, ...]) -> FeatureSelection:
        return FeatureSelection((*self.columns, *columns), self.categorical)


@dataclass(frozen=True)
class LightGBMRanker:
    booster: lgb.Booster
    features: FeatureSelection
    best_iteration: int
    valid_auc: float
    training_seconds: float


def feature_groups(spec: Mapping[str, Any], max_categorical_cardinality: int) -> dict[FeatureGroup, list[str]]:
    """Split the spec's feature columns into the groups a parameter can switch on."""
    categorical: dict[str, dict[str, Any]] = spec["categorical"]
    return {
        "numeric": list(spec["numeric"]),
        "categorical": [
            name
            for name, column in categorical.items()
            if column["kind"] != "hash" and column["size"] <= max_categorical_cardinality
        ],
        "ids": [
            name
            for name, column in categorical.items()
            if column["kind"] != "hash" and column["size"] > max_categorical_cardinality
        ],
        "crosses": [name for name, column in categorical.items() if column["kind"] == "hash"],
    }


def select_features(spec: Mapping[str, Any], params: LightGBMParams) -> FeatureSelection:
    """The columns of the chosen groups; ids are categorical only when ``id_encoding`` says so.

    Hashed crosses always enter as plain integers: with ~10^5 buckets, LightGBM's categorical
    splits would mostly memorise bucket noise (and slow training).
    """
    groups = feature_groups(spec, params.max_categorical_cardinality)
    columns = [name for group in params.feature_groups for name in groups[group]]
    categorical_groups: set[FeatureGroup] = {"categorical"}
    if params.id_encoding == "categorical":
        categorical_groups.add("ids")
    categorical = [name for group in params.feature_groups if group in categorical_groups for name in groups[group]]
    return FeatureSelection(tuple(columns), tuple(categorical))


def _booster_params(params: LightGBMParams) -> dict[str, Any]:
    return {
        "objective": "binary",
        "metric": _VALID_METRICS,
        "first_metric_only": True,
        "num_leaves": params.num_leaves,
        "learning_rate": params.learning_rate,
        "min_child_samples": params.min_child_samples,
        "feature_fraction": params.feature_fraction,
        "bagging_fraction": params.bagging_fraction,
        "bagging_freq": params.bagging_freq,
        "lambda_l2": params.lambda_l2,
        "max_bin": params.max_bin,
        "num_threads": params.num_threads,
        "seed": params.seed,
        # Same seed and thread count give the same trees: fixed histogram layout, no racy reductions.
        "deterministic": True,
        "force_row_wise": True,
        "verbosity": -1,
    }


def _dataset(frame: pd.DataFrame, features: FeatureSelection, reference: lgb.Dataset | None = None) -> lgb.Dataset:
    return lgb.Dataset(
        frame[list(features.columns)],
        label=frame[LABEL_COLUMN].to_numpy(),
        categorical_feature=list(features.categorical),
        reference=reference,
        free_raw_data=True,
    )


def train_lightgbm_on_features(
    train: pd.DataFrame, valid: pd.DataFrame, features: FeatureSelection, params: LightGBMParams
) -> LightGBMRanker:
    """Train on ``train`` and early-stop on ``valid`` (both hold ``features.columns`` and ``click``)."""
    if params.engine == "dask":
        return _train_on_dask(train, valid, features, params)
    started = time.perf_counter()
    train_set = _dataset(train, features)
    valid_set = _dataset(valid, features, reference=train_set)
    booster = lgb.train(
        _booster_params(params),
        train_set,
        num_boost_round=params.n_estimators,
        valid_sets=[valid_set],
        valid_names=["valid"],
        callbacks=[lgb.early_stopping(params.early_stopping_rounds, first_metric_only=True, verbose=False)],
    )
    return LightGBMRanker(
        booster=booster,
        features=features,
        best_iteration=booster.best_iteration,
        valid_auc=float(booster.best_score["valid"]["auc"]),
        training_seconds=time.perf_counter() - started,
    )


def _train_on_dask(
    train: pd.DataFrame, valid: pd.DataFrame, features: FeatureSelection, params: LightGBMParams
) -> LightGBMRanker:
    # Imported here: Dask is an optional extra, needed only by this engine.
    from adrank_pipelines.models.zoo.lightgbm.distributed import dask_booster, early_stopped_iteration

    started = time.perf_counter()
    booster_params = {**_booster_params(params), "n_estimators": params.n_estimators}
    booster = dask_booster(train, features.columns, features.categorical, LABEL_COLUMN, booster_params)
    best_iteration, valid_auc = early_stopped_iteration(
        booster, valid, features.columns, LABEL_COLUMN, params.early_stopping_rounds
    )
    return LightGBMRanker(
        booster=booster,
        features=features,
        best_iteration=best_iteration,
        valid_auc=valid_auc,
        training_seconds=time.perf_counter() - started,
    )


def train_lightgbm(
    train: pd.DataFrame, valid: pd.DataFrame, spec: Mapping[str, Any], params: LightGBMParams
) -> LightGBMRanker:
    """LightGBM on the feature groups of ``params`` (model-input frames, feature spec dict)."""
    return train_lightgbm_on_features(train, valid, select_features(spec, params), params)


def predict_lightgbm(ranker: LightGBMRanker, frame: pd.DataFrame) -> pd.DataFrame:
    """impression_id, pctr for every row of ``frame``, using the early-stopped number of trees."""
    # LightGBM predicts with the threads passed here (OpenMP's default otherwise), not the booster's own
    # parameters: pass them, so the configured num_threads (or a service's limit_threads) holds.
    threads = int(ranker.booster.params.get("num_threads", 0))
    # The features as one float64 matrix, the dtype LightGBM converts a frame of int32 / float32 columns to.
    features = column_matrix(frame, ranker.features.columns, np.float64)
    pctr = ranker.booster.predict(features, num_iteration=ranker.best_iteration, num_threads=threads)
    return pd.DataFrame({"impression_id": frame["impression_id"].to_numpy(), "pctr": np.asarray(pctr)})
