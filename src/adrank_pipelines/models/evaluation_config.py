"""Typed parameters of the test-day evaluation of the CTR models (``params:ctr_evaluation``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from adrank_pipelines.models.metrics import Binning


class EvaluationParams(BaseModel):
    """Binning of the calibration metrics and the reliability diagram; which model is the baseline."""

    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)

    n_bins: int = Field(default=20, ge=2)
    ece_binning: Binning = "equal_mass"
    baseline_name: str = "baseline"
    oracle_name: str = "oracle"
