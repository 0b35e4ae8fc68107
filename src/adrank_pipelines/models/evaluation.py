"""Test-day evaluation of every CTR model beside the baseline and the oracle (the true pCTR).

The oracle scores each impression with the simulator's true click probability, so its AUC is the
ceiling no model can pass; ``headroom captured`` says how much of the gap between the baseline and
that ceiling a model closes. The truth table is an input of evaluation only, never of training.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import numpy as np
import pandas as pd

from adrank_pipelines.models.evaluation_config import EvaluationParams
from adrank_pipelines.models.metrics import (
    auc,
    calibration_ratio,
    expected_calibration_error,
    group_auc,
    logloss,
    normalized_entropy,
    reliability_bins,
)

# Subsets of the test day: every row; ads without a train impression (the features' flag); and,
# when the validation day's ads are given, ads whose first impression is on the test day itself.
ALL, COLD_START, NEW_ON_TEST_DAY = "all", "cold_start", "new_on_test_day"
_EVALUATION_COLUMNS = ["impression_id", "user_id", "ad_id", "click", "is_cold_start_ad"]
_EMPTY_SUBSET = {
    ALL: "the test window has no impressions",
    COLD_START: "no cold-start ads in the test window",
    NEW_ON_TEST_DAY: "no ad was first shown on the test day",
}
_NO_CLICK = "no click in this subset: AUC, group AUC, normalised entropy and calibration ratio are undefined"
_ALL_CLICKS = "every impression in this subset was clicked: AUC, group AUC and normalised entropy are undefined"
_NO_USER_WITH_BOTH = "no user of this subset has both a click and a non-click"
_ORACLE_NOT_ABOVE_BASELINE = "the oracle's AUC does not exceed the baseline's on this subset"


def score_predictions(
    labels: np.ndarray, pctr: np.ndarray, users: np.ndarray, params: EvaluationParams
) -> dict[str, float | int]:
    """All metrics of one model on one set of rows (JSON-able; NaN where a metric is undefined)."""
    user_auc, users_with_both_classes = group_auc(labels, pctr, users)
    return {
        "auc": auc(labels, pctr),
        "logloss": logloss(labels, pctr),
        "normalized_entropy": normalized_entropy(labels, pctr),
        "calibration_ratio": calibration_ratio(labels, pctr),
        "ece": expected_calibration_error(labels, pctr, params.n_bins, params.ece_binning),
        "group_auc": user_auc,
        "group_auc_users": users_with_both_classes,
    }


def headroom_captured(model_auc: float, baseline_auc: float, oracle_auc: float) -> float:
    """(AUC_model - AUC_base) / (AUC_oracle - AUC_base); NaN when the oracle does not beat the baseline."""
    gap = oracle_auc - baseline_auc
    return float((model_auc - baseline_auc) / gap) if gap > 0 else float("nan")


def _scored_test_day(
    test: pd.DataFrame, truth_impressions: pd.DataFrame, predictions: Mapping[str, pd.DataFrame], oracle_name: str
) -> pd.DataFrame:
    """The test rows with one pCTR column per model, the oracle's true pCTR among them."""
    scored = test[_EVALUATION_COLUMNS].merge(
        truth_impressions[["impression_id", "true_pctr"]].rename(columns={"true_pctr": oracle_name}),
        on="impression_id",
        how="left",
        validate="one_to_one",
    )
    for name, frame in predictions.items():
        scored = scored.merge(
            frame[["impression_id", "pctr"]].rename(columns={"pctr": name}),
            on="impression_id",
            how="left",
            validate="one_to_one",
        )
    unscored = {name: int(scored[name].isna().sum()) for name in [oracle_name, *predictions]}
    unscored = {name: count for name, count in unscored.items() if count}
    if unscored:
        raise ValueError(f"Test impressions without a prediction, per model: {unscored} (of {len(scored)} rows).")
    return scored


def _subset_masks(scored: pd.DataFrame, ads_seen_before_test_day: Collection[int] | None) -> dict[str, np.ndarray]:
    masks = {ALL: np.ones(len(scored), dtype=bool), COLD_START: scored["is_cold_start_ad"].to_numpy(dtype=bool)}
    if ads_seen_before_test_day is not None:
        masks[NEW_ON_TEST_DAY] = ~scored["ad_id"].isin(list(ads_seen_before_test_day)).to_numpy()
    return masks


def _is_undefined(value: float | int) -> bool:
    return isinstance(value, float) and not np.isfinite(value)


def _none_if_nan(value: float | int) -> float | int | None:
    return None if _is_undefined(value) else value


def _undefined_reasons(
    subset: str, rows: int, clicks: int, metrics: Mapping[str, Mapping[str, float | int]], headroom: Mapping[str, float]
) -> dict[str, str]:
    """Why each metric that is undefined (NaN) for some model of this subset is undefined."""
    if rows == 0:
        whole_subset = _EMPTY_SUBSET[subset]
    elif clicks == 0:
        whole_subset = _NO_CLICK
    elif clicks == rows:
        whole_subset = _ALL_CLICKS
    else:
        whole_subset = ""
    undefined = {name for values in metrics.values() for name, value in values.items() if _is_undefined(value)}
    reasons = {name: whole_subset or (_NO_USER_WITH_BOTH if name == "group_auc" else "") for name in undefined}
    if any(_is_undefined(value) for value in headroom.values()):
        reasons["headroom_captured"] = whole_subset or _ORACLE_NOT_ABOVE_BASELINE
    return {name: reason for name, reason in sorted(reasons.items()) if reason}


def evaluation_report(
    test: pd.DataFrame,
    truth_impressions: pd.DataFrame,
    baseline: pd.DataFrame,
    models: Mapping[str, pd.DataFrame],
    params: EvaluationParams,
    ads_seen_before_test_day: Collection[int] | None = None,
) -> dict[str, Any]:
    """Metrics of the baseline, every model and the oracle on the test day, per subset, as a JSON-able dict.

    ``test``: model_input_test (impression_id, user_id, ad_id, click, is_cold_start_ad);
    ``truth_impressions``: impression_id, true_pctr; ``baseline`` and each of ``models``: impression_id,
    pctr. ``ads_seen_before_test_day`` (ad ids of the train and valid days) adds the subset of ads
    first shown on the test day. Keys: ``subsets`` -> subset -> {rows, clicks, ctr, metrics: {model:
    {...}}, headroom_captured: {model: x}, undefined: {metric: reason}}, ``reliability`` -> model -> bins
    on all rows, ``params``. A metric a subset cannot define (an empty subset, a single class) is None,
    and ``undefined`` says why.
    """
    clashing = {params.baseline_name, params.oracle_name} & set(models)
    if clashing:
        raise ValueError(f"Model names {sorted(clashing)} are reserved for the baseline and the oracle.")
    predictions = {params.baseline_name: baseline, **models}
    scored = _scored_test_day(test, truth_impressions, predictions, params.oracle_name)
    names = [params.baseline_name, *models, params.oracle_name]
    subsets: dict[str, Any] = {}
    for subset, mask in _subset_masks(scored, ads_seen_before_test_day).items():
        rows = scored.loc[mask]
        labels, users = rows["click"].to_numpy(dtype=np.float64), rows["user_id"].to_numpy()
        metrics = {name: score_predictions(labels, rows[name].to_numpy(), users, params) for name in names}
        baseline_auc, oracle_auc = metrics[params.baseline_name]["auc"], metrics[params.oracle_name]["auc"]
        headroom = {name: headroom_captured(metrics[name]["auc"], baseline_auc, oracle_auc) for name in models}
        rows_in_subset, clicks = int(mask.sum()), int(labels.sum())
        subsets[subset] = {
            "rows": rows_in_subset,
            "clicks": clicks,
            "ctr": float(labels.mean()) if labels.size else None,
            "metrics": {
                name: {metric: _none_if_nan(value) for metric, value in values.items()}
                for name, values in metrics.items()
            },
            "headroom_captured": {name: _none_if_nan(value) for name, value in headroom.items()},
            "undefined": _undefined_reasons(subset, rows_in_subset, clicks, metrics, headroom),
        }
    labels = scored["click"].to_numpy(dtype=np.float64)
    reliability = {
        name: reliability_bins(labels, scored[name].to_numpy(), params.n_bins, params.ece_binning).to_dict("list")
        for name in names
    }
    return {"subsets": subsets, "reliability": reliability, "params": params.model_dump()}


def mlflow_metrics(report: Mapping[str, Any]) -> dict[str, float]:
    """The report's numbers as a flat dict: ``test_auc_lightgbm``, ``test_cold_start_ece_oracle``,
    ``test_headroom_captured_lightgbm``, ... (undefined metrics are left out: MLflow cannot chart them)."""
    flat: dict[str, float | None] = {}
    for subset, block in report["subsets"].items():
        prefix = "test_" if subset == ALL else f"test_{subset}_"
        for model, metrics in block["metrics"].items():
            for metric, value in metrics.items():
                flat[f"{prefix}{metric}_{model}"] = value
        for model, value in block["headroom_captured"].items():
            flat[f"{prefix}headroom_captured_{model}"] = value
    return {name: float(value) for name, value in flat.items() if value is not None}
