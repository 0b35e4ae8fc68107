"""The test-day report of every trained model beside the baseline and the oracle; training is the template's."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from adrank_pipelines.models.evaluation import evaluation_report, mlflow_metrics
from adrank_pipelines.models.evaluation_config import EvaluationParams
from adrank_pipelines.models.report_plots import auc_bars, reliability_diagram
from adrank_pipelines.pipelines.zoo_nodes import test_day_scores

logger = logging.getLogger(__name__)


def _figure(value: float | None) -> str:
    return "undefined" if value is None else f"{value:.4f}"


def evaluate_ctr_models(
    test: pd.DataFrame,
    train: pd.DataFrame,
    valid: pd.DataFrame,
    truth_impressions: pd.DataFrame,
    params: EvaluationParams,
    **scores: Any,
) -> tuple[dict[str, Any], dict[str, dict[str, float]], Figure, Figure]:
    """Test-day metrics of every model beside the baseline and the oracle (the simulator's true pCTR).

    ``scores``: per model, ``<model>`` (its predictions), ``<model>_calibrated`` and ``<model>__calibrator``.
    """
    models = test_day_scores(scores)
    if params.baseline_name not in models:
        raise ValueError(
            f"ctr_evaluation.baseline_name is '{params.baseline_name}', which ctr_training.models does not list: "
            f"{sorted(models)}"
        )
    baseline = models.pop(params.baseline_name)
    seen_before = set(train["ad_id"].unique()) | set(valid["ad_id"].unique())
    report = evaluation_report(test, truth_impressions, baseline, models, params, ads_seen_before_test_day=seen_before)
    overall = report["subsets"]["all"]
    logger.info(
        "test AUC: %s; oracle %s%s",
        ", ".join(f"{name} {_figure(overall['metrics'][name]['auc'])}" for name in [*models, params.baseline_name]),
        _figure(overall["metrics"][params.oracle_name]["auc"]),
        "".join(f"; {metric} undefined: {reason}" for metric, reason in overall["undefined"].items()),
    )
    metrics = {name: {"value": value, "step": 0} for name, value in mlflow_metrics(report).items()}
    return report, metrics, reliability_diagram(report), auc_bars(report)
