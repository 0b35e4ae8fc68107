"""LightGBM pCTR model on the tabular model inputs, and its hybrid with the transformer's pCTR.

Columns come from the feature spec (a dict, as the features pipeline writes it), grouped so a
parameter picks which groups the model sees. Training early-stops on the validation day and is
deterministic for a given seed and thread count.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

from adrank_pipelines.models.calibration import Calibrator, fit_calibrator
from adrank_pipelines.models.metrics import logit
from adrank_pipelines.models.ranker_config import CtrLightGBMParams, FeatureGroup, HybridMethod, LightGBMParams

LABEL_COLUMN = "click"
TRANSFORMER_FEATURE = "transformer_logit"
# Early stopping watches the first metric; the second is logged for the record.
_VALID_METRICS = ["auc", "binary_logloss"]


@dataclass(frozen=True)
class FeatureSelection:
    """The model's input columns in order, and which of them LightGBM treats as categorical."""

    columns: tuple[str, ...]
    categorical: tuple[str, ...]

    def with_numeric(self, column: str) -> FeatureSelection:
        return FeatureSelection((*self.columns, column), self.categorical)


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


def train_lightgbm(
    train: pd.DataFrame, valid: pd.DataFrame, spec: Mapping[str, Any], params: LightGBMParams
) -> LightGBMRanker:
    """LightGBM on the feature groups of ``params`` (model-input frames, feature spec dict)."""
    return train_lightgbm_on_features(train, valid, select_features(spec, params), params)


def predict_lightgbm(ranker: LightGBMRanker, frame: pd.DataFrame) -> pd.DataFrame:
    """impression_id, pctr for every row of ``frame``, using the early-stopped number of trees."""
    pctr = ranker.booster.predict(frame[list(ranker.features.columns)], num_iteration=ranker.best_iteration)
    return pd.DataFrame({"impression_id": frame["impression_id"].to_numpy(), "pctr": np.asarray(pctr)})


@dataclass(frozen=True)
class HybridRanker:
    """LightGBM combined with the transformer's pCTR; its output is calibrated on the validation day.

    ``feature``: LightGBM with logit(transformer pCTR) as one more input, then ``calibrator``.
    ``blend``: an unpenalised logistic regression on [logit(LightGBM), logit(transformer)] fitted on
    the validation day: a logit-space weighted average whose intercept also calibrates it.
    """

    method: HybridMethod
    ranker: LightGBMRanker
    blend: LogisticRegression | None = None
    calibrator: Calibrator | None = None


def with_transformer_feature(frame: pd.DataFrame, transformer_pctr: pd.DataFrame) -> pd.DataFrame:
    """``frame`` plus the transformer's logit pCTR, joined on impression_id; every row must have one."""
    scores = transformer_pctr[["impression_id", "pctr"]].rename(columns={"pctr": TRANSFORMER_FEATURE})
    joined = frame.merge(scores, on="impression_id", how="left", validate="one_to_one")
    missing = int(joined[TRANSFORMER_FEATURE].isna().sum())
    if missing:
        raise ValueError(f"The transformer pCTR frame lacks {missing} of the {len(frame)} impressions to score.")
    return joined.assign(**{TRANSFORMER_FEATURE: logit(joined[TRANSFORMER_FEATURE].to_numpy())})


def _blend_inputs(ranker: LightGBMRanker, frame_with_transformer: pd.DataFrame) -> np.ndarray:
    lightgbm_logit = logit(predict_lightgbm(ranker, frame_with_transformer)["pctr"].to_numpy())
    return np.column_stack([lightgbm_logit, frame_with_transformer[TRANSFORMER_FEATURE].to_numpy()])


def train_hybrid(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    spec: Mapping[str, Any],
    transformer_train: pd.DataFrame,
    transformer_valid: pd.DataFrame,
    params: CtrLightGBMParams,
    lightgbm: LightGBMRanker | None = None,
) -> HybridRanker:
    """Fit the hybrid of ``params.hybrid.method``; ``blend`` reuses ``lightgbm`` when given.

    ``feature`` trains a new LightGBM on train rows whose transformer scores are in-sample (the
    transformer was fitted on those days), so it tends to over-trust them; ``blend`` only fits two
    weights and an intercept, on the validation day where both scores are out-of-sample.
    """
    valid_scored = with_transformer_feature(valid, transformer_valid)
    if params.hybrid.method == "blend":
        ranker = lightgbm or train_lightgbm(train, valid, spec, params.model)
        blend = LogisticRegression(C=np.inf).fit(
            _blend_inputs(ranker, valid_scored), valid_scored[LABEL_COLUMN].to_numpy()
        )
        return HybridRanker("blend", ranker, blend=blend)
    features = select_features(spec, params.model).with_numeric(TRANSFORMER_FEATURE)
    ranker = train_lightgbm_on_features(
        with_transformer_feature(train, transformer_train), valid_scored, features, params.model
    )
    raw_valid = predict_lightgbm(ranker, valid_scored)["pctr"].to_numpy()
    calibrator = fit_calibrator(valid_scored[LABEL_COLUMN].to_numpy(), raw_valid, params.calibration.method)
    return HybridRanker("feature", ranker, calibrator=calibrator)


def blended_pctr(hybrid: HybridRanker, lightgbm_pctr: np.ndarray, transformer_pctr: np.ndarray) -> np.ndarray:
    """A ``blend`` hybrid's pCTR from its LightGBM's and the transformer's raw pCTR of the same rows.

    For callers that already hold both scores (ranking scores millions of candidates with both
    models): the same result as :func:`predict_hybrid` without a second LightGBM pass.
    """
    if hybrid.blend is None:
        raise ValueError(f"a '{hybrid.method}' hybrid does not blend two scores; use predict_hybrid")
    return np.asarray(
        hybrid.blend.predict_proba(np.column_stack([logit(lightgbm_pctr), logit(transformer_pctr)]))[:, 1]
    )


def predict_hybrid(hybrid: HybridRanker, frame: pd.DataFrame, transformer_pctr: pd.DataFrame) -> pd.DataFrame:
    """impression_id, calibrated pctr of the hybrid for every row of ``frame``."""
    scored = with_transformer_feature(frame, transformer_pctr)
    if hybrid.blend is not None:
        pctr = hybrid.blend.predict_proba(_blend_inputs(hybrid.ranker, scored))[:, 1]
    else:
        assert hybrid.calibrator is not None  # a "feature" hybrid is always built with one
        pctr = hybrid.calibrator.transform(predict_lightgbm(hybrid.ranker, scored)["pctr"].to_numpy())
    return pd.DataFrame({"impression_id": scored["impression_id"].to_numpy(), "pctr": pctr})
