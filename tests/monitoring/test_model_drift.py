"""Prediction, label, calibration and performance drift on windows with known changes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.models.metrics import auc, calibration_ratio, logloss
from adrank_pipelines.monitoring.alerts import apply_rules
from adrank_pipelines.monitoring.model_drift import _row_logloss, model_drift, scored_windows
from adrank_pipelines.monitoring.params import RuleParams
from adrank_pipelines.monitoring.statistics import statistics_frame
from tests.monitoring.drift_windows import window

CURRENT = ("test", "drift")


def _windows(**drift_changes) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(0)
    return {
        "train": window(rng, 40_000),
        "valid": window(rng, 20_000),
        "test": window(rng, 20_000),
        "drift": window(rng, 20_000, **drift_changes),
    }


def _evaluated(windows: dict[str, pd.DataFrame], scored: dict[str, pd.DataFrame] | None = None) -> pd.DataFrame:
    scored = windows if scored is None else scored
    rows = model_drift(scored, windows, "train", "valid", CURRENT, score_bins=10, share_floor=1e-4)
    return apply_rules(statistics_frame(rows), RuleParams()).set_index(["window", "group", "statistic"])


def test_windows_from_the_same_process_raise_no_flag():
    evaluated = _evaluated(_windows())
    assert (evaluated["severity"] == "ok").all(), evaluated.loc[evaluated["severity"] != "ok"]


def test_figures_are_the_shared_metrics_of_each_window():
    windows = _windows()
    evaluated = _evaluated(windows)
    test, valid, train = windows["test"], windows["valid"], windows["train"]
    label = evaluated.loc[("test", "label", "ctr_change")]
    assert label["reference_value"] == pytest.approx(train["click"].mean())
    assert label["value"] == pytest.approx(abs(test["click"].mean() / train["click"].mean() - 1))
    calibration = evaluated.loc[("test", "calibration", "calibration_change")]
    assert calibration["reference_window"] == "valid"
    assert calibration["current_value"] == pytest.approx(calibration_ratio(test["click"], test["pctr"]))
    drop = evaluated.loc[("test", "performance", "auc_drop")]
    assert drop["value"] == pytest.approx(auc(valid["click"], valid["pctr"]) - auc(test["click"], test["pctr"]))
    loss = evaluated.loc[("test", "performance", "logloss_increase")]
    assert loss["current_value"] == pytest.approx(logloss(test["click"], test["pctr"]), rel=1e-12)
    assert _row_logloss(test).mean() == pytest.approx(logloss(test["click"], test["pctr"]), rel=1e-12)


def test_clicks_the_model_cannot_see_are_label_drift_and_miscalibration():
    evaluated = _evaluated(_windows(label_lift=1.5))
    assert evaluated.loc[("drift", "label", "ctr_change"), "severity"] == "alert"
    assert evaluated.loc[("drift", "calibration", "calibration_change"), "severity"] == "alert"
    assert evaluated.loc[("test", "label", "ctr_change"), "severity"] == "ok"
    assert evaluated.loc[("drift", "prediction", "psi"), "severity"] == "ok"  # the scores did not move


def test_a_noisier_model_is_performance_decay():
    evaluated = _evaluated(_windows(score_noise=2.0))
    assert evaluated.loc[("drift", "performance", "auc_drop"), "severity"] == "alert"
    assert evaluated.loc[("drift", "performance", "logloss_increase"), "severity"] in {"warn", "alert"}
    assert evaluated.loc[("drift", "prediction", "psi"), "severity"] in {"warn", "alert"}


def test_statistics_of_unscored_windows_are_left_out():
    windows = _windows()
    evaluated = _evaluated(windows, scored={name: windows[name] for name in ("valid", "test")})
    assert set(evaluated.index.get_level_values("group")) == {"label", "calibration", "performance"}
    assert set(evaluated.xs("calibration", level="group").index.get_level_values("window")) == {"test"}
    assert set(evaluated.xs("label", level="group").index.get_level_values("window")) == {"test", "drift"}


def test_scored_windows_join_scores_to_labels_and_reject_stale_predictions():
    labelled = {
        "test": pd.DataFrame({"impression_id": [1, 2, 3], "click": [0, 1, 0]}),
        "drift": pd.DataFrame({"impression_id": [4], "click": [1]}),
    }
    predictions = pd.DataFrame({"impression_id": [3, 1, 2], "split": "test", "pctr": [0.3, 0.1, 0.2]})
    scored = scored_windows(predictions, labelled)
    assert list(scored) == ["test"]
    assert scored["test"].to_dict("list") == {"pctr": [0.1, 0.2, 0.3], "click": [0, 1, 0]}
    stale = predictions.assign(impression_id=[3, 1, 9])
    with pytest.raises(ValueError, match=r"'lightgbm\.predictions' split 'test' scores 3 rows and matches 2"):
        scored_windows(stale, labelled, dataset="lightgbm.predictions")
    with pytest.raises(KeyError, match=r"lacks column\(s\) \['split'\]"):
        scored_windows(predictions.drop(columns="split"), labelled)
