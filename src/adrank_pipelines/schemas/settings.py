"""Typed parameters of the validation (``validate:`` in conf/base/parameters_validate.yml).

Kedro validates node ``params:`` inputs against these models at start-up, so a typo or an
out-of-range threshold fails before any data is read, naming the parameter.
"""

from __future__ import annotations

from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Settings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _Bounds(_Settings):
    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.min > self.max:
            raise ValueError(f"min ({self.min}) must not exceed max ({self.max})")
        return self


class RowCountBounds(_Bounds):
    min: int = Field(ge=0)
    max: int = Field(ge=1)


class RateBounds(_Bounds):
    min: float = Field(ge=0.0, le=1.0)
    max: float = Field(ge=0.0, le=1.0)


class CtrByPosition(_Settings):
    """Click-through rate should fall with the slot position (the classic position bias)."""

    min_impressions: int = Field(ge=1, description="positions shown fewer times are too noisy to compare")
    mostly: float = Field(gt=0.0, le=1.0, description="share of positions whose CTR must not exceed the previous one")


class ImpressionSuiteThresholds(_Settings):
    """Plausibility bands of the Great Expectations suite over the impression log."""

    row_count: RowCountBounds
    max_null_fraction: float = Field(ge=0.0, le=1.0)
    ctr: RateBounds
    max_position: int = Field(ge=1)
    min_distinct_hours: int = Field(ge=1, le=24)
    ctr_by_position: CtrByPosition


class ContractReportSettings(_Settings):
    max_offending_rows: int = Field(ge=1, le=100, description="offending rows quoted per failed check")
