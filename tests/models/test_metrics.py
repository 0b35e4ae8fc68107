import numpy as np
import pytest
from sklearn.metrics import log_loss, roc_auc_score

from adrank_pipelines.models.metrics import (
    auc,
    calibration_ratio,
    expected_calibration_error,
    group_auc,
    logloss,
    normalized_entropy,
    reliability_bins,
)


def test_auc_hand_computed_with_a_tie():
    # Pairs (pos, neg): (0.8,0.1) win, (0.8,0.4) win, (0.4,0.1) win, (0.4,0.4) tie -> 3.5 / 4.
    assert auc([1, 0, 1, 0], [0.8, 0.1, 0.4, 0.4]) == pytest.approx(0.875)


def test_auc_and_logloss_match_sklearn():
    rng = np.random.default_rng(0)
    p = rng.uniform(0.01, 0.5, 5000)
    y = (rng.uniform(size=5000) < p).astype(int)
    assert auc(y, p) == pytest.approx(roc_auc_score(y, p))
    assert logloss(y, p) == pytest.approx(log_loss(y, p))


def test_logloss_hand_computed():
    assert logloss([1, 0], [0.5, 0.2]) == pytest.approx(-(np.log(0.5) + np.log(0.8)) / 2)


def test_auc_of_a_single_class_is_nan():
    assert np.isnan(auc([0, 0, 0], [0.1, 0.2, 0.3]))


def test_normalized_entropy_of_the_base_rate_predictor_is_one():
    y = np.array([1, 0, 0, 0, 1, 0, 0, 0, 0, 0])
    assert normalized_entropy(y, np.full(10, 0.2)) == pytest.approx(1.0)
    assert normalized_entropy(y, np.where(y == 1, 0.6, 0.1)) < 1.0


def test_calibration_ratio():
    assert calibration_ratio([1, 0, 0, 0], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(2.0)


@pytest.mark.parametrize("binning", ["equal_mass", "equal_width"])
def test_ece_of_a_calibrated_predictor_is_near_zero_and_of_a_doubled_one_is_not(binning):
    rng = np.random.default_rng(1)
    p = rng.uniform(0.0, 0.3, 400_000)
    y = rng.uniform(size=p.size) < p
    assert expected_calibration_error(y, p, 10, binning) < 0.003
    assert expected_calibration_error(y, np.minimum(2 * p, 1.0), 10, binning) > 0.1


def test_equal_mass_bins_hold_equal_counts():
    bins = reliability_bins(np.zeros(100), np.linspace(0, 1, 100), n_bins=4, binning="equal_mass")
    assert bins["count"].tolist() == [25, 25, 25, 25]


def _group_auc_by_loop(y, s, g):
    aucs, weights = [], []
    for group in np.unique(g):
        rows = g == group
        if 0 < y[rows].sum() < rows.sum():
            aucs.append(roc_auc_score(y[rows], s[rows]))
            weights.append(rows.sum())
    return np.average(aucs, weights=weights), len(aucs)


def test_group_auc_matches_a_loop_over_users_with_ties():
    rng = np.random.default_rng(2)
    n = 3000
    groups = rng.integers(0, 150, n)
    scores = rng.integers(0, 8, n) / 8.0  # coarse scores: many ties inside a user
    labels = (rng.uniform(size=n) < 0.2 + 0.5 * scores).astype(int)
    value, users = group_auc(labels, scores, groups)
    expected_value, expected_users = _group_auc_by_loop(labels, scores, groups)
    assert value == pytest.approx(expected_value)
    assert users == expected_users


def test_group_auc_without_any_mixed_group_is_nan():
    value, users = group_auc([1, 1, 0, 0], [0.1, 0.2, 0.3, 0.4], ["a", "a", "b", "b"])
    assert np.isnan(value) and users == 0
