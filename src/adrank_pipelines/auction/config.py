"""Typed parameters of the auction replay (``params:auction_eval``) and the A/B test (``params:ab_test``).

Kedro validates node inputs against these models, so a misspelt key or an out-of-range value fails at
start-up with its name in the message. Plain pydantic models, usable without Kedro.
"""

from __future__ import annotations

import itertools
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeFloat,
    PositiveFloat,
    PositiveInt,
    field_validator,
    model_validator,
)

MechanismKind = Literal["second_price", "gsp", "vcg", "first_price"]
PacingKind = Literal["none", "bid_multiplier", "throttle"]
TargetProfile = Literal["previous_day", "uniform"]


class _StrictModel(BaseModel):
    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class QualityScoreParams(_StrictModel):
    """quality = clip((pCVR / reference) ** pcvr_exponent, floor, cap): the landing-page part of the rank.

    pCTR already enters eCPM on its own, so the quality score rewards ads whose clicks convert.
    """

    pcvr_exponent: NonNegativeFloat = 0.5  # 0 turns the quality score off (every ad scores 1)
    # None: the mean pCVR of the model's own candidates, so models on different pCVR scales compare.
    pcvr_reference: PositiveFloat | None = None
    floor: PositiveFloat = 0.2
    cap: PositiveFloat = 5.0

    @model_validator(mode="after")
    def _floor_below_cap(self) -> QualityScoreParams:
        if self.floor > self.cap:
            raise ValueError(f"quality_score.floor ({self.floor}) must not exceed quality_score.cap ({self.cap})")
        return self


class AuctionRules(_StrictModel):
    """What every mechanism shares: the quality score, the floors and the slots' position discounts."""

    quality_score: QualityScoreParams = QualityScoreParams()
    min_quality: NonNegativeFloat = 0.5  # ads with a lower quality score may not enter the auction
    reserve_price: NonNegativeFloat = 0.05  # per click: no ad bids below it, no winner pays less
    # Expected clicks in slot k relative to the top slot (the platform's separable CTR model).
    position_discounts: list[PositiveFloat] = Field(default_factory=lambda: [1.0, 0.683, 0.547, 0.466], min_length=1)

    @field_validator("position_discounts")
    @classmethod
    def _discounts_fall_down_the_page(cls, discounts: list[float]) -> list[float]:
        if discounts[0] != 1.0 or any(lower > upper for upper, lower in itertools.pairwise(discounts)):
            raise ValueError(f"position_discounts must start at 1.0 and never increase down the page: {discounts}")
        return discounts


class ShadingParams(_StrictModel):
    """How first-price bidders shade: none, a fixed factor, or a factor learned through the day.

    learned: each advertiser keeps, per factor on ``grid``, the surplus that factor would have earned
    in the auctions it entered so far (the platform reports the minimum bid to win, as first-price
    exchanges do) and bids with the best one (follow the leader), starting from ``factor``.
    """

    kind: Literal["none", "factor", "learned"] = "none"
    factor: float = Field(default=0.8, gt=0.0, le=1.0)
    grid: list[float] = Field(default_factory=lambda: [0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0], min_length=2)

    @field_validator("grid")
    @classmethod
    def _grid_in_unit_interval(cls, grid: list[float]) -> list[float]:
        if any(not 0.0 < g <= 1.0 for g in grid):
            raise ValueError(f"shading grid values must lie in (0, 1]: {grid}")
        return sorted(grid)


class MechanismSpec(_StrictModel):
    """One mechanism of the replay grid."""

    kind: MechanismKind
    # second_price always sells one slot; the others sell the request's slots, at most this many.
    max_slots: PositiveInt | None = None
    shading: ShadingParams = ShadingParams()

    @model_validator(mode="after")
    def _shading_only_for_first_price(self) -> MechanismSpec:
        if self.shading.kind != "none" and self.kind != "first_price":
            raise ValueError(f"shading applies to first_price only, not to {self.kind!r}")
        return self

    @property
    def slot_limit(self) -> int | None:
        return 1 if self.kind == "second_price" else self.max_slots


class PacingParams(_StrictModel):
    """Daily budgets and the controller that spreads each advertiser's spend over the day.

    After every step the controller compares each advertiser's spend with its target (budget x the
    share of the day's traffic expected so far) and multiplies its control (bid multiplier, or the
    probability of entering an auction) by exp(gain x shortfall / budget), kept in [min_control, 1].
    """

    kind: PacingKind = "bid_multiplier"
    step_minutes: PositiveInt = Field(default=5, le=1440)
    gain: PositiveFloat = 4.0
    min_control: float = Field(default=0.05, gt=0.0, le=1.0)
    # The simulated day is a sample of a full day's traffic while budgets are full-day budgets; this
    # factor scales them so that budgets bind for a realistic share of advertisers (ADR 0009).
    budget_scale: PositiveFloat = 0.1
    # previous_day: the hourly traffic shape of the day before the evaluation day (known in advance).
    target_profile: TargetProfile = "previous_day"


class AuctionEvalParams(_StrictModel):
    """``params:auction_eval``: the replay grid (mechanism x model) on the evaluation day."""

    evaluation_day: int | None = Field(default=None, ge=0)  # None: the one day ranked_candidates covers
    models: list[str] | None = None  # None: every model in ranked_candidates
    oracle_name: str = "oracle"  # the ground-truth model added to the grid as the upper bound
    candidates_per_request: PositiveInt | None = None  # top candidates by the ranking's rank; None: all
    rules: AuctionRules = AuctionRules()
    mechanisms: dict[str, MechanismSpec] = Field(min_length=1)
    reference_mechanism: str = "gsp"  # the others are reported relative to it
    pacing: PacingParams = PacingParams()
    # Advertisers whose budget bound (they spent at least this share of it) count in the pacing error.
    pacing_error_min_utilisation: float = Field(default=0.9, ge=0.0, le=1.0)
    seed: int = 0  # click and conversion draws (shared by every replay: common random numbers)
    # Every replay runs with the click-draw seeds seed, seed + 1, ...: realised clicks spend budgets and so
    # change which ads serve later, so one seed's outcomes (expected ones too) are one draw of many (ADR 0018).
    draw_seeds: PositiveInt = 5

    @model_validator(mode="after")
    def _reference_is_a_mechanism(self) -> AuctionEvalParams:
        if self.reference_mechanism not in self.mechanisms:
            raise ValueError(
                f"reference_mechanism {self.reference_mechanism!r} is not one of mechanisms {list(self.mechanisms)}"
            )
        return self


class AbTestParams(_StrictModel):
    """``params:ab_test``: users split at random between a control and a treatment ranking model."""

    control_model: str = "lightgbm"
    treatment_model: str = "hybrid"
    mechanism: str = "gsp"  # a key of auction_eval.mechanisms
    treatment_share: float = Field(default=0.5, gt=0.0, lt=1.0)
    alpha: float = Field(default=0.05, gt=0.0, lt=1.0)  # 1 - confidence level of the intervals
    # CUPED: per-user clicks on the days before the evaluation day as the covariate.
    cuped: bool = True
    seed: int = 1  # user split and click draws of the experiment
    # The true lift is the lift in expected totals averaged over this many pairs of full-traffic replays
    # (click-draw seeds auction_eval.seed, seed + 1, ...): under binding budgets one pair is one draw (ADR 0018).
    truth_draw_seeds: PositiveInt = 10
