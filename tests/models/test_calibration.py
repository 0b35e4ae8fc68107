import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.models.calibration import (
    DEFAULT_MIN_COLD_START_CLICKS,
    calibrated_pctr,
    fit_calibrator,
    fit_calibrator_on_frame,
)
from adrank_pipelines.models.metrics import auc, calibration_ratio


def _miscalibrated(seed: int, n: int = 300_000) -> tuple[np.ndarray, np.ndarray]:
    """Labels drawn from p, and an over-confident, 2.5x inflated prediction of them."""
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-rng.normal(-3.5, 0.8, n)))
    labels = (rng.uniform(size=n) < p).astype(int)
    logit = np.log(p / (1 - p))
    return labels, 1 / (1 + np.exp(-(1.6 * logit + 4.5)))


@pytest.mark.parametrize("method", ["platt", "isotonic"])
def test_calibration_fitted_on_one_day_brings_the_next_within_five_percent(method):
    valid_labels, valid_scores = _miscalibrated(seed=0)
    test_labels, test_scores = _miscalibrated(seed=1)
    assert calibration_ratio(test_labels, test_scores) > 1.5
    calibrator = fit_calibrator(valid_labels, valid_scores, method)
    calibrated = calibrator.transform(test_scores)
    assert abs(calibration_ratio(test_labels, calibrated) - 1) < 0.05
    assert auc(test_labels, calibrated) == pytest.approx(auc(test_labels, test_scores), abs=0.01)


def test_platt_keeps_the_ranking_exactly():
    labels, scores = _miscalibrated(seed=2)
    calibrated = fit_calibrator(labels, scores, "platt").transform(scores)
    assert auc(labels, calibrated) == pytest.approx(auc(labels, scores), abs=1e-12)


def test_calibrating_a_predictions_frame():
    labels, scores = _miscalibrated(seed=3, n=20_000)
    frame = pd.DataFrame({"impression_id": np.arange(len(labels)), "pctr": scores})
    labelled = pd.DataFrame({"impression_id": np.arange(len(labels)), "click": labels})
    calibrated = calibrated_pctr(fit_calibrator_on_frame(frame, labelled), frame["pctr"], frame, "frame")
    assert abs(calibration_ratio(labels, calibrated) - 1) < 0.02


def _with_cold_start_ads(seed: int, n: int = 200_000, cold_share: float = 0.05) -> tuple[np.ndarray, ...]:
    """Labels, calibrated scores for known ads and scores at 0.65x the truth for cold-start ads (as the
    default world's models under-predict them), and the cold-start flags."""
    rng = np.random.default_rng(seed)
    p = 1 / (1 + np.exp(-rng.normal(-3.3, 0.6, n)))
    labels = (rng.uniform(size=n) < p).astype(int)
    cold = rng.uniform(size=n) < cold_share
    return labels, np.where(cold, 0.65 * p, p), cold


def test_platt_by_cold_start_calibrates_cold_start_ads_that_plain_platt_leaves_under_predicted():
    valid_labels, valid_scores, valid_cold = _with_cold_start_ads(seed=4)
    test_labels, test_scores, test_cold = _with_cold_start_ads(seed=5)
    plain = fit_calibrator(valid_labels, valid_scores, "platt").transform(test_scores)
    by_cold_start = fit_calibrator(valid_labels, valid_scores, "platt_cold_start", valid_cold)
    calibrated = by_cold_start.transform(test_scores, test_cold)

    assert calibration_ratio(test_labels[test_cold], plain[test_cold]) < 0.75
    assert abs(calibration_ratio(test_labels[test_cold], calibrated[test_cold]) - 1) < 0.08
    assert abs(calibration_ratio(test_labels[~test_cold], calibrated[~test_cold]) - 1) < 0.03
    # Within each segment the map is monotone: the order of cold-start ads among themselves is kept.
    assert auc(test_labels[test_cold], calibrated[test_cold]) == pytest.approx(
        auc(test_labels[test_cold], test_scores[test_cold]), abs=1e-12
    )


def test_platt_by_cold_start_without_cold_start_ads_is_plain_platt():
    labels, scores, _ = _with_cold_start_ads(seed=6, cold_share=0.0)
    cold = np.zeros(len(labels), dtype=bool)
    calibrator = fit_calibrator(labels, scores, "platt_cold_start", cold)
    assert labels[cold].sum() < DEFAULT_MIN_COLD_START_CLICKS
    assert calibrator.method == "platt" and not calibrator.reads_cold_start
    np.testing.assert_allclose(calibrator.transform(scores), fit_calibrator(labels, scores, "platt").transform(scores))


def test_platt_by_cold_start_names_the_flag_it_lacks():
    labels, scores, cold = _with_cold_start_ads(seed=7, n=60_000)
    with pytest.raises(ValueError, match="is_cold_start_ad"):
        fit_calibrator(labels, scores, "platt_cold_start")
    frame = pd.DataFrame({"impression_id": np.arange(len(labels)), "pctr": scores})
    labelled = pd.DataFrame({"impression_id": np.arange(len(labels)), "click": labels})
    with pytest.raises(ValueError, match=r"platt_cold_start.*\['is_cold_start_ad'\]"):
        fit_calibrator_on_frame(frame, labelled, "platt_cold_start")
    calibrator = fit_calibrator_on_frame(frame, labelled.assign(is_cold_start_ad=cold), "platt_cold_start")
    assert calibrator.reads_cold_start
    with pytest.raises(ValueError, match=r"dataset 'm\.predictions' has no 'is_cold_start_ad' column"):
        calibrated_pctr(calibrator, scores, frame, "dataset 'm.predictions'")
    with pytest.raises(ValueError, match="needs the 'is_cold_start_ad' flag"):
        calibrator.transform(scores)
