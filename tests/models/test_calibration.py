import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.models.calibration import calibrate, fit_calibrator, fit_calibrator_on_frame
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
    calibrated = calibrate(fit_calibrator_on_frame(frame, labelled), frame)
    assert calibrated.columns.tolist() == ["impression_id", "pctr"]
    assert abs(calibration_ratio(labels, calibrated["pctr"]) - 1) < 0.02
