import json

import numpy as np
import pytest
from matplotlib.figure import Figure

from adrank_pipelines.models.evaluation import evaluation_report, headroom_captured, mlflow_metrics
from adrank_pipelines.models.evaluation_config import EvaluationParams
from adrank_pipelines.models.metrics import auc
from adrank_pipelines.models.report_plots import auc_bars, reliability_diagram
from tests.models.ranker_fixtures import make_ctr_world, noisy_score


@pytest.fixture(scope="module")
def toy_report():
    frames, truth = make_ctr_world(rows_per_day=8000)
    test = frames["test"]
    models = {"good": noisy_score(truth, test, noise=0.4), "weak": noisy_score(truth, test, noise=1.5, seed=2)}
    baseline = noisy_score(truth, test, noise=2.5, seed=3)
    seen_before = np.concatenate([frames["train"]["ad_id"].unique(), frames["valid"]["ad_id"].unique()])
    report = evaluation_report(test, truth, baseline, models, EvaluationParams(n_bins=10), seen_before)
    return report, test, truth, models, baseline


def test_headroom_formula():
    assert headroom_captured(0.7, 0.6, 0.8) == pytest.approx(0.5)
    assert np.isnan(headroom_captured(0.7, 0.8, 0.8))


def test_report_scores_every_model_beside_the_oracle_and_the_baseline(toy_report):
    report, test, truth, models, _baseline = toy_report
    overall = report["subsets"]["all"]
    assert list(overall["metrics"]) == ["baseline", "good", "weak", "oracle"]
    true_pctr = test[["impression_id"]].merge(truth)["true_pctr"]
    assert overall["metrics"]["oracle"]["auc"] == pytest.approx(auc(test["click"], true_pctr))
    assert overall["metrics"]["good"]["auc"] == pytest.approx(auc(test["click"], models["good"]["pctr"]))
    metrics = overall["metrics"]
    base_auc = metrics["baseline"]["auc"]
    expected = (metrics["good"]["auc"] - base_auc) / (metrics["oracle"]["auc"] - base_auc)
    assert overall["headroom_captured"]["good"] == pytest.approx(expected)
    assert 0 < overall["headroom_captured"]["weak"] < overall["headroom_captured"]["good"] < 1
    assert "oracle" not in overall["headroom_captured"]
    assert abs(metrics["oracle"]["calibration_ratio"] - 1) < 0.1
    assert overall["rows"] == len(test)


def test_report_has_the_cold_start_subsets_and_is_json(toy_report):
    report, test, *_ = toy_report
    cold = report["subsets"]["cold_start"]
    assert cold["rows"] == int(test["is_cold_start_ad"].sum()) > 0
    # In the toy world the flagged ads are exactly those first shown on the test day.
    assert report["subsets"]["new_on_test_day"]["rows"] == cold["rows"]
    assert set(cold["metrics"]) == {"baseline", "good", "weak", "oracle"}
    json.dumps(report)


def test_mlflow_metrics_are_flat_and_named_by_subset_and_model(toy_report):
    report = toy_report[0]
    flat = mlflow_metrics(report)
    assert flat["test_auc_good"] == report["subsets"]["all"]["metrics"]["good"]["auc"]
    assert flat["test_cold_start_auc_oracle"] == report["subsets"]["cold_start"]["metrics"]["oracle"]["auc"]
    assert "test_headroom_captured_weak" in flat
    assert all(isinstance(value, float) for value in flat.values())


def test_missing_predictions_and_reserved_names_fail_loudly(toy_report):
    _, test, truth, models, baseline = toy_report
    with pytest.raises(ValueError, match="without a prediction"):
        evaluation_report(test, truth, baseline, {"good": models["good"].iloc[5:]}, EvaluationParams())
    with pytest.raises(ValueError, match="reserved"):
        evaluation_report(test, truth, baseline, {"oracle": models["good"]}, EvaluationParams())


def test_figures_are_drawn(toy_report):
    report = toy_report[0]
    for figure in (reliability_diagram(report), auc_bars(report)):
        assert isinstance(figure, Figure)
        assert figure.axes and all(axes.has_data() for axes in figure.axes)
