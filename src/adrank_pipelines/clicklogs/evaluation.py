"""Test-split evaluation of click-log models against the observed clicks alone.

A public log has no true click probabilities, so there is no oracle ceiling here: normalized
entropy (1 = no better than always predicting the test CTR) is the reference point instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from adrank_pipelines.models.evaluation import score_predictions
from adrank_pipelines.models.evaluation_config import EvaluationParams
from adrank_pipelines.models.metrics import reliability_bins

ALL = "all"


def _scored(test: pd.DataFrame, predictions: Mapping[str, pd.DataFrame]) -> pd.DataFrame:
    """The test rows' clicks beside one pCTR column per model, joined on impression_id."""
    scores = pd.DataFrame({name: frame.set_index("impression_id")["pctr"] for name, frame in predictions.items()})
    scored = test.set_index("impression_id")[["click"]].join(scores, how="left")
    missing = scored[list(predictions)].isna().sum()
    if missing.any():
        per_model = missing[missing > 0].to_dict()
        raise ValueError(f"Test rows without a prediction, per model: {per_model} (of {len(scored)} rows).")
    return scored


def model_metrics(labels: np.ndarray, pctr: np.ndarray, params: EvaluationParams) -> dict[str, float]:
    """AUC, logloss, normalized entropy, calibration ratio and ECE: the simulated world's metrics
    without the per-user group AUC (a click log's mapping names no user)."""
    metrics = score_predictions(labels, pctr, np.zeros(len(labels)), params)
    return {name: float(value) for name, value in metrics.items() if not name.startswith("group_auc")}


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
    flat = {
        f"test_{metric}_{model}": float(value) for model, block in metrics.items() for metric, value in block.items()
    }
    return {name: value for name, value in flat.items() if np.isfinite(value)}
