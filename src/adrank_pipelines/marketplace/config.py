"""Typed parameters of the simulated marketplace (validated by Kedro from ``params:marketplace``)."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from adrank_pipelines.marketplace.vocabulary import BASE_CATEGORIES


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Placement(_Strict):
    share: float = Field(gt=0, description="share of requests on this placement")
    n_slots: int = Field(ge=1, le=10)
    click_effect: float = Field(description="additive logit effect on clicks")


class LoggingPolicy(_Strict):
    """The production system that chose which ads were shown (a noisy, interest-aware ranker)."""

    candidates_per_request: int = Field(ge=2)
    targeted_share: float = Field(
        ge=0, le=1, description="share of candidates drawn from the user's inferred interests"
    )
    interest_sharpness: float = Field(ge=0, le=2, description="exponent on true interests in the policy's estimate")
    score_noise: float = Field(ge=0, description="Gumbel scale of the policy's ranking noise")


class ClickModel(_Strict):
    intercept: float
    interest_weight: float = Field(ge=0, description="weight of log relative interest in the ad's category")
    taste_weight: float = Field(ge=0, description="weight of user taste x ad theme match (carried by the text)")
    offer_weight: float = Field(ge=0, description="scale of offer-kind x price-sensitivity effects (text)")
    quality_std: float = Field(ge=0, description="spread of ad creative quality")
    clarity_bonus: float = Field(description="logit bonus of clear creatives over filler creatives")
    propensity_std: float = Field(ge=0, description="spread of user click propensity")
    position_decay: float = Field(ge=0, description="logit drop per log(position)")
    hour_amplitude: float = Field(ge=0, description="diurnal logit amplitude (peak in the evening)")
    platform_category_std: float = Field(ge=0)


class ConversionModel(_Strict):
    intercept: float
    interest_weight: float = Field(ge=0)
    landing_quality_std: float = Field(ge=0)
    propensity_std: float = Field(ge=0)
    offer_weight: float = Field(ge=0)


class Economics(_Strict):
    value_per_conversion_median: float = Field(gt=0)
    value_per_conversion_sigma: float = Field(ge=0)
    bid_shading_low: float = Field(gt=0, le=1)
    bid_shading_high: float = Field(gt=0, le=1)
    daily_budget_median: float = Field(gt=0)
    daily_budget_sigma: float = Field(ge=0)


class Drift(_Strict):
    enabled: bool
    n_days: int = Field(ge=1)
    shifted_categories: list[str] = Field(description="categories whose interest is multiplied")
    interest_multiplier: float = Field(gt=0)
    platform_shares: dict[str, float] = Field(description="request platform mix during the drift window")
    new_category_ads: int = Field(ge=0, description="ads of the drift-only category launched in the window")
    # Optional growth over a multi-day window (the defaults draw the single-step drift exactly as before).
    ramp_days: int = Field(
        default=1, ge=1, description="drift days over which the interest and platform shifts grow to full strength"
    )
    launch_days: int = Field(
        default=1, ge=1, description="first drift days over which the new-category ads launch, in turn"
    )

    def strength(self, drift_day: int) -> float:
        """The share of the full shift in force on the drift window's day ``drift_day`` (0 is its first)."""
        return min(1.0, (drift_day + 1) / self.ramp_days)

    @field_validator("shifted_categories")
    @classmethod
    def _known_categories(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(BASE_CATEGORIES))
        if unknown:
            raise ValueError(f"unknown categories {unknown}; choose from {list(BASE_CATEGORIES)}")
        return value


class Browsing(_Strict):
    """Organic (non-ad) views that reveal each user's interests, as a platform's behaviour log does."""

    events_per_user: float = Field(ge=0, description="mean organic views per user over the whole log (activity-scaled)")
    history_days: int = Field(ge=0, description="days of browsing logged before the first ad day")


class MarketplaceConfig(_Strict):
    seed: int = Field(ge=0, description="seeds numpy's generator, which takes only non-negative integers")
    start_date: date
    n_users: int = Field(ge=10)
    n_advertisers: int = Field(ge=2)
    n_ads: int = Field(ge=20)
    n_days: int = Field(ge=3, description="days before the drift window (train days + validation + test day)")
    requests_per_day: int = Field(ge=10)
    cold_start_ad_share: float = Field(ge=0, lt=1, description="ads first shown on the test day")
    late_start_ad_share: float = Field(ge=0, lt=1, description="ads launched on a random earlier day")
    n_taste_dims: int = Field(ge=2)
    segment_share: float = Field(
        ge=0, le=1, description="share of taste and price-sensitivity variance set by the country x age segment"
    )
    interest_concentration: float = Field(gt=0, description="Dirichlet concentration of user interests")
    activity_sigma: float = Field(ge=0, description="log-normal spread of user request rates")
    countries: dict[str, float]
    age_buckets: dict[str, float]
    platforms: dict[str, float]
    platform_stickiness: float = Field(ge=0, le=1, description="probability a request uses the user's main platform")
    placements: dict[str, Placement]
    logging_policy: LoggingPolicy
    click_model: ClickModel
    conversion_model: ConversionModel
    economics: Economics
    browsing: Browsing
    drift: Drift

    @model_validator(mode="after")
    def _consistent(self) -> MarketplaceConfig:
        if self.economics.bid_shading_low > self.economics.bid_shading_high:
            raise ValueError("economics.bid_shading_low must not exceed economics.bid_shading_high")
        if self.cold_start_ad_share + self.late_start_ad_share >= 1:
            raise ValueError("cold_start_ad_share + late_start_ad_share must be below 1")
        unknown = sorted(set(self.drift.platform_shares) - set(self.platforms))
        if unknown:
            raise ValueError(f"drift.platform_shares names unknown platforms {unknown}")
        return self

    @property
    def total_days(self) -> int:
        return self.n_days + (self.drift.n_days if self.drift.enabled else 0)

    @property
    def test_day(self) -> int:
        return self.n_days - 1
