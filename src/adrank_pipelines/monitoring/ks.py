"""Two-sample Kolmogorov-Smirnov statistic against a reference sorted once.

D is the largest gap between the two empirical CDFs. Its p-value uses the limiting Kolmogorov
distribution at the effective sample size n*m/(n+m): O(1) at any size, where scipy's finite-n
``kstwo`` (what ``ks_2samp`` uses) costs 0.3 s per call at a million rows. The limit is slightly
conservative: its p-values are 0.5% above kstwo's at an effective size of 100,000 and 3-5% above at
1,000, far from mattering to a significance gate. At a million rows any shift is "significant", so
alert rules read D as an effect size and use the p-value only to ignore gaps small windows produce by
chance.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.stats import kstwobign


@dataclass(frozen=True)
class KsResult:
    statistic: float
    p_value: float


def sorted_finite(values: ArrayLike) -> np.ndarray:
    """The non-missing values in ascending order (the form ``ks_test`` wants its reference in)."""
    values = np.asarray(values, dtype=np.float64)
    return np.sort(values[~np.isnan(values)])


def ks_statistic(sorted_reference: np.ndarray, sorted_current: np.ndarray) -> float:
    """Largest CDF gap of two non-empty sorted samples, searching only the current values.

    Between two distinct current values the current CDF is flat while the reference CDF rises, so
    the gap peaks at a current value (the CDFs after it) or just before one (the CDFs before it).
    Ties count once: the "after" side at the last of a run of equal values, the "before" side at the
    first.
    """
    n, m = sorted_reference.size, sorted_current.size
    new_value = np.ones(m + 1, dtype=bool)
    new_value[1:-1] = sorted_current[1:] != sorted_current[:-1]
    first, last = np.flatnonzero(new_value[:-1]), np.flatnonzero(new_value[1:])
    after = np.abs(np.searchsorted(sorted_reference, sorted_current[last], side="right") / n - (last + 1) / m)
    before = np.abs(np.searchsorted(sorted_reference, sorted_current[first], side="left") / n - first / m)
    return float(max(after.max(), before.max()))


def ks_test(sorted_reference: np.ndarray, current: ArrayLike) -> KsResult:
    """KS statistic and asymptotic two-sided p-value; NaN for both when either side has no values."""
    sorted_current = sorted_finite(current)
    n_reference, n_current = sorted_reference.size, sorted_current.size
    if n_reference == 0 or n_current == 0:
        return KsResult(float("nan"), float("nan"))
    statistic = ks_statistic(sorted_reference, sorted_current)
    effective_n = n_reference * n_current / (n_reference + n_current)
    return KsResult(statistic, float(kstwobign.sf(np.sqrt(effective_n) * statistic)))
