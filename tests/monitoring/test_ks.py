"""The KS statistic and p-value against a hand-computed case and scipy.stats.ks_2samp."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import ks_2samp

from adrank_pipelines.monitoring.ks import ks_test, sorted_finite


def test_ks_of_a_hand_computed_case():
    # F_ref - F_cur is 0.25, 0.5, 0.5, 0.5, 0.25, 0 at 1..6: D = 0.5
    result = ks_test(sorted_finite([1, 2, 3, 4]), [3, 4, 5, 6])
    assert result.statistic == pytest.approx(0.5)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ks_matches_scipy_with_ties_and_shifts(seed):
    rng = np.random.default_rng(seed)
    reference = np.round(rng.normal(0.0, 1.0, 4000), 1)  # rounded: many ties
    current = np.round(rng.normal(0.05 * seed, 1.1, 1500), 1)
    ours = ks_test(sorted_finite(reference), current)
    theirs = ks_2samp(reference, current, method="asymp")
    assert ours.statistic == pytest.approx(theirs.statistic, abs=1e-12)
    # the limiting distribution: a few percent above scipy's finite-n p-value at this size (8% far in the tail)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=0.1, abs=1e-12)
    assert ours.p_value >= theirs.pvalue * 0.999


@pytest.mark.parametrize(
    ("reference", "current"),
    [
        ([5.0] * 4, [5.0] * 3),
        ([1.0, 2.0], [3.0, 4.0]),
        ([3.0, 4.0], [1.0, 2.0]),
        ([1.0, 1.0, 2.0], [1.0, 2.0, 2.0, 2.0]),
    ],
)
def test_ks_statistic_of_edge_cases_matches_scipy(reference, current):
    ours = ks_test(sorted_finite(reference), current).statistic
    assert ours == pytest.approx(ks_2samp(reference, current).statistic, abs=1e-12)


small_integers = st.lists(st.integers(0, 6).map(float), min_size=1, max_size=40)


@settings(max_examples=200, deadline=None)
@given(small_integers, small_integers)
def test_ks_statistic_equals_scipys_on_any_tied_samples(reference, current):
    ours = ks_test(sorted_finite(reference), current).statistic
    assert ours == pytest.approx(ks_2samp(reference, current).statistic, abs=1e-12)


def test_identical_windows_have_zero_ks_and_p_value_one():
    values = np.random.default_rng(3).exponential(size=2000)
    result = ks_test(sorted_finite(values), values[::-1])
    assert result.statistic == 0.0
    assert result.p_value == pytest.approx(1.0)


def test_missing_values_are_ignored_and_an_empty_side_gives_nan():
    result = ks_test(sorted_finite([1.0, np.nan, 2.0]), [1.0, 2.0, np.nan])
    assert result.statistic == 0.0
    empty = ks_test(sorted_finite([1.0, 2.0]), [np.nan])
    assert np.isnan(empty.statistic) and np.isnan(empty.p_value)
