"""Two-sample Kolmogorov-Smirnov statistic against a reference sorted once.

D is the largest gap between the two empirical CDFs. Its p-value uses Smirnov's asymptotic
distribution (scipy's ``kstwo`` at the effective sample size, as ``scipy.stats.ks_2samp`` does for
large samples). At a million rows any shift is "significant", so alert rules read D as an effect size
and use the p-value only to ignore gaps small windows produce by chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import kstwo


@dataclass(frozen=True)
class KsResult:
    statistic: float
    p_value: float


def sorted_finite(values: ArrayLike) -> np.ndarray:
    """The non-missing values in ascending order (the form ``ks_test`` wants its reference in)."""
    values = np.asarray(values, dtype=np.float64)
    return np.sort(values[~np.isnan(values)], kind="stable")


def ks_test(sorted_reference: np.ndarray, current: ArrayLike) -> KsResult:
    """KS statistic and asymptotic two-sided p-value; NaN for both when either side has no values."""
    sorted_current = sorted_finite(current)
    n_reference, n_current = sorted_reference.size, sorted_current.size
    if n_reference == 0 or n_current == 0:
        return KsResult(float("nan"), float("nan"))
    # Both CDFs are steps that only move at observed values, so checking every observed value finds D.
    points = np.concatenate([sorted_reference, sorted_current])
    gap = np.abs(
        np.searchsorted(sorted_reference, points, side="right") / n_reference
        - np.searchsorted(sorted_current, points, side="right") / n_current
    )
    statistic = float(gap.max())
    effective_n = n_reference * n_current / (n_reference + n_current)
    return KsResult(statistic, float(np.clip(kstwo.sf(statistic, np.round(effective_n)), 0.0, 1.0)))
