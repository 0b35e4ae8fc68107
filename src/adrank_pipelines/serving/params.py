"""Typed configuration of the ad service (``conf/<env>/serving.yml``, key ``serving``).

The service's settings are not pipeline parameters (no node reads them), so they live in their own
configuration file, which Kedro's config loader reads with the same environment overrides. A
misspelt key or an out-of-range value fails at start-up naming the setting.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator

from adrank_pipelines.serving.batching_params import BatchingParams
from adrank_pipelines.serving.state_params import OnlineStateParams

ModelName = Annotated[str, Field(min_length=1)]


class _StrictModel(BaseModel):
    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class TierParams(_StrictModel):
    """One way of scoring a request: the ranking model, and an optional cheaper cut before it."""

    model: ModelName  # a ctr_training model, its pCTR through the calibrator ctr_training saved
    # None: as the ranking stage (ranking.candidates.max_per_request); 0 scores every retrieved
    # candidate; N > 0 only the best N by retrieval score (the two-tower relevance + log bid), a
    # pre-ranking cut whose cost benchmarks/bench_serving.py reports.
    prerank_keep: NonNegativeInt | None = None
    # The model whose P(conversion | click) this tier's objective reads; None: serving.pcvr_model.
    pcvr_model: ModelName | None = None


class RoutingParams(_StrictModel):
    """Which tier answers which request: ``high_value_tier`` for users with at least
    ``high_value_min_clicks`` recorded clicks, ``default_tier`` for everyone else."""

    default_tier: ModelName
    high_value_tier: ModelName | None = None
    high_value_min_clicks: PositiveInt = 1


class AuctionServingParams(_StrictModel):
    """The auction run per request; its rules, budgets and pacing are ``auction_eval``'s parameters."""

    mechanism: ModelName = "gsp"  # a key of auction_eval.mechanisms
    # Quality score reference pCVR; None: the mean pCVR of the request's own auction candidates.
    pcvr_reference: PositiveFloat | None = None
    candidates: PositiveInt = 100  # the ranking's best N per request enter the auction
    # Each advertiser's budget for the day: its daily_budget times this.
    budget_scale: PositiveFloat = 1.0


class ServingParams(_StrictModel):
    """Everything the service reads from ``serving``."""

    tiers: dict[ModelName, TierParams] = Field(min_length=1)
    routing: RoutingParams
    pcvr_model: ModelName  # the model whose P(conversion | click) a tier's objective reads, unless it names its own
    auction: AuctionServingParams = AuctionServingParams()
    state: OnlineStateParams = OnlineStateParams()
    batching: BatchingParams = BatchingParams()
    num_threads: PositiveInt = 1  # torch and FAISS threads of one worker
    # Known users' profiles start from their logged history up to the statistics snapshot.
    seed_profiles_from_history: bool = True
    # registry: each model and its calibrator from the MLflow registry version the catalog's alias (the champion)
    # points at, resolved again on every reload; run: the last run's outputs (`<model>.trained_model`, `.calibrator`).
    model_source: Literal["registry", "run"] = "registry"

    @model_validator(mode="after")
    def _routes_to_known_tiers(self) -> ServingParams:
        for setting, tier in (
            ("default_tier", self.routing.default_tier),
            ("high_value_tier", self.routing.high_value_tier),
        ):
            if tier is not None and tier not in self.tiers:
                raise ValueError(
                    f"serving.routing.{setting} is '{tier}', not one of serving.tiers {sorted(self.tiers)}"
                )
        return self
