"""Thin adapters between the catalog, the models package and the click-log evaluation."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from adrank_pipelines.clicklogs.evaluation import ALL, flat_metrics, label_only_report
from adrank_pipelines.clicklogs.plots import metric_bars
from adrank_pipelines.clicklogs.predictions import predictions_by_split, rows_of_split
from adrank_pipelines.models.calibration import calibrate, fit_calibrator_on_frame
from adrank_pipelines.models.config import CtrTransformerParams
from adrank_pipelines.models.factory import CtrModel
from adrank_pipelines.models.lightgbm_ranker import LightGBMRanker, predict_lightgbm, train_lightgbm
from adrank_pipelines.models.ranker_config import CtrLightGBMParams, EvaluationParams
from adrank_pipelines.models.report_plots import reliability_diagram
from adrank_pipelines.models.scoring import predict_ctr
from adrank_pipelines.models.training import fit_ctr_model

logger = logging.getLogger(__name__)


def train_field_attention(
    train: pd.DataFrame, valid: pd.DataFrame, spec: dict[str, Any], params: CtrTransformerParams
) -> tuple[CtrModel, dict[str, Any]]:
    """The models factory picks field attention: the spec has no sequences and there is no ad text."""
    model, history = fit_ctr_model(train, valid, None, None, None, spec, params)
    best = min(history, key=lambda epoch: epoch["valid_logloss"])
    logger.info("%s: best epoch %d of %d, valid AUC %.4f", type(model).__name__, best["epoch"], len(history),
                best["valid_auc"])  # fmt: skip
    return model, {"epochs": history, "best_epoch": best["epoch"]}


def predict_field_attention(model: CtrModel, valid: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    return predictions_by_split(partial(predict_ctr, model), {"valid": valid, "test": test})


def train_click_log_lightgbm(
    train: pd.DataFrame, valid: pd.DataFrame, spec: dict[str, Any], params: CtrLightGBMParams
) -> LightGBMRanker:
    ranker = train_lightgbm(train, valid, spec, params.model)
    logger.info("LightGBM: %d trees on %d features, valid AUC %.4f", ranker.best_iteration,
                len(ranker.features.columns), ranker.valid_auc)  # fmt: skip
    return ranker


def predict_click_log_lightgbm(ranker: LightGBMRanker, valid: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    return predictions_by_split(partial(predict_lightgbm, ranker), {"valid": valid, "test": test})


def calibrate_on_valid(predictions: pd.DataFrame, valid: pd.DataFrame, params: CtrLightGBMParams) -> pd.DataFrame:
    """Fit the calibrator on the validation split, apply it to the test split."""
    calibrator = fit_calibrator_on_frame(rows_of_split(predictions, "valid"), valid, params.calibration.method)
    return calibrate(calibrator, rows_of_split(predictions, "test")).assign(split="test")


def evaluate_click_log_models(
    test: pd.DataFrame, params: EvaluationParams, **predictions: pd.DataFrame
) -> tuple[dict[str, Any], dict[str, dict[str, float]], Figure, Figure]:
    """Test-split AUC, logloss, normalized entropy and calibration of every model (keyword: its name)."""
    test_rows = {name: rows_of_split(frame, "test") for name, frame in predictions.items()}
    report = label_only_report(test, test_rows, params)
    metrics = report["subsets"][ALL]["metrics"]
    logger.info(
        "test AUC / NE: field attention %.4f / %.4f, LightGBM %.4f / %.4f",
        metrics["field_attention"]["auc"], metrics["field_attention"]["normalized_entropy"],
        metrics["lightgbm"]["auc"], metrics["lightgbm"]["normalized_entropy"],
    )  # fmt: skip
    mlflow = {name: {"value": value, "step": 0} for name, value in flat_metrics(report).items()}
    return report, mlflow, reliability_diagram(report), metric_bars(report)
