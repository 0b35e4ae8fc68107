"""Typed parameters of drift monitoring (``params:drift``).

Kedro validates the node input against ``DriftParams``, so a misspelt key or an out-of-range value
fails at start-up naming the parameter. Plain pydantic models, usable without Kedro.
"""

from __future__ import annotations

from typing import Annotated, cast

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, PositiveInt, model_validator

from adrank_pipelines.monitoring.statistics import Group


class _StrictModel(BaseModel):
    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Thresholds(_StrictModel):
    """A statistic at or above ``warn`` raises a warning, at or above ``alert`` an alert."""

    warn: NonNegativeFloat
    alert: NonNegativeFloat

    @model_validator(mode="after")
    def _warn_below_alert(self) -> Thresholds:
        if self.warn > self.alert:
            raise ValueError(f"warn ({self.warn}) must not exceed alert ({self.alert})")
        return self


class FeatureThresholds(_StrictModel):
    psi: Thresholds = Thresholds(warn=0.1, alert=0.25)
    ks: Thresholds = Thresholds(warn=0.1, alert=0.2)
    unseen_share_increase: Thresholds = Thresholds(warn=0.005, alert=0.01)


class FeatureThresholdOverride(_StrictModel):
    """Per-feature replacements of the feature thresholds (e.g. ids, whose churn is expected)."""

    psi: Thresholds | None = None
    ks: Thresholds | None = None
    unseen_share_increase: Thresholds | None = None


class PredictionThresholds(_StrictModel):
    psi: Thresholds = Thresholds(warn=0.1, alert=0.25)
    ks: Thresholds = Thresholds(warn=0.1, alert=0.2)


class LabelThresholds(_StrictModel):
    ctr_change: Thresholds = Thresholds(warn=0.05, alert=0.2)


class CalibrationThresholds(_StrictModel):
    calibration_change: Thresholds = Thresholds(warn=0.1, alert=0.2)


class PerformanceThresholds(_StrictModel):
    auc_drop: Thresholds = Thresholds(warn=0.01, alert=0.03)
    logloss_increase: Thresholds = Thresholds(warn=0.02, alert=0.05)


class RuleParams(_StrictModel):
    """Thresholds per group and statistic, and the significance a statistic with a test must reach."""

    max_p_value: float = Field(default=0.01, gt=0.0, le=1.0)
    feature: FeatureThresholds = FeatureThresholds()
    # Ids churn every day: new users and the simulator's cold-start ads.
    feature_overrides: dict[str, FeatureThresholdOverride] = Field(
        default_factory=lambda: {
            "ad_id_idx": FeatureThresholdOverride(unseen_share_increase=Thresholds(warn=0.2, alert=0.3)),
            "user_id_idx": FeatureThresholdOverride(unseen_share_increase=Thresholds(warn=0.1, alert=0.2)),
            "user_id_x_category_hash": FeatureThresholdOverride(unseen_share_increase=Thresholds(warn=0.05, alert=0.1)),
        }
    )
    prediction: PredictionThresholds = PredictionThresholds()
    label: LabelThresholds = LabelThresholds()
    calibration: CalibrationThresholds = CalibrationThresholds()
    performance: PerformanceThresholds = PerformanceThresholds()

    def thresholds(self, group: Group, subject: str, statistic: str) -> Thresholds:
        # Looked up by name: every field of an override is Thresholds | None, of a group model Thresholds.
        override = self.feature_overrides.get(subject) if group == "feature" else None
        if override is not None and getattr(override, statistic) is not None:
            return cast(Thresholds, getattr(override, statistic))
        rules = getattr(self, group)
        if statistic not in type(rules).model_fields:
            raise KeyError(f"no drift.rules.{group} thresholds for the statistic '{statistic}'")
        return cast(Thresholds, getattr(rules, statistic))


class FeatureSelection(_StrictModel):
    """Which feature-spec columns are watched, and how they are binned."""

    # Left out entirely: each window is another weekday by construction.
    excluded: list[str] = Field(default_factory=lambda: ["day_of_week_idx"])
    # Statistics reported and plotted but never alerted on: past-only counts and smoothed CTRs grow with the
    # age of the log, so they always "drift".
    report_only: list[str] = Field(
        default_factory=lambda: [
            f"{key}_{statistic}"
            for key in ("ad_id", "advertiser_id", "category", "user_id", "user_id_x_category")
            for statistic in ("log_impressions", "log_clicks", "ctr")
        ]
    )
    max_categories: PositiveInt = 50
    numeric_bins: int = Field(default=10, ge=2)


class RetrainParams(_StrictModel):
    # Alert-level flags in the latest window that make the recommendation "retrain".
    min_alerts: PositiveInt = 1


class ReportParams(_StrictModel):
    score_bins: int = Field(default=10, ge=2, description="quantile bins of the prediction-drift PSI")
    histogram_bins: int = Field(default=60, ge=5)
    reliability_bins: int = Field(default=10, ge=2)


class DriftParams(_StrictModel):
    """``params:drift``."""

    model: Annotated[str, Field(min_length=1)] = "transformer"
    share_floor: float = Field(default=1e-4, gt=0.0, lt=0.01)
    features: FeatureSelection = FeatureSelection()
    rules: RuleParams = RuleParams()
    retrain: RetrainParams = RetrainParams()
    report: ReportParams = ReportParams()
