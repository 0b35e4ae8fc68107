"""Normal-approximation tests that tell a real shift from the noise of a small window.

Each returns a p-value: the chance of a gap at least this large between two windows drawn from the
same process. Alert rules fire only below a significance level, so a tiny window's chance wobble in
CTR, calibration or AUC does not page anyone, while a million-row window is judged on magnitude alone.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import norm


def _p_value(z: float, two_sided: bool) -> float:
    if not np.isfinite(z):
        return float("nan")
    return float(2.0 * norm.sf(abs(z)) if two_sided else norm.sf(z))


def two_proportion_p_value(successes_a: float, n_a: int, successes_b: float, n_b: int) -> float:
    """Two-sided pooled z-test that two rates (CTRs) are equal."""
    pooled = (successes_a + successes_b) / (n_a + n_b)
    standard_error = np.sqrt(pooled * (1.0 - pooled) * (1.0 / n_a + 1.0 / n_b))
    if standard_error == 0:
        return float("nan")
    return _p_value((successes_b / n_b - successes_a / n_a) / standard_error, two_sided=True)


def calibration_ratio_p_value(clicks_a: float, ratio_a: float, clicks_b: float, ratio_b: float) -> float:
    """Two-sided test that two predicted/observed ratios are equal.

    The ratio's noise is that of the click count (Poisson: the variance of log(clicks) is about
    1 / clicks); the summed predictions of many rows barely move. NaN without clicks or without a
    positive ratio on either side (its logarithm is undefined).
    """
    if not (clicks_a > 0 and clicks_b > 0 and ratio_a > 0 and ratio_b > 0):
        return float("nan")
    z = (np.log(ratio_b) - np.log(ratio_a)) / np.sqrt(1.0 / clicks_a + 1.0 / clicks_b)
    return _p_value(float(z), two_sided=True)


def auc_standard_error(auc: float, n_positive: int, n_negative: int) -> float:
    """Hanley & McNeil (1982) standard error of an AUC from its value and class sizes."""
    q1, q2 = auc / (2.0 - auc), 2.0 * auc**2 / (1.0 + auc)
    variance = (auc * (1.0 - auc) + (n_positive - 1) * (q1 - auc**2) + (n_negative - 1) * (q2 - auc**2)) / (
        n_positive * n_negative
    )
    return float(np.sqrt(max(variance, 0.0)))


def auc_drop_p_value(auc_a: float, standard_error_a: float, auc_b: float, standard_error_b: float) -> float:
    """One-sided test that AUC b is below AUC a (independent windows)."""
    spread = np.hypot(standard_error_a, standard_error_b)
    return _p_value((auc_a - auc_b) / spread, two_sided=False) if spread > 0 else float("nan")


def mean_increase_p_value(values_a: ArrayLike, values_b: ArrayLike) -> float:
    """One-sided Welch z-test that the mean of b (per-row loglosses, say) is above the mean of a."""
    a, b = np.asarray(values_a, dtype=np.float64), np.asarray(values_b, dtype=np.float64)
    spread = np.sqrt(a.var(ddof=1) / a.size + b.var(ddof=1) / b.size)
    return _p_value((b.mean() - a.mean()) / spread, two_sided=False) if spread > 0 else float("nan")
