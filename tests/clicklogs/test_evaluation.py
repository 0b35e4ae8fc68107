"""Evaluation against the observed clicks alone: the report's numbers, its checks, its figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.clicklogs.evaluation import flat_metrics, label_only_report
from adrank_pipelines.clicklogs.plots import metric_bars
from adrank_pipelines.models.evaluation_config import EvaluationParams

PARAMS = EvaluationParams(n_bins=2)
TEST = pd.DataFrame({"impression_id": [10, 11, 12, 13], "click": np.array([1, 0, 1, 0], dtype=np.int8)})


def test_the_report_scores_each_model_on_the_test_rows():
    perfect = pd.DataFrame({"impression_id": [13, 12, 11, 10], "pctr": [0.1, 0.9, 0.2, 0.8]})
    constant = pd.DataFrame({"impression_id": [10, 11, 12, 13], "pctr": [0.5] * 4})
    report = label_only_report(TEST, {"perfect": perfect, "constant": constant}, PARAMS)
    block = report["subsets"]["all"]
    assert (block["rows"], block["clicks"], block["ctr"]) == (4, 2, 0.5)
    assert block["metrics"]["perfect"]["auc"] == 1.0
    assert block["metrics"]["constant"]["auc"] == 0.5
    # Always predicting the test CTR scores a normalized entropy of exactly 1.
    assert block["metrics"]["constant"]["normalized_entropy"] == pytest.approx(1.0)
    expected_logloss = -np.mean(np.log([0.8, 0.8, 0.9, 0.9]))
    assert block["metrics"]["perfect"]["logloss"] == pytest.approx(expected_logloss)
    assert block["metrics"]["perfect"]["calibration_ratio"] == pytest.approx(1.0)
    assert report["reliability"]["perfect"]["count"] == [2, 2]
    assert "oracle" not in block["metrics"]

    flat = flat_metrics(report)
    assert flat["test_auc_perfect"] == 1.0
    assert len(flat) == 10  # five metrics, two models


def test_test_rows_without_a_prediction_are_an_error_naming_the_model():
    partial = pd.DataFrame({"impression_id": [10, 11], "pctr": [0.5, 0.5]})
    with pytest.raises(ValueError, match=r"\{'partial': 2\}"):
        label_only_report(TEST, {"partial": partial}, PARAMS)


def test_the_metrics_figure_has_one_panel_per_metric_with_a_bar_per_model():
    perfect = pd.DataFrame({"impression_id": [10, 11, 12, 13], "pctr": [0.9, 0.1, 0.8, 0.2]})
    figure = metric_bars(label_only_report(TEST, {"a": perfect, "b": perfect}, PARAMS))
    assert len(figure.axes) == 2
    assert all(len(axes.patches) == 2 for axes in figure.axes)
