"""Edge cases of the offline CTR metrics on random inputs (hypothesis): no rows, one row, a single
class, all-equal and tied predictions. An undefined metric is NaN, never inf, a warning or an error."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from adrank_pipelines.models.metrics import (
    PROBABILITY_EPSILON,
    auc,
    calibration_ratio,
    expected_calibration_error,
    group_auc,
    logloss,
    normalized_entropy,
    reliability_bins,
)

# A division by zero inside numpy must fail the test rather than pass as a warning and a NaN or inf.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

_FAST = settings(max_examples=60, deadline=None)
BINNINGS = ["equal_mass", "equal_width"]
# A coarse grid of probabilities, 0 and 1 included, so that ties are the rule.
GRID = [0.0, 0.05, 0.1, 0.25, 0.5, 0.9, 1.0]


@st.composite
def scored_rows(draw: st.DrawFn, min_size: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """(labels, probabilities) of equal length, maybe empty, maybe a single class."""
    n = draw(st.integers(min_size, 40))
    labels = draw(st.lists(st.sampled_from([0, 1]), min_size=n, max_size=n))
    probabilities = draw(st.lists(st.sampled_from(GRID), min_size=n, max_size=n))
    return np.array(labels, dtype=np.float64), np.array(probabilities, dtype=np.float64)


def _both_classes(labels: np.ndarray) -> bool:
    return bool(labels.size) and 0 < labels.sum() < labels.size


# --- AUC ------------------------------------------------------------------------------------------


@_FAST
@given(scored_rows())
def test_auc_is_sklearns_with_both_classes_and_nan_otherwise(rows: tuple[np.ndarray, np.ndarray]):
    labels, scores = rows
    value = auc(labels, scores)
    if not _both_classes(labels):
        assert math.isnan(value)
        return
    assert value == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)
    assert auc(1 - labels, scores) == pytest.approx(1.0 - value, abs=1e-12), "swapping the classes mirrors the AUC"


@_FAST
@given(st.integers(1, 15), st.integers(1, 15), st.sampled_from(GRID))
def test_auc_of_separated_scores_is_one_and_of_all_equal_scores_one_half(positives: int, negatives: int, tie: float):
    labels = np.r_[np.ones(positives), np.zeros(negatives)]
    separated = np.r_[np.full(positives, 0.8), np.linspace(0.0, 0.5, negatives)]
    assert auc(labels, separated) == 1.0
    assert auc(labels, 1.0 - separated) == 0.0
    assert auc(labels, np.full(labels.size, tie)) == 0.5


@pytest.mark.parametrize("labels", [[], [1], [0], [1, 1, 1], [0, 0]])
def test_auc_of_no_rows_or_a_single_class_is_nan(labels: list[int]):
    assert math.isnan(auc(labels, np.full(len(labels), 0.3)))


@_FAST
@given(scored_rows(), st.integers(1, 4))
def test_group_auc_is_the_row_weighted_mean_of_the_groups_with_both_classes(
    rows: tuple[np.ndarray, np.ndarray], n_groups: int
):
    labels, scores = rows
    groups = np.arange(labels.size) % n_groups
    value, counted = group_auc(labels, scores, groups)
    mixed = [g for g in range(n_groups) if _both_classes(labels[groups == g])]
    assert counted == len(mixed)
    if not mixed:
        assert math.isnan(value)
        return
    weights = [int((groups == g).sum()) for g in mixed]
    expected = np.average([auc(labels[groups == g], scores[groups == g]) for g in mixed], weights=weights)
    assert value == pytest.approx(expected, abs=1e-12)


@_FAST
@given(scored_rows())
def test_group_auc_of_a_single_group_is_the_auc(rows: tuple[np.ndarray, np.ndarray]):
    labels, scores = rows
    value, counted = group_auc(labels, scores, np.zeros(labels.size, dtype=np.int64))
    if _both_classes(labels):
        assert counted == 1 and value == pytest.approx(auc(labels, scores), abs=1e-12)
    else:
        assert counted == 0 and math.isnan(value)


@pytest.mark.parametrize(("labels", "groups"), [([], []), ([1], ["a"]), ([1, 0], ["a", "b"])])
def test_group_auc_without_a_group_holding_both_classes_is_nan(labels: list[int], groups: list[str]):
    value, counted = group_auc(labels, np.full(len(labels), 0.5), groups)
    assert math.isnan(value) and counted == 0


# --- logloss and normalised entropy ---------------------------------------------------------------


@_FAST
@given(scored_rows())
def test_logloss_is_finite_and_non_negative_and_nan_on_no_rows(rows: tuple[np.ndarray, np.ndarray]):
    labels, probabilities = rows
    value = logloss(labels, probabilities)
    if labels.size == 0:
        assert math.isnan(value)
        return
    assert math.isfinite(value) and value >= 0.0
    assert value <= -math.log(PROBABILITY_EPSILON) + 1e-9, "the clipping bounds a confident miss"


@_FAST
@given(scored_rows(min_size=1))
def test_perfect_predictions_cost_only_the_clipping_and_a_coin_costs_ln_2(rows: tuple[np.ndarray, np.ndarray]):
    labels, _ = rows
    assert logloss(labels, labels) == pytest.approx(-math.log1p(-PROBABILITY_EPSILON), rel=1e-6)
    assert logloss(labels, np.full(labels.size, 0.5)) == pytest.approx(math.log(2.0))


@_FAST
@given(scored_rows())
def test_normalized_entropy_is_nan_without_both_classes_and_one_for_the_base_rate(rows: tuple[np.ndarray, np.ndarray]):
    labels, probabilities = rows
    value = normalized_entropy(labels, probabilities)
    if not _both_classes(labels):
        assert math.isnan(value)
        return
    assert math.isfinite(value) and value >= 0.0
    assert normalized_entropy(labels, np.full(labels.size, labels.mean())) == pytest.approx(1.0, rel=1e-9)


# --- calibration ----------------------------------------------------------------------------------


@_FAST
@given(scored_rows())
def test_calibration_ratio_is_nan_without_a_click_and_finite_otherwise(rows: tuple[np.ndarray, np.ndarray]):
    labels, probabilities = rows
    value = calibration_ratio(labels, probabilities)
    if labels.sum() == 0:
        assert math.isnan(value)
        return
    assert math.isfinite(value) and value >= 0.0
    assert value == pytest.approx(probabilities.mean() / labels.mean())
    assert calibration_ratio(labels, np.full(labels.size, labels.mean())) == pytest.approx(1.0)


@pytest.mark.parametrize(("labels", "probabilities"), [([], []), ([0], [0.4]), ([0, 0, 0], [0.0, 0.0, 0.0])])
def test_calibration_ratio_of_no_rows_or_no_clicks_is_nan(labels: list[int], probabilities: list[float]):
    assert math.isnan(calibration_ratio(labels, probabilities))


def test_calibration_ratio_of_all_zero_predictions_with_clicks_is_zero():
    assert calibration_ratio([1, 0], [0.0, 0.0]) == 0.0


@_FAST
@given(scored_rows(), st.integers(1, 12), st.sampled_from(BINNINGS))
def test_reliability_bins_count_every_row_once(rows: tuple[np.ndarray, np.ndarray], n_bins: int, binning):
    labels, probabilities = rows
    bins = reliability_bins(labels, probabilities, n_bins, binning)
    assert bins.columns.tolist() == ["bin", "count", "mean_predicted", "observed_rate"]
    assert bins["count"].sum() == labels.size
    assert (bins["count"] > 0).all()
    assert bins["bin"].is_monotonic_increasing and bins["bin"].between(0, n_bins - 1).all()
    assert bins["observed_rate"].between(0.0, 1.0).all()
    assert bins["mean_predicted"].between(0.0, 1.0).all()
    assert bins["observed_rate"].mul(bins["count"]).sum() == pytest.approx(labels.sum())


@_FAST
@given(scored_rows(), st.integers(1, 12), st.sampled_from(BINNINGS), st.randoms(use_true_random=False))
def test_tied_predictions_share_a_bin_so_the_bins_do_not_depend_on_row_order(
    rows: tuple[np.ndarray, np.ndarray], n_bins: int, binning, random
):
    labels, probabilities = rows
    bins = reliability_bins(labels, probabilities, n_bins, binning)
    # One mean prediction per distinct prediction at most: no run of ties is split over two bins.
    assert bins["mean_predicted"].nunique() == len(bins)
    order = list(range(labels.size))
    random.shuffle(order)
    shuffled = reliability_bins(labels[order], probabilities[order], n_bins, binning)
    pd.testing.assert_frame_equal(shuffled, bins, check_exact=False, rtol=1e-12)


@_FAST
@given(st.integers(1, 40), st.integers(0, 40), st.integers(1, 20), st.sampled_from(BINNINGS))
def test_ece_of_a_calibrated_constant_is_zero(rows: int, clicks: int, n_bins: int, binning):
    clicks = min(clicks, rows)
    labels = np.r_[np.ones(clicks), np.zeros(rows - clicks)]
    rate = clicks / rows
    assert expected_calibration_error(labels, np.full(rows, rate), n_bins, binning) == pytest.approx(0.0, abs=1e-12)
    assert len(reliability_bins(labels, np.full(rows, rate), n_bins, binning)) == 1
    assert expected_calibration_error(labels, np.full(rows, 1.0 - rate), n_bins, binning) == pytest.approx(
        abs(1.0 - 2.0 * rate), abs=1e-12
    )


@_FAST
@given(scored_rows(), st.integers(1, 12), st.sampled_from(BINNINGS))
def test_ece_is_in_the_unit_interval_and_nan_on_no_rows(rows: tuple[np.ndarray, np.ndarray], n_bins: int, binning):
    labels, probabilities = rows
    value = expected_calibration_error(labels, probabilities, n_bins, binning)
    if labels.size == 0:
        assert math.isnan(value)
        return
    assert 0.0 <= value <= 1.0
    assert value >= abs(probabilities.mean() - labels.mean()) - 1e-12, "binning never hides the global gap"


def test_undefined_metrics_on_no_rows_are_nan_and_bins_are_empty():
    empty = np.zeros(0)
    assert math.isnan(expected_calibration_error(empty, empty))
    assert math.isnan(logloss(empty, empty))
    assert math.isnan(normalized_entropy(empty, empty))
    bins = reliability_bins(empty, empty)
    assert bins.empty and bins.columns.tolist() == ["bin", "count", "mean_predicted", "observed_rate"]


def test_one_row():
    assert expected_calibration_error([1], [0.25]) == pytest.approx(0.75)
    assert logloss([1], [0.25]) == pytest.approx(-math.log(0.25))
    assert reliability_bins([1], [0.25], n_bins=4)["bin"].tolist() == [0]
    assert reliability_bins([1], [0.25], n_bins=4, binning="equal_width")["bin"].tolist() == [1]
