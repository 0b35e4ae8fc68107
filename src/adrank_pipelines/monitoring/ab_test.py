"""A/B test statistics: relative lift of per-unit means with a delta-method interval, Welch's t-test,
the two-proportion z-test, and CUPED variance reduction.

Units are randomised (users); metrics are per-unit totals (clicks, revenue per user), so the unit of
analysis matches the unit of randomisation and within-user correlation needs no correction.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats


@dataclass(frozen=True)
class LiftEstimate:
    """treatment mean / control mean - 1, its (1 - alpha) interval and the two-sided p-value of no lift."""

    control_mean: float
    treatment_mean: float
    lift: float
    ci_low: float
    ci_high: float
    p_value: float
    n_control: int
    n_treatment: int

    def as_dict(self) -> dict[str, float]:
        return asdict(self)

    def covers(self, value: float) -> bool:
        return bool(self.ci_low <= value <= self.ci_high)


@dataclass(frozen=True)
class TTest:
    difference: float  # treatment mean - control mean
    standard_error: float
    statistic: float
    degrees_of_freedom: float
    p_value: float


def _as_array(values: ArrayLike) -> np.ndarray:
    array = np.asarray(values, dtype=np.float64).ravel()
    if len(array) < 2:
        raise ValueError(f"an arm needs at least 2 units, got {len(array)}")
    return array


def _two_sided_normal(z: float) -> float:
    return float(2.0 * stats.norm.sf(abs(z)))


def relative_lift(control: ArrayLike, treatment: ArrayLike, alpha: float = 0.05) -> LiftEstimate:
    """Lift of the treatment's mean over the control's, with a delta-method normal interval.

    Var(mean_t / mean_c) ~ var_t / (n_t mean_c^2) + mean_t^2 var_c / (n_c mean_c^4); the p-value
    uses the same standard error, so the interval excludes 0 exactly when p < alpha.
    """
    c, t = _as_array(control), _as_array(treatment)
    mean_c, mean_t = c.mean(), t.mean()
    if mean_c <= 0:
        raise ValueError(f"relative lift needs a positive control mean, got {mean_c}")
    ratio = mean_t / mean_c
    variance = t.var(ddof=1) / (len(t) * mean_c**2) + ratio**2 * c.var(ddof=1) / (len(c) * mean_c**2)
    se = float(np.sqrt(variance))
    z = stats.norm.ppf(1 - alpha / 2)
    lift = float(ratio - 1.0)
    return LiftEstimate(
        control_mean=float(mean_c),
        treatment_mean=float(mean_t),
        lift=lift,
        ci_low=float(lift - z * se),
        ci_high=float(lift + z * se),
        p_value=_two_sided_normal(lift / se) if se > 0 else (1.0 if lift == 0 else 0.0),
        n_control=len(c),
        n_treatment=len(t),
    )


def welch_t_test(control: ArrayLike, treatment: ArrayLike) -> TTest:
    """Two-sided Welch t-test of equal means (unequal variances)."""
    c, t = _as_array(control), _as_array(treatment)
    var_c, var_t = c.var(ddof=1) / len(c), t.var(ddof=1) / len(t)
    se = float(np.sqrt(var_c + var_t))
    difference = float(t.mean() - c.mean())
    dof = float((var_c + var_t) ** 2 / (var_c**2 / (len(c) - 1) + var_t**2 / (len(t) - 1)))
    statistic = difference / se
    return TTest(difference, se, statistic, dof, float(2.0 * stats.t.sf(abs(statistic), dof)))


def two_proportion_z_test(
    successes_control: int, trials_control: int, successes_treatment: int, trials_treatment: int, alpha: float = 0.05
) -> dict[str, float]:
    """Rates, their difference with an unpooled (1 - alpha) interval, and the pooled z-test p-value."""
    if min(trials_control, trials_treatment) <= 0:
        raise ValueError("both arms need at least one trial")
    p_c, p_t = successes_control / trials_control, successes_treatment / trials_treatment
    pooled = (successes_control + successes_treatment) / (trials_control + trials_treatment)
    se_pooled = np.sqrt(pooled * (1 - pooled) * (1 / trials_control + 1 / trials_treatment))
    se = np.sqrt(p_c * (1 - p_c) / trials_control + p_t * (1 - p_t) / trials_treatment)
    z = stats.norm.ppf(1 - alpha / 2)
    difference = p_t - p_c
    return {
        "control_rate": float(p_c),
        "treatment_rate": float(p_t),
        "difference": float(difference),
        "ci_low": float(difference - z * se),
        "ci_high": float(difference + z * se),
        "z": float(difference / se_pooled) if se_pooled > 0 else 0.0,
        "p_value": _two_sided_normal(difference / se_pooled) if se_pooled > 0 else 1.0,
    }


def cuped(metric: ArrayLike, covariate: ArrayLike) -> tuple[np.ndarray, float]:
    """CUPED: metric - theta (covariate - mean covariate), theta = cov / var over all units.

    The covariate must not depend on the assignment (pre-experiment data); the adjusted metric keeps
    each arm's expected mean and has variance reduced by corr(metric, covariate)^2. Returns the
    adjusted metric and theta (0 when the covariate is constant).
    """
    y = np.asarray(metric, dtype=np.float64)
    x = np.asarray(covariate, dtype=np.float64)
    if y.shape != x.shape:
        raise ValueError(f"metric and covariate differ in shape: {y.shape} vs {x.shape}")
    variance = x.var()
    theta = float(np.mean((x - x.mean()) * (y - y.mean())) / variance) if variance > 0 else 0.0
    return y - theta * (x - x.mean()), theta
