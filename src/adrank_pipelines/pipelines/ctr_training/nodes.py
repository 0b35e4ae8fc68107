"""Thin adapters between the catalog and the models package: unpack parameters, call, log the key figure."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from matplotlib.figure import Figure
from sklearn.pipeline import Pipeline as SklearnPipeline

from adrank_pipelines.models.baseline import fit_baseline, predict_baseline
from adrank_pipelines.models.calibration import calibrate, fit_calibrator_on_frame
from adrank_pipelines.models.config import CtrTransformerParams
from adrank_pipelines.models.evaluation import evaluation_report, mlflow_metrics
from adrank_pipelines.models.factory import CtrModel
from adrank_pipelines.models.lightgbm_ranker import (
    HybridRanker,
    LightGBMRanker,
    predict_hybrid,
    predict_lightgbm,
    train_hybrid,
    train_lightgbm,
)
from adrank_pipelines.models.ranker_config import CtrLightGBMParams, EvaluationParams
from adrank_pipelines.models.report_plots import auc_bars, reliability_diagram
from adrank_pipelines.models.scoring import predict_ctr
from adrank_pipelines.models.text_encoder import ad_text_embeddings
from adrank_pipelines.models.training import fit_ctr_model

logger = logging.getLogger(__name__)


def _with_split(predictions: pd.DataFrame, split: str) -> pd.DataFrame:
    return predictions.assign(split=split)


def _split(predictions: pd.DataFrame, split: str) -> pd.DataFrame:
    return predictions.loc[predictions["split"] == split].drop(columns="split").reset_index(drop=True)


def encode_ad_creatives(ad_features: pd.DataFrame, params: CtrTransformerParams) -> pd.DataFrame:
    embeddings = ad_text_embeddings(ad_features, params.text_encoder)
    logger.info("encoded %d ad creatives into %d-d text embeddings", len(embeddings), embeddings.shape[1] - 1)
    return embeddings


def train_transformer(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    sequences: pd.DataFrame,
    ad_features: pd.DataFrame,
    text_embeddings: pd.DataFrame,
    spec: dict[str, Any],
    params: CtrTransformerParams,
) -> tuple[CtrModel, dict[str, Any]]:
    model, history = fit_ctr_model(train, valid, sequences, ad_features, text_embeddings, spec, params)
    best = min(history, key=lambda epoch: epoch["valid_logloss"])
    logger.info("transformer: best epoch %d, valid AUC %.4f", best["epoch"], best["valid_auc"])
    return model, {"epochs": history, "best_epoch": best["epoch"]}


def training_history_metrics(history: dict[str, Any]) -> dict[str, list[dict[str, float]]]:
    """Per-epoch figures in kedro-mlflow's metric-history shape, so MLflow charts them by epoch."""
    names = [name for name in history["epochs"][0] if name != "epoch"]
    return {
        f"transformer_{name}": [{"value": float(e[name]), "step": int(e["epoch"])} for e in history["epochs"]]
        for name in names
    }


def predict_transformer(
    model: CtrModel,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
    drift: pd.DataFrame,
    sequences: pd.DataFrame,
    ad_features: pd.DataFrame,
    text_embeddings: pd.DataFrame,
) -> pd.DataFrame:
    """pCTR and pCVR of every split: the train days feed the ``feature`` hybrid and are the reference
    window of prediction-drift monitoring, the drift window its current window."""
    splits = {"train": train, "valid": valid, "test": test, "drift": drift}
    return pd.concat(
        [
            _with_split(predict_ctr(model, frame, sequences, ad_features, text_embeddings), split)
            for split, frame in splits.items()
            if len(frame)
        ],
        ignore_index=True,
    )


def train_baseline(train: pd.DataFrame) -> SklearnPipeline:
    return fit_baseline(train)


def predict_with_baseline(baseline: SklearnPipeline, test: pd.DataFrame) -> pd.DataFrame:
    return _with_split(predict_baseline(baseline, test), "test")


def train_lightgbm_ranker(
    train: pd.DataFrame, valid: pd.DataFrame, spec: dict[str, Any], params: CtrLightGBMParams
) -> LightGBMRanker:
    ranker = train_lightgbm(train, valid, spec, params.model)
    logger.info(
        "LightGBM: %d trees, valid AUC %.4f, %.0f s", ranker.best_iteration, ranker.valid_auc, ranker.training_seconds
    )
    return ranker


def predict_with_lightgbm(ranker: LightGBMRanker, valid: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    return pd.concat(
        [_with_split(predict_lightgbm(ranker, frame), split) for split, frame in (("valid", valid), ("test", test))],
        ignore_index=True,
    )


def train_hybrid_ranker(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    spec: dict[str, Any],
    lightgbm: LightGBMRanker,
    transformer_predictions: pd.DataFrame,
    params: CtrLightGBMParams,
) -> HybridRanker:
    transformer_valid = _split(transformer_predictions, "valid")
    transformer_train = _split(transformer_predictions, "train")
    return train_hybrid(train, valid, spec, transformer_train, transformer_valid, params, lightgbm=lightgbm)


def predict_with_hybrid(
    hybrid: HybridRanker, test: pd.DataFrame, transformer_predictions: pd.DataFrame
) -> pd.DataFrame:
    return _with_split(predict_hybrid(hybrid, test, _split(transformer_predictions, "test")), "test")


def calibrate_on_validation_day(
    predictions: pd.DataFrame, valid: pd.DataFrame, params: CtrLightGBMParams
) -> pd.DataFrame:
    """Fit the calibrator on the validation day, apply it to the test day."""
    calibrator = fit_calibrator_on_frame(_split(predictions, "valid"), valid, params.calibration.method)
    return _with_split(calibrate(calibrator, _split(predictions, "test")[["impression_id", "pctr"]]), "test")


def _figure(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4f}"


def evaluate_ctr_models(
    test: pd.DataFrame,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    truth_impressions: pd.DataFrame,
    baseline: pd.DataFrame,
    lightgbm: pd.DataFrame,
    lightgbm_calibrated: pd.DataFrame,
    transformer: pd.DataFrame,
    transformer_calibrated: pd.DataFrame,
    hybrid: pd.DataFrame,
    params: EvaluationParams,
) -> tuple[dict[str, Any], dict[str, dict[str, float]], Figure, Figure]:
    """Test-day metrics of every model beside the baseline and the oracle (the simulator's true pCTR)."""
    models = {
        "lightgbm": lightgbm,
        "lightgbm_calibrated": lightgbm_calibrated,
        "transformer": transformer,
        "transformer_calibrated": transformer_calibrated,
        "hybrid": hybrid,
    }
    seen_before = set(train["ad_id"].unique()) | set(valid["ad_id"].unique())
    report = evaluation_report(
        test,
        truth_impressions,
        _split(baseline, "test"),
        {name: _split(frame, "test")[["impression_id", "pctr"]] for name, frame in models.items()},
        params,
        ads_seen_before_test_day=seen_before,
    )
    overall = report["subsets"]["all"]
    logger.info(
        "test AUC: transformer %s, LightGBM %s, baseline %s, oracle %s; transformer headroom captured %s%s",
        *(
            _figure(overall["metrics"][name]["auc"])
            for name in ("transformer", "lightgbm", params.baseline_name, params.oracle_name)
        ),
        _figure(overall["headroom_captured"]["transformer"]),
        "".join(f"; {metric} undefined: {reason}" for metric, reason in overall["undefined"].items()),
    )
    metrics = {name: {"value": value, "step": 0} for name, value in mlflow_metrics(report).items()}
    return report, metrics, reliability_diagram(report), auc_bars(report)
