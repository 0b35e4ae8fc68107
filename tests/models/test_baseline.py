from adrank_pipelines.models.metrics import auc, calibration_ratio
from adrank_pipelines.models.zoo.baseline.regression import fit_baseline, predict_baseline
from tests.models.ranker_fixtures import make_ctr_world


def test_baseline_learns_from_ad_ctr_and_position():
    frames, _ = make_ctr_world()
    baseline = fit_baseline(frames["train"])
    predictions = predict_baseline(baseline, frames["valid"])
    assert predictions.columns.tolist() == ["impression_id", "pctr"]
    assert predictions["impression_id"].tolist() == frames["valid"]["impression_id"].tolist()
    assert auc(frames["valid"]["click"], predictions["pctr"]) > 0.6
    assert abs(calibration_ratio(frames["valid"]["click"], predictions["pctr"]) - 1) < 0.15


def test_baseline_scores_positions_unseen_in_train():
    frames, _ = make_ctr_world()
    baseline = fit_baseline(frames["train"])
    predictions = predict_baseline(baseline, frames["test"].assign(position=9))
    assert predictions["pctr"].between(0, 1).all()
