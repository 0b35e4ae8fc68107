"""The noise tests behind the alert rules, against scipy and textbook values."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.stats import chi2_contingency, ttest_ind

from adrank_pipelines.monitoring.significance import (
    auc_drop_p_value,
    auc_standard_error,
    calibration_ratio_p_value,
    mean_increase_p_value,
    two_proportion_p_value,
)


def test_two_proportion_test_equals_the_uncorrected_chi_square_test():
    table = np.array([[350, 10_000 - 350], [420, 10_000 - 420]])
    expected = chi2_contingency(table, correction=False).pvalue
    assert two_proportion_p_value(350, 10_000, 420, 10_000) == pytest.approx(expected, rel=1e-9)


def test_hanley_mcneil_standard_error_of_a_textbook_case():
    # Hanley & McNeil (1982): AUC 0.8 with 50 positives and 50 negatives
    q1, q2 = 0.8 / 1.2, 2 * 0.64 / 1.8
    expected = np.sqrt((0.16 + 49 * (q1 - 0.64) + 49 * (q2 - 0.64)) / 2500)
    assert auc_standard_error(0.8, 50, 50) == pytest.approx(expected, rel=1e-12)
    assert auc_standard_error(0.8, 50, 50) == pytest.approx(0.0442, abs=5e-4)


def test_auc_drop_is_one_sided():
    assert auc_drop_p_value(0.70, 0.01, 0.70, 0.01) == pytest.approx(0.5)
    assert auc_drop_p_value(0.72, 0.005, 0.70, 0.005) < 0.01
    assert auc_drop_p_value(0.70, 0.005, 0.72, 0.005) > 0.99


def test_mean_increase_matches_welch_at_large_samples():
    rng = np.random.default_rng(0)
    a, b = rng.exponential(0.15, 20_000), rng.exponential(0.152, 20_000)
    expected = ttest_ind(b, a, equal_var=False, alternative="greater").pvalue
    assert mean_increase_p_value(a, b) == pytest.approx(expected, rel=1e-3)


def test_calibration_ratio_test_reads_the_click_counts():
    assert calibration_ratio_p_value(100, 1.0, 100, 1.0) == pytest.approx(1.0)
    assert calibration_ratio_p_value(100, 1.0, 100, 1.2) > 0.05  # 200 clicks cannot tell 20% apart
    assert calibration_ratio_p_value(10_000, 1.0, 10_000, 1.1) < 1e-6
    assert np.isnan(calibration_ratio_p_value(0, 1.0, 100, 1.0))
