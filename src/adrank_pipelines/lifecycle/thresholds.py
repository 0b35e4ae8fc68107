"""Threshold comparisons shared by the gates and the guardrails.

Every figure compared here comes out of float arithmetic (a ratio, a difference of means), so a value that is
exactly at its threshold on paper can land a rounding error either side of it. The slack is far below the
resolution of any measured rate or latency, and makes "at the threshold" mean the same in every rule.
"""

from __future__ import annotations

import math

_ROUNDING_SLACK = 1e-12


def finite_or_none(value: object) -> float | None:
    """``value`` as a float when it is a real, finite number; None otherwise (bools, strings, None and NaN are
    not evidence)."""
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


def at_least(value: float, threshold: float) -> bool:
    """``value >= threshold``, counting a rounding error below the threshold as at it."""
    return value >= threshold - _ROUNDING_SLACK


def exceeds(value: float, limit: float) -> bool:
    """``value > limit``, counting a rounding error above the limit as at it (not past it)."""
    return value > limit + _ROUNDING_SLACK
