"""Typed parameters of the model lifecycle (``params:lifecycle``): the promotion gates and the rollout.

Plain pydantic models, usable without Kedro: a misspelt key, a value of the wrong type or out of range fails
with the parameter's name. Choices and their reasons: docs/adr/0021-lifecycle-gates-and-rollout.md.
"""

from __future__ import annotations

from itertools import pairwise
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveFloat, PositiveInt, field_validator

from adrank_pipelines.lifecycle.scenario_params import ScenarioParams

# A probability strictly between 0 and 1 (a significance level).
Alpha = Annotated[float, Field(gt=0.0, lt=1.0)]


class _StrictModel(BaseModel):
    # A misspelt key must fail loudly instead of silently falling back to a default; strict refuses "0.02".
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class OfflineGateParams(_StrictModel):
    """The challenger's offline metric must beat the champion's by ``min_improvement``.

    ``comparison: relative``: (challenger - champion) / |champion| for a metric where greater is better,
    (champion - challenger) / |champion| otherwise. ``absolute``: the same differences, undivided.
    """

    metric: str = Field(default="auc", min_length=1)
    greater_is_better: bool = True
    comparison: Literal["relative", "absolute"] = "relative"
    min_improvement: float = Field(default=0.02, ge=0.0)


class AbGateParams(_StrictModel):
    """The A/B readout of ``metric`` must show a relative lift of at least ``min_lift`` with a p-value below
    ``alpha`` (the lift is significantly different from zero)."""

    metric: str = Field(default="ctr", min_length=1)
    min_lift: float = Field(default=0.03, ge=0.0)
    alpha: Alpha = 0.05


class LatencyGateParams(_StrictModel):
    """The challenger's p99 latency from the serving benchmark, at most ``max_p99_ms``."""

    max_p99_ms: PositiveFloat = 100.0


class GateParams(_StrictModel):
    offline: OfflineGateParams = OfflineGateParams()
    ab: AbGateParams = AbGateParams()
    latency: LatencyGateParams = LatencyGateParams()


class GuardrailParams(_StrictModel):
    """Limits read on every evaluation window of a rollout; a breach of any one rolls the challenger back.

    CTR is read twice. The window's own CTR breaches when the challenger's is more than ``max_ctr_drop`` below
    the champion's (relative) and a two-proportion test on the window finds the difference significant at
    ``ctr_alpha``: a sudden break shows within a window or two. The rollout's CTR reads every window of the
    rollout so far with an always-valid sequential test (``lifecycle.sequential``) at ``rollout_ctr_alpha``,
    whose alternatives spread over log CTR ratios with ``rollout_ctr_mixture_sd``: a drop too small, or traffic
    too thin, for one window still shows as the evidence grows, and reading it after every window costs no
    extra false alarms. A guardrail with less than its minimum traffic gives no evidence: the rollout holds
    instead of advancing (the window's CTR alone never holds it; the rollout's CTR stands for it).
    """

    max_ctr_drop: float = Field(default=0.01, ge=0.0, lt=1.0)
    ctr_alpha: Alpha = 0.002
    rollout_ctr_alpha: Alpha = 0.05
    rollout_ctr_mixture_sd: PositiveFloat = 0.6
    max_p99_ms: PositiveFloat = 150.0
    max_error_rate: float = Field(default=0.001, ge=0.0, lt=1.0)
    # Training/serving skew: the share of re-scored requests whose served score differs from the registered
    # model's by more than ``score_tolerance`` (absolute, on the predicted probability).
    max_skewed_share: float = Field(default=0.01, ge=0.0, lt=1.0)
    score_tolerance: PositiveFloat = 1e-6
    min_impressions: PositiveInt = 100
    min_requests: PositiveInt = 25


class RolloutParams(_StrictModel):
    """The challenger's traffic shares, step by step; the last, 1.0, is the challenger taking over.

    Each step is judged on consecutive windows of ``window_minutes``; it advances once windows that passed every
    guardrail add up to ``min_step_minutes``.
    """

    steps: list[float] = Field(default_factory=lambda: [0.05, 0.25, 0.5, 1.0])
    # A breach that starts late in a window may move that window's figures too little to read; the next window
    # then sees it whole. Two windows of 30 minutes keep the rollback within an hour of the breach's start.
    window_minutes: PositiveInt = 30
    # Eight hours a step: the promotion gate reads the A/B lift on the partial steps' traffic, and with two-hour
    # steps it refused every challenger truly 7-13% better on a lifecycle world (docs/adr/0024).
    min_step_minutes: PositiveInt = 480
    guardrails: GuardrailParams = GuardrailParams()

    @field_validator("steps")
    @classmethod
    def _shares_rise_to_full_traffic(cls, steps: list[float]) -> list[float]:
        if len(steps) < 2:
            raise ValueError(f"needs at least one partial share before 1.0, got {steps}")
        if steps[-1] != 1.0:
            raise ValueError(f"the last step must be 1.0 (the challenger takes all traffic), got {steps[-1]}")
        if steps[0] <= 0.0 or any(later <= earlier for earlier, later in pairwise(steps)):
            raise ValueError(f"shares must rise strictly from above 0 to 1.0, got {steps}")
        return steps


class LifecycleParams(_StrictModel):
    gates: GateParams = GateParams()
    rollout: RolloutParams = RolloutParams()
    scenario: ScenarioParams = ScenarioParams()
