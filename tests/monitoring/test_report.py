"""The drift report, its MLflow figures and its plots, from statistics with known flags."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from adrank_pipelines.monitoring.alerts import alert_table, apply_rules, retrain_recommendation
from adrank_pipelines.monitoring.params import RuleParams
from adrank_pipelines.monitoring.plots import psi_bars, reliability_curves, score_histograms
from adrank_pipelines.monitoring.report import drift_metrics, drift_report
from adrank_pipelines.monitoring.statistics import DriftStatistic, statistics_frame
from tests.monitoring.drift_windows import window


def _row(window_name, group, subject, statistic, value, **extra) -> DriftStatistic:
    return DriftStatistic(
        window=window_name,
        group=group,
        subject=subject,
        statistic=statistic,
        value=value,
        reference_window="train",
        n_reference=1000,
        n_current=500,
        **extra,
    )


def _evaluated() -> pd.DataFrame:
    return apply_rules(
        statistics_frame(
            [
                _row("test", "feature", "platform_idx", "psi", 0.01, source="platform"),
                _row(
                    "test",
                    "label",
                    "click",
                    "ctr_change",
                    0.01,
                    reference_value=0.035,
                    current_value=0.0353,
                    p_value=0.6,
                ),
                _row("drift", "feature", "platform_idx", "psi", 0.3, source="platform"),
                _row("drift", "feature", "platform_x_category_hash", "psi", 0.12, source="platform x category"),
                _row("drift", "feature", "category_ctr", "psi", 2.0, alerting=False),
                _row("drift", "performance", "pctr", "auc_drop", np.nan),
            ]
        ),
        RuleParams(),
    )


def test_report_summarises_each_window_and_is_strict_json():
    evaluated = _evaluated()
    recommendation = retrain_recommendation(alert_table(evaluated), ["test", "drift"], 1)
    report = drift_report(evaluated, recommendation, "transformer", ["test", "drift"], {"reference_window": "train"})
    json.loads(json.dumps(report, allow_nan=False))  # NaN became null
    assert report["recommendation"] == "retrain"
    drift = report["windows"]["drift"]
    assert drift["decision"] == "retrain" and drift["alerts"] == 1 and drift["warnings"] == 1
    assert drift["features"]["flagged_sources"] == ["category", "platform"]
    assert drift["features"]["report_only_past_threshold"] == ["category_ctr"]
    assert drift["features"]["max_psi"] == {"feature": "platform_idx", "value": 0.3}
    assert drift["performance"]["auc_drop"]["value"] is None
    assert report["windows"]["test"]["label"]["ctr_change"]["reference"] == 0.035


def test_metrics_are_flat_numbers_per_window():
    metrics = drift_metrics(_evaluated())
    assert metrics == {
        "test_alerts": 0.0,
        "test_warnings": 0.0,
        "test_max_feature_psi": 0.01,
        "test_label_ctr_change": 0.01,
        "drift_alerts": 1.0,
        "drift_warnings": 1.0,
        "drift_max_feature_psi": 0.3,
    }


def test_plots_have_one_panel_per_window_with_data():
    evaluated = _evaluated()
    assert len(psi_bars(evaluated, ["test", "drift", "later"], 0.1, 0.25).axes) == 2
    rng = np.random.default_rng(0)
    scored = {name: window(rng, 2_000)[["pctr", "click"]] for name in ("train", "valid", "test", "drift")}
    assert len(score_histograms(scored, "train", ["test", "drift"], 30).axes) == 2
    reliability = reliability_curves(scored, ["valid", "test", "drift"], 5)
    assert len(reliability.axes[0].get_lines()) == 4  # the diagonal and three windows
    assert len(score_histograms({"test": scored["test"]}, "train", ["test"], 30).axes) == 1  # a notice
