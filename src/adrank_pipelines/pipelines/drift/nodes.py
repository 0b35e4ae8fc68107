"""Thin adapters between the catalog and the monitoring package: unpack parameters, call, log the key figure.

Windows are the features pipeline's splits: the train days are the reference, the validation day the
baseline of calibration and performance, the test day and the drift window the current windows.
"""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from adrank_pipelines.features.vocabulary import OOV_INDEX
from adrank_pipelines.monitoring.alerts import alert_table, apply_rules, retrain_recommendation
from adrank_pipelines.monitoring.feature_drift import (
    ReferenceProfile,
    feature_drift,
    fit_reference_profile,
    monitored_features,
    require_known_features,
)
from adrank_pipelines.monitoring.model_drift import LABEL, model_drift, scored_windows
from adrank_pipelines.monitoring.params import DriftParams
from adrank_pipelines.monitoring.plots import psi_bars, reliability_curves, score_histograms
from adrank_pipelines.monitoring.report import drift_metrics, drift_report
from adrank_pipelines.monitoring.statistics import statistics_frame

# The drift.model name of a model's calibrated predictions: "<model>_calibrated".
CALIBRATED_SUFFIX = "_calibrated"

logger = logging.getLogger(__name__)

REFERENCE, BASELINE = "train", "valid"
CURRENT_WINDOWS = ("test", "drift")


def fit_reference(train: pd.DataFrame, spec: dict[str, Any], params: DriftParams) -> ReferenceProfile:
    """Bins and histograms of every monitored feature-spec column on the train days."""
    selection = params.features
    features = monitored_features(
        categorical={name: entry["source"] for name, entry in spec["categorical"].items()},
        numeric=spec["numeric"],
        # A vocabulary's out-of-vocabulary index is a value the model never learnt, like a new one.
        unseen_codes={
            name: {OOV_INDEX} for name, entry in spec["categorical"].items() if entry["kind"] == "vocabulary"
        },
        excluded=selection.excluded,
        report_only=selection.report_only,
    )
    require_known_features(params.rules.feature_overrides, [f.name for f in features], "drift.rules.feature_overrides")
    profile = fit_reference_profile(
        train, features, selection.max_categories, selection.numeric_bins, params.share_floor, REFERENCE
    )
    logger.info(
        "drift reference: %d features (%d report-only) on %d train rows",
        len(features),
        sum(not f.alerting for f in features),
        profile.n_rows,
    )
    return profile


def compute_feature_drift(profile: ReferenceProfile, test: pd.DataFrame, drift: pd.DataFrame) -> pd.DataFrame:
    statistics = statistics_frame(
        row
        for window, frame in zip(CURRENT_WINDOWS, (test, drift), strict=True)
        for row in feature_drift(profile, frame, window)
    )
    psi = statistics.loc[statistics["alerting"] & (statistics["statistic"] == "psi")].groupby("window")["value"].max()
    logger.info("largest PSI of an alerting feature per window: %s", psi.round(3).to_dict())
    return statistics


def _predictions_dataset(model: str) -> str:
    """The catalog entry behind ``drift.model``: ``<model>.predictions`` or ``<model>.calibrated_predictions``."""
    if model.endswith(CALIBRATED_SUFFIX):
        return f"{model.removesuffix(CALIBRATED_SUFFIX)}.calibrated_predictions"
    return f"{model}.predictions"


def compute_model_drift(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    test: pd.DataFrame,
    drift: pd.DataFrame,
    params: DriftParams,
    **predictions: pd.DataFrame,
) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    """Prediction, label, calibration and performance statistics of the ``params.model`` predictions,
    and its scored windows for the plots. ``predictions`` holds one table per model name."""
    if params.model not in predictions:
        raise ValueError(f"drift.model is '{params.model}'; the predictions tables are {sorted(predictions)}")
    labelled = {REFERENCE: train, BASELINE: valid, CURRENT_WINDOWS[0]: test, CURRENT_WINDOWS[1]: drift}
    scored = scored_windows(predictions[params.model], labelled, dataset=_predictions_dataset(params.model))
    unscored = [window for window, frame in labelled.items() if len(frame) and window not in scored]
    if unscored:
        logger.warning(
            "%s predictions score no rows of %s: their model statistics are left out", params.model, unscored
        )
    statistics = statistics_frame(
        model_drift(
            scored,
            {window: frame[[LABEL]] for window, frame in labelled.items()},
            REFERENCE,
            BASELINE,
            CURRENT_WINDOWS,
            params.report.score_bins,
            params.share_floor,
        )
    )
    logger.info("model drift of %s: %d statistics over windows %s", params.model, len(statistics), sorted(scored))
    return statistics, scored


def evaluate_alert_rules(
    feature_statistics: pd.DataFrame, model_statistics: pd.DataFrame, params: DriftParams
) -> tuple[pd.DataFrame, pd.DataFrame, dict[str, Any]]:
    """Every statistic with its thresholds and severity, the alert table, and the retrain recommendation."""
    evaluated = apply_rules(pd.concat([feature_statistics, model_statistics], ignore_index=True), params.rules)
    alerts = alert_table(evaluated)
    windows = [window for window in CURRENT_WINDOWS if (evaluated["window"] == window).any()]
    recommendation = retrain_recommendation(alerts, windows, params.retrain.min_alerts)
    logger.info(
        "drift alerts: %s; recommendation: %s",
        {w: (d["alerts"], d["warnings"]) for w, d in recommendation["windows"].items()},
        recommendation["recommendation"],
    )
    return evaluated, alerts, recommendation


def build_drift_report(
    statistics: pd.DataFrame, recommendation: dict[str, Any], params: DriftParams
) -> tuple[dict[str, Any], dict[str, dict[str, float]]]:
    settings = {"reference_window": REFERENCE, "baseline_window": BASELINE, **params.model_dump(mode="json")}
    report = drift_report(statistics, recommendation, params.model, CURRENT_WINDOWS, settings)
    metrics = {name: {"value": value, "step": 0} for name, value in drift_metrics(statistics).items()}
    return report, metrics


def plot_feature_psi(statistics: pd.DataFrame, params: DriftParams) -> Figure:
    psi = params.rules.feature.psi
    return psi_bars(statistics, CURRENT_WINDOWS, psi.warn, psi.alert)


def plot_scores(scored: dict[str, pd.DataFrame], params: DriftParams) -> tuple[Figure, Figure]:
    """Score histograms (reference vs each current window) and reliability curves (validation + current)."""
    return (
        score_histograms(scored, REFERENCE, CURRENT_WINDOWS, params.report.histogram_bins),
        reliability_curves(scored, (BASELINE, *CURRENT_WINDOWS), params.report.reliability_bins),
    )
