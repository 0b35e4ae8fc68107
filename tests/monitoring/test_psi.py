"""PSI and its binnings against hand-computed cases and scipy's relative entropy."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import entropy

from adrank_pipelines.monitoring.psi import CategoricalBinning, NumericBinning, population_stability_index


def test_psi_of_a_hand_computed_shift():
    # (0.25 - 0.5) ln(0.25 / 0.5) + (0.75 - 0.5) ln(0.75 / 0.5)
    expected = 0.25 * math.log(2.0) + 0.25 * math.log(1.5)
    assert population_stability_index([50, 50], [25, 75]) == pytest.approx(expected, rel=1e-12)
    assert population_stability_index([0.5, 0.5], [0.25, 0.75]) == pytest.approx(expected, rel=1e-12)


def test_an_empty_bin_costs_a_finite_penalty_set_by_the_floor():
    # reference shares [1, 0] floor to [1, 1e-4]; current [0.9, 0.1]
    expected = (0.9 - 1.0) * math.log(0.9) + (0.1 - 1e-4) * math.log(0.1 / 1e-4)
    assert population_stability_index([100, 0], [90, 10], share_floor=1e-4) == pytest.approx(expected, rel=1e-12)


def test_psi_is_the_symmetric_relative_entropy_without_empty_bins():
    rng = np.random.default_rng(0)
    reference, current = rng.integers(1, 1000, 12), rng.integers(1, 1000, 12)
    p, q = reference / reference.sum(), current / current.sum()
    assert population_stability_index(reference, current) == pytest.approx(entropy(q, p) + entropy(p, q), rel=1e-10)


def test_identical_distributions_have_zero_psi():
    assert population_stability_index([3, 0, 7, 1], [6, 0, 14, 2]) == 0.0


def test_psi_needs_the_same_bins():
    with pytest.raises(ValueError, match="same bins"):
        population_stability_index([1, 2], [1, 2, 3])


def test_numeric_bins_are_reference_quantiles_and_missing_values_get_their_own_bin():
    binning = NumericBinning.fit(np.arange(100, dtype=float), n_bins=4)
    np.testing.assert_allclose(binning.edges, [24.75, 49.5, 74.25])
    # bins: below the first edge .. above the last, then missing
    counts = binning.counts(np.array([-5.0, 0.0, 24.75, 60.0, 1e6, np.nan, np.nan]))
    np.testing.assert_array_equal(counts, [2, 1, 1, 1, 2])


def test_mass_points_merge_repeated_edges():
    # 80 zeros, then 1, 2, 3, 4 five times each: the 10%..70% quantiles are all 0 and collapse into one edge
    reference = np.array([0.0] * 80 + [1.0] * 5 + [2.0] * 5 + [3.0] * 5 + [4.0] * 5)
    binning = NumericBinning.fit(reference, n_bins=10)
    np.testing.assert_allclose(binning.edges, [0.0, 0.2, 2.1])
    np.testing.assert_array_equal(binning.counts(reference), [0, 80, 10, 10, 0])


def test_categorical_bins_keep_the_top_values_and_pool_the_rest():
    reference = pd.Series([5] * 50 + [6] * 30 + [7] * 10 + [8] * 10 + [1] * 20)
    binning = CategoricalBinning.fit(reference, max_categories=2, unseen_codes={1})
    counts, unseen = binning.counts(reference)
    assert counts.tolist() == [50, 30, 20]  # 5, 6, then 7 and 8 pooled; the OOV code 1 is no bin
    assert unseen == 20
    counts, unseen = binning.counts(pd.Series([5, 7, 9, 9, 1]))
    assert counts.tolist() == [1, 0, 1] and unseen == 3  # 9 is new, 1 is out of vocabulary


def test_categorical_ties_are_broken_by_value_whatever_the_row_order():
    values = pd.Series([3, 3, 2, 2, 4])
    first = CategoricalBinning.fit(values, max_categories=1)
    second = CategoricalBinning.fit(values.iloc[::-1].reset_index(drop=True), max_categories=1)
    assert first.known_values.tolist() == second.known_values.tolist() == [2, 3, 4]
    assert first.counts(values)[0].tolist() == [2, 3]


def test_categorical_psi_of_a_hand_computed_mix_change():
    reference = pd.Series(["ios"] * 40 + ["android"] * 45 + ["web"] * 15)
    current = pd.Series(["ios"] * 30 + ["android"] * 35 + ["web"] * 35)
    binning = CategoricalBinning.fit(reference, max_categories=10)
    psi = population_stability_index(binning.counts(reference)[0], binning.counts(current)[0])
    shares = {"android": (0.45, 0.35), "ios": (0.4, 0.3), "web": (0.15, 0.35)}
    assert psi == pytest.approx(sum((c - r) * math.log(c / r) for r, c in shares.values()), rel=1e-12)
