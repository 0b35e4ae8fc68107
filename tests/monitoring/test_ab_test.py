"""A/B statistics against scipy and hand computation."""

import numpy as np
import pytest
from scipy import stats

from adrank_pipelines.monitoring.ab_test import cuped, relative_lift, two_proportion_z_test, welch_t_test


def test_welch_t_test_matches_scipy():
    rng = np.random.default_rng(0)
    control, treatment = rng.poisson(0.20, 900).astype(float), rng.poisson(0.23, 1100).astype(float)
    ours = welch_t_test(control, treatment)
    theirs = stats.ttest_ind(treatment, control, equal_var=False)
    assert ours.statistic == pytest.approx(theirs.statistic)
    assert ours.p_value == pytest.approx(theirs.pvalue)
    assert ours.degrees_of_freedom == pytest.approx(theirs.df)
    assert ours.difference == pytest.approx(treatment.mean() - control.mean())


def test_two_proportion_z_test_matches_the_chi_square_test_and_hand_rates():
    result = two_proportion_z_test(120, 4000, 150, 4100)
    chi2, p_value, _, _ = stats.chi2_contingency([[120, 3880], [150, 3950]], correction=False)
    assert result["z"] ** 2 == pytest.approx(chi2)
    assert result["p_value"] == pytest.approx(p_value)
    assert result["control_rate"] == pytest.approx(0.03) and result["treatment_rate"] == pytest.approx(150 / 4100)
    se = np.sqrt(0.03 * 0.97 / 4000 + (150 / 4100) * (1 - 150 / 4100) / 4100)
    assert result["ci_high"] - result["ci_low"] == pytest.approx(2 * stats.norm.ppf(0.975) * se)


def test_relative_lift_hand_computed():
    control, treatment = np.array([1.0, 2.0, 3.0, 2.0]), np.array([2.0, 3.0, 4.0, 3.0])
    estimate = relative_lift(control, treatment, alpha=0.05)
    # means 2 and 3, sample variances 2/3 each, n = 4: var = (2/3)/(4*4) + 1.5^2 (2/3)/(4*4).
    se = np.sqrt((2 / 3) / 16 + 2.25 * (2 / 3) / 16)
    assert estimate.lift == pytest.approx(0.5)
    assert estimate.ci_low == pytest.approx(0.5 - 1.959964 * se, rel=1e-6)
    assert estimate.ci_high == pytest.approx(0.5 + 1.959964 * se, rel=1e-6)
    assert estimate.p_value == pytest.approx(2 * stats.norm.sf(0.5 / se))
    assert estimate.covers(0.5) and not estimate.covers(2.0)
    assert (estimate.ci_low > 0) == (estimate.p_value < 0.05)


def test_relative_lift_rejects_a_zero_control_mean_and_tiny_arms():
    with pytest.raises(ValueError, match="positive control mean"):
        relative_lift([0.0, 0.0], [1.0, 2.0])
    with pytest.raises(ValueError, match="at least 2 units"):
        relative_lift([1.0], [1.0, 2.0])


def test_relative_lift_interval_covers_at_the_nominal_rate():
    rng = np.random.default_rng(1)
    covered = [relative_lift(rng.poisson(1.0, 400), rng.poisson(1.1, 400), alpha=0.1).covers(0.1) for _ in range(400)]
    assert np.mean(covered) == pytest.approx(0.9, abs=0.04)


def test_cuped_keeps_the_mean_and_removes_the_explained_variance():
    rng = np.random.default_rng(2)
    covariate = rng.normal(size=5000)
    metric = 2.0 + 0.8 * covariate + rng.normal(scale=0.6, size=5000)
    adjusted, theta = cuped(metric, covariate)
    assert theta == pytest.approx(np.polyfit(covariate, metric, 1)[0])
    assert adjusted.mean() == pytest.approx(metric.mean())
    correlation = np.corrcoef(metric, covariate)[0, 1]
    assert adjusted.var() == pytest.approx(metric.var() * (1 - correlation**2))
    assert cuped(metric, np.ones(5000))[1] == 0.0
