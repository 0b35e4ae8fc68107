"""The click-log report: label-only metrics of every trained model on the test split."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from adrank_pipelines.clicklogs.evaluation import ALL, flat_metrics, label_only_report
from adrank_pipelines.clicklogs.plots import metric_bars
from adrank_pipelines.models.evaluation_config import EvaluationParams
from adrank_pipelines.models.report_plots import reliability_diagram
from adrank_pipelines.pipelines.zoo_nodes import test_day_scores

logger = logging.getLogger(__name__)


def evaluate_click_log_models(
    test: pd.DataFrame, params: EvaluationParams, **scores: Any
) -> tuple[dict[str, Any], dict[str, dict[str, float]], Figure, Figure]:
    """Test-split AUC, logloss, normalized entropy and calibration of every model (keyword: its name)."""
    report = label_only_report(test, test_day_scores(scores), params)
    metrics = report["subsets"][ALL]["metrics"]
    logger.info(
        "test AUC / NE: %s",
        ", ".join(f"{name} {m['auc']:.4f} / {m['normalized_entropy']:.4f}" for name, m in metrics.items()),
    )
    mlflow = {name: {"value": value, "step": 0} for name, value in flat_metrics(report).items()}
    return report, mlflow, reliability_diagram(report), metric_bars(report)
