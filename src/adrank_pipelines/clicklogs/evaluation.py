"""Test-split evaluation of click-log models against the observed clicks alone.

A public log has no true click probabilities, so there is no oracle ceiling here: normalized
entropy (1 = no better than always predicting the test CTR) is the reference point instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from adrank_pipelines.models.metrics import (
    auc,
    calibration_ratio,
    expected_calibration_error,
    logloss,
    normalized_entropy,
    reliability_bins,
)
from adrank_pipelines.models.ranker_config import EvaluationParams

ALL = "all"


def _scored(test: pd.DataFrame, predictions: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    scored = test[["impression_id", "click"]]
    for name, frame in predictions.items():
        scored = scored.merge(
            frame[["impression_id", "pctr"]].rename(columns={"pctr": name}),
            on="impression_id",
            how="left",
            validate="one_to_one",
        )
    unscored = {name: int(scored[name].isna().sum()) for name in predictions if scored[name].isna().any()}
    if unscored:
        raise ValueError(f"Test rows without a prediction, per model: {unscored} (of {len(scored)} rows).")
    return scored


def model_metrics(labels: np.ndarray, pctr: np.ndarray, params: EvaluationParams) -> dict[str, float]:
    return {
        "auc": auc(labels, pctr),
        "logloss": logloss(labels, pctr),
        "normalized_entropy": normalized_entropy(labels, pctr),
        "calibration_ratio": calibration_ratio(labels, pctr),
        "ece": expected_calibration_error(labels, pctr, params.n_bins, params.ece_binning),
    }


def label_only_report(
    test: pd.DataFrame, predictions: Mapping[str, pd.DataFrame], params: EvaluationParams
) -> dict[str, Any]:
    """Metrics of every model on the test split and its reliability bins, JSON-able.

    ``test``: impression_id, click; each of ``predictions``: impression_id, pctr. Shaped like the
    simulated world's report (``subsets`` -> ``all`` -> ``metrics`` -> model), without oracle figures.
    """
    scored = _scored(test, predictions)
    labels = scored["click"].to_numpy(dtype=np.float64)
    return {
        "subsets": {
            ALL: {
                "rows": len(scored),
                "clicks": int(labels.sum()),
                "ctr": float(labels.mean()) if labels.size else float("nan"),
                "metrics": {name: model_metrics(labels, scored[name].to_numpy(), params) for name in predictions},
            }
        },
        "reliability": {
            name: reliability_bins(labels, scored[name].to_numpy(), params.n_bins, params.ece_binning).to_dict("list")
            for name in predictions
        },
        "params": params.model_dump(),
    }


def flat_metrics(report: Mapping[str, Any]) -> dict[str, float]:
    """``test_<metric>_<model>`` for MLflow, NaN left out (MLflow cannot chart it)."""
    metrics = report["subsets"][ALL]["metrics"]
    flat = {f"test_{metric}_{model}": float(value) for model, block in metrics.items() for metric, value in block.items()}
    return {name: value for name, value in flat.items() if np.isfinite(value)}
