"""The template's calibrate node: each split's rows through the calibrator, with their cold-start flags."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.models.calibration import fit_calibrator
from adrank_pipelines.pipelines.zoo_nodes import calibrate


def _cold_start_calibrator():
    # Cold-start ads under-predicted by 0.6x, as the default world's models under-predict them.
    rng = np.random.default_rng(0)
    truth = 1 / (1 + np.exp(-rng.normal(-3.3, 0.5, 150_000)))
    cold = rng.uniform(size=truth.size) < 0.1
    labels = (rng.uniform(size=truth.size) < truth).astype(int)
    calibrator = fit_calibrator(labels, np.where(cold, 0.6 * truth, truth), "platt_cold_start", cold)
    assert calibrator.reads_cold_start
    return calibrator


def test_the_same_raw_score_is_raised_for_a_cold_start_ad_of_any_split():
    calibrator = _cold_start_calibrator()
    # impression 2 is in two splits (ids are unique per split only); its flag differs between them.
    splits = {
        "train": pd.DataFrame({"impression_id": [1, 2], "is_cold_start_ad": [False, False]}),
        "test": pd.DataFrame({"impression_id": [2, 3], "is_cold_start_ad": [True, False]}),
    }
    predictions = pd.DataFrame(
        {"impression_id": [2, 1, 3, 2], "split": ["test", "train", "test", "train"], "pctr": [0.02] * 4}
    )
    calibrated = calibrate(predictions, calibrator, **splits)

    assert calibrated[["impression_id", "split"]].equals(predictions[["impression_id", "split"]])
    cold_score, *known_scores = calibrated["pctr"].to_numpy()
    assert known_scores == pytest.approx([known_scores[0]] * 3, abs=1e-15)
    assert cold_score / known_scores[0] == pytest.approx(1 / 0.6, rel=0.1)


def test_a_prediction_without_a_flag_in_the_model_inputs_is_an_error():
    predictions = pd.DataFrame({"impression_id": [1, 9], "split": ["valid", "valid"], "pctr": [0.02, 0.03]})
    valid = pd.DataFrame({"impression_id": [1], "is_cold_start_ad": [False]})
    with pytest.raises(ValueError, match="lack the 'is_cold_start_ad' flag"):
        calibrate(predictions, _cold_start_calibrator(), valid=valid)
