"""Contracts of the serving side's hand-over tables: retrieval -> ranking -> auction replay.

Each model states what the stage after it reads: key columns and their dtypes, value ranges, the
uniqueness of the key and the allowed categories. Every rule is a vectorised pandas operation, so
ranked_candidates (tens of millions of rows on the default world) is checked in seconds.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pa
from pandera.typing import Series

from adrank_pipelines.schemas.contract_model import TableContract, foreign_key, probability

# auction.outcomes.EXPECTED / REALISED.
OUTCOME_READINGS = ("expected", "realised")


class RetrievedCandidatesSchema(TableContract):
    """indexing -> ranking: the top-K eligible ads of every evaluation-day request, 0 = best."""

    request_id: Series[np.int64] = foreign_key()
    ad_id: Series[np.int64] = foreign_key()
    retrieval_rank: Series[np.int32] = pa.Field(ge=0)
    # The index's inner product: any sign, so no range, but never missing.
    retrieval_score: Series[np.float32]

    class Config:
        # An ad is retrieved once per request, and each rank is given once.
        unique = (("request_id", "ad_id"), ("request_id", "retrieval_rank"))


class RankingCandidatesSchema(RetrievedCandidatesSchema):
    """The candidates the ranking nodes score: retrieved ones, capped per request."""

    # rank_candidates cuts the rows into batches of whole requests: one request's rows must be
    # contiguous, which cap_per_request gives by sorting on request_id.
    # A row fails when its request_id is smaller than the one before it.
    @pa.dataframe_check
    @classmethod
    def request_id_sorted(cls, frame: pd.DataFrame) -> pd.Series[bool]:
        request_id = frame["request_id"]
        return ~request_id.lt(request_id.shift())


class RankedCandidatesSchema(TableContract):
    """ranking -> auction_eval: every model's order of each request's candidates, 0 = best."""

    request_id: Series[np.int64] = foreign_key()
    ad_id: Series[np.int64] = foreign_key()
    # Any model of ranking.scoring.models: the parameters name them, so no fixed set.
    model: Series[str]
    pctr: Series[np.float64] = probability()
    pcvr: Series[np.float64] = probability()
    # The objective's weighted sum: its range depends on the normalisation, so only never missing.
    score: Series[np.float64]
    rank: Series[np.int32] = pa.Field(ge=0)

    class Config:
        unique = ("model", "request_id", "ad_id")


class FirstRankedCandidatesSchema(RankedCandidatesSchema):
    """The top slot of every request and model, which the ranking report reads."""

    rank: Series[np.int32] = pa.Field(eq=0)

    class Config:
        unique = ("model", "request_id")


class CandidateTruthSchema(TableContract):
    """The ground truth of every evaluation-day (request, ad) pair, whatever model ranked it."""

    request_id: Series[np.int64] = foreign_key()
    ad_id: Series[np.int64] = foreign_key()
    true_pctr: Series[np.float64] = probability()
    true_pcvr: Series[np.float64] = probability()

    class Config:
        unique = ("request_id", "ad_id")


class _AuctionOutcomeFigures(TableContract):
    """The figures of a mechanism x model x reading; mechanism and model names come from the parameters."""

    mechanism: Series[str]
    model: Series[str]
    reading: Series[str] = pa.Field(isin=OUTCOME_READINGS)
    impressions: Series[np.float64] = pa.Field(ge=0)
    clicks: Series[np.float64] = pa.Field(ge=0)
    conversions: Series[np.float64] = pa.Field(ge=0)
    revenue: Series[np.float64] = pa.Field(ge=0)
    advertiser_value: Series[np.float64] = pa.Field(ge=0)
    social_welfare: Series[np.float64] = pa.Field(ge=0)
    withdrawn_impressions: Series[np.float64] = pa.Field(ge=0)
    advertiser_surplus: Series[np.float64]
    # Ratios are missing where their denominator is 0 (no slot offered, nothing served or spent), and
    # the pacing figures of the expected reading are always missing.
    fill_rate: Series[np.float64] = probability(nullable=True)
    ctr: Series[np.float64] = probability(nullable=True)
    advertiser_roi: Series[np.float64] = pa.Field(nullable=True)
    budget_utilisation: Series[np.float64] = pa.Field(ge=0, nullable=True)
    pacing_error: Series[np.float64] = pa.Field(ge=0, nullable=True)
    budget_exhausted_share: Series[np.float64] = probability(nullable=True)


class AuctionOutcomesBySeedSchema(_AuctionOutcomeFigures):
    """One row per mechanism x model x reading x click-draw seed."""

    draw_seed: Series[np.int64]

    class Config:
        unique = ("mechanism", "model", "reading", "draw_seed")


class AuctionOutcomesSchema(_AuctionOutcomeFigures):
    """One row per mechanism x model x reading: every figure the mean over the click-draw seeds, the
    headline ones' standard deviation beside it."""

    draw_seeds: Series[np.int64] = pa.Field(ge=1)
    # Missing with a single draw seed: one draw says nothing of the spread.
    revenue_std: Series[np.float64] = pa.Field(ge=0, nullable=True)
    clicks_std: Series[np.float64] = pa.Field(ge=0, nullable=True)
    advertiser_surplus_std: Series[np.float64] = pa.Field(ge=0, nullable=True)
    social_welfare_std: Series[np.float64] = pa.Field(ge=0, nullable=True)

    class Config:
        unique = ("mechanism", "model", "reading")


class AuctionAdvertiserOutcomesSchema(TableContract):
    """One row per mechanism x model x bidding account."""

    mechanism: Series[str]
    model: Series[str]
    account: Series[np.int64] = pa.Field(ge=0)
    advertiser_id: Series[np.int64] = foreign_key()
    budget: Series[np.float64] = pa.Field(ge=0)
    spend: Series[np.float64] = pa.Field(ge=0)
    expected_spend: Series[np.float64] = pa.Field(ge=0)
    impressions: Series[np.float64] = pa.Field(ge=0)
    clicks: Series[np.float64] = pa.Field(ge=0)
    expected_clicks: Series[np.float64] = pa.Field(ge=0)
    conversions: Series[np.float64] = pa.Field(ge=0)
    value: Series[np.float64] = pa.Field(ge=0)
    expected_value: Series[np.float64] = pa.Field(ge=0)
    # -1: the budget was never exhausted.
    exhausted_step: Series[np.int64] = pa.Field(ge=-1)
    surplus: Series[np.float64]
    # A click may take spend past the budget, so utilisation has no upper bound.
    utilisation: Series[np.float64] = pa.Field(ge=0, nullable=True)

    class Config:
        unique = ("mechanism", "model", "account")


class AuctionPacingCurvesSchema(TableContract):
    """Spend over the day against the pacing target, per mechanism x model x step."""

    mechanism: Series[str]
    model: Series[str]
    step: Series[np.int64] = pa.Field(ge=0)
    target_share: Series[np.float64] = probability()
    # Missing when no account has a budget, or none is budget-bound.
    spend_share: Series[np.float64] = pa.Field(ge=0, nullable=True)
    bound_spend_share: Series[np.float64] = pa.Field(ge=0, nullable=True)
    bound_accounts: Series[np.int64] = pa.Field(ge=0)

    class Config:
        unique = ("mechanism", "model", "step")
