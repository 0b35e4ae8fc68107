"""Node functions of the per-model training template: fit, predict, calibrate, any zoo model.

Each factory returns a function typed with the model's own parameter class, so Kedro validates
``params:ctr_models.<name>`` against it at start-up. Tables beyond the model inputs arrive as keyword
arguments: the side tables the model reads and, prefixed ``upstream__``, the predictions of the models
it builds on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from adrank_pipelines.lifecycle.release import ModelRelease, training_window, validation_metrics
from adrank_pipelines.models.calibration import (
    COLD_START_COLUMN,
    Calibrator,
    calibrated_pctr,
    fit_calibrator_on_frame,
)
from adrank_pipelines.models.config import TextEncoderParams
from adrank_pipelines.models.text_encoder import ad_text_embeddings
from adrank_pipelines.models.zoo.interface import SideTables, TrainedModel, TrainingData, ZooModel, ZooParams

logger = logging.getLogger(__name__)

SPLITS = ("train", "valid", "test", "drift")
UPSTREAM_PREFIX = "upstream__"
CALIBRATED_SUFFIX = "_calibrated"
CALIBRATOR_SUFFIX = "__calibrator"
Function = TypeVar("Function", bound=Callable[..., Any])


def _node_function(function: Function, model: ZooModel[Any, Any], verb: str, typed_params: bool = False) -> Function:
    """``function`` named after the model (Kedro shows it), its ``params`` typed with the model's class."""
    function.__name__ = function.__qualname__ = f"{verb}_{model.name}"
    if typed_params:
        function.__annotations__ = {**function.__annotations__, "params": model.params_type}
    return function


def rows_of_split(predictions: pd.DataFrame, split: str) -> pd.DataFrame:
    return predictions.loc[predictions["split"] == split].drop(columns="split").reset_index(drop=True)


def _aligned_pctr(predictions: pd.DataFrame, name: str, split: str, frame: pd.DataFrame) -> np.ndarray:
    """``name``'s pCTR of each row of ``frame`` (its ``split`` rows), in ``frame``'s order."""
    scores = rows_of_split(predictions, split)[["impression_id", "pctr"]]
    aligned = frame[["impression_id"]].merge(scores, on="impression_id", how="left", validate="one_to_one")
    missing = int(aligned["pctr"].isna().sum())
    if missing:
        raise ValueError(f"dataset '{name}.predictions' lacks {missing} of the {len(frame)} '{split}' impressions")
    return aligned["pctr"].to_numpy()


def _upstream(tables: Mapping[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    return {
        key.removeprefix(UPSTREAM_PREFIX): frame for key, frame in tables.items() if key.startswith(UPSTREAM_PREFIX)
    }


def _side(model: ZooModel[Any, Any], tables: Mapping[str, pd.DataFrame]) -> SideTables:
    side = SideTables(tables.get("sequences"), tables.get("ad_features"), tables.get("text_embeddings"))
    return model.side_tables(side)


def encode_ad_creatives(ad_features: pd.DataFrame, params: TextEncoderParams) -> pd.DataFrame:
    embeddings = ad_text_embeddings(ad_features, params)
    logger.info("encoded %d ad creatives into %d-d text embeddings", len(embeddings), embeddings.shape[1] - 1)
    return embeddings


def fit_function(model: ZooModel[Any, Any]) -> Callable[..., tuple[TrainedModel, dict[str, Any]]]:
    def fit(
        train: pd.DataFrame, valid: pd.DataFrame, spec: dict[str, Any], params: ZooParams, **tables: pd.DataFrame
    ) -> tuple[TrainedModel, dict[str, Any]]:
        upstream = _upstream(tables)
        data = TrainingData(
            train=train,
            valid=valid,
            spec=spec,
            side=_side(model, tables),
            upstream_train={name: _aligned_pctr(frame, name, "train", train) for name, frame in upstream.items()},
            upstream_valid={name: _aligned_pctr(frame, name, "valid", valid) for name, frame in upstream.items()},
        )
        fitted = model.fit(data, params)
        logger.info("%s: trained on %d rows; %s", model.name, len(train), _summary_line(fitted.summary))
        return TrainedModel(model.name, fitted.model), fitted.summary

    return _node_function(fit, model, "fit", typed_params=True)


def _summary_line(summary: Mapping[str, Any]) -> str:
    scalars = {key: value for key, value in summary.items() if isinstance(value, int | float | str)}
    return ", ".join(
        f"{key} {value:.4g}" if isinstance(value, float) else f"{key} {value}" for key, value in scalars.items()
    )


def predict_function(model: ZooModel[Any, Any]) -> Callable[..., pd.DataFrame]:
    def predict(trained: TrainedModel, **tables: pd.DataFrame) -> pd.DataFrame:
        """impression_id, split, pctr (and pcvr where the model has a head for it) of every split it is given."""
        if trained.zoo != model.name:
            raise ValueError(f"dataset '{model.name}.trained_model' holds a '{trained.zoo}' model")
        upstream, side = _upstream(tables), _side(model, tables)
        frames = []
        for split in SPLITS:
            frame = tables.get(split)
            if frame is None or frame.empty:
                continue
            scores = model.predict(
                trained.model, frame, side, {name: _aligned_pctr(p, name, split, frame) for name, p in upstream.items()}
            )
            columns = {"impression_id": frame["impression_id"].to_numpy(), "split": split, "pctr": scores.pctr}
            if scores.pcvr is not None:
                columns["pcvr"] = scores.pcvr
            frames.append(pd.DataFrame(columns))
        return pd.concat(frames, ignore_index=True)

    return _node_function(predict, model, "predict")


def fit_calibrator_function(model: ZooModel[Any, Any]) -> Callable[[pd.DataFrame, pd.DataFrame, ZooParams], Calibrator]:
    def fit_calibrator(predictions: pd.DataFrame, valid: pd.DataFrame, params: ZooParams) -> Calibrator:
        """Fitted on the validation day: the model never trained on it."""
        try:
            calibrator = fit_calibrator_on_frame(
                rows_of_split(predictions, "valid"), valid, params.calibration, params.cold_start_min_clicks
            )
        except ValueError as error:
            raise ValueError(f"ctr_models.{model.name}.calibration: {error}") from error
        logger.info("%s: %s calibration fitted on %d validation rows", model.name, calibrator.method, len(valid))
        return calibrator

    return _node_function(fit_calibrator, model, "fit_calibrator", typed_params=True)


def calibrate(predictions: pd.DataFrame, calibrator: Calibrator, **splits: pd.DataFrame) -> pd.DataFrame:
    """Every split's pCTR through the calibrator (reading each row's flags in ``splits``, the model
    inputs it scored, where the calibrator reads one); pCVR is left as predicted."""
    if not calibrator.reads_cold_start:
        return predictions.assign(pctr=calibrator.transform(predictions["pctr"].to_numpy()))
    flags = pd.concat(
        [frame[["impression_id", COLD_START_COLUMN]].assign(split=split) for split, frame in splits.items()],
        ignore_index=True,
    )
    rows = predictions[["impression_id", "split"]].merge(
        flags, on=["impression_id", "split"], how="left", validate="one_to_one"
    )
    if rows[COLD_START_COLUMN].isna().any():
        raise ValueError(f"the model inputs lack the '{COLD_START_COLUMN}' flag of some predicted impressions")
    return predictions.assign(pctr=calibrated_pctr(calibrator, predictions["pctr"], rows, "the model inputs"))


def release_function(model: ZooModel[Any, Any]) -> Callable[..., ModelRelease]:
    def release(
        trained: TrainedModel,
        calibrator: Calibrator,
        calibrated: pd.DataFrame,
        train: pd.DataFrame,
        valid: pd.DataFrame,
    ) -> ModelRelease:
        """The model with its calibrator, validation metrics and training days, for the registry."""
        metrics = validation_metrics(rows_of_split(calibrated, "valid"), valid)
        lineage = {"model": model.name, **training_window(train, valid)}
        logger.info(
            "%s: release with validation AUC %.4f, log loss %.4f",
            model.name, metrics["valid_auc"], metrics["valid_logloss"],
        )  # fmt: skip
        return ModelRelease(trained, calibrator, metrics, lineage)

    return _node_function(release, model, "release")


def training_metrics_function(
    model: ZooModel[Any, Any],
) -> Callable[[dict[str, Any]], dict[str, list[dict[str, float]]]]:
    def training_metrics(summary: dict[str, Any]) -> dict[str, list[dict[str, float]]]:
        """The fit's figures in kedro-mlflow's metric-history shape: per epoch where there are epochs."""
        metrics = {
            f"{model.name}_{key}": [{"value": float(value), "step": 0}]
            for key, value in summary.items()
            if isinstance(value, int | float) and not isinstance(value, bool)
        }
        for epoch in summary.get("epochs", []):
            for key, value in epoch.items():
                if key != "epoch":
                    metrics.setdefault(f"{model.name}_{key}", []).append(
                        {"value": float(value), "step": int(epoch["epoch"])}
                    )
        return metrics

    return _node_function(training_metrics, model, "log_training_of")


def test_day_scores(scores: Mapping[str, Any], split: str = "test") -> dict[str, pd.DataFrame]:
    """Report name -> (impression_id, pctr) of ``split`` from the evaluation node's keyword inputs.

    The inputs are ``<model>`` (raw predictions), ``<model>_calibrated`` and ``<model>__calibrator``;
    a calibrated score enters the report only where the calibrator is not the identity.
    """
    frames: dict[str, pd.DataFrame] = {}
    for key, value in scores.items():
        if key.endswith(CALIBRATOR_SUFFIX) or key.endswith(CALIBRATED_SUFFIX):
            continue
        frames[key] = rows_of_split(value, split)[["impression_id", "pctr"]]
        calibrator: Calibrator = scores[f"{key}{CALIBRATOR_SUFFIX}"]
        if not calibrator.is_identity:
            frames[f"{key}{CALIBRATED_SUFFIX}"] = rows_of_split(scores[f"{key}{CALIBRATED_SUFFIX}"], split)[
                ["impression_id", "pctr"]
            ]
    return frames
