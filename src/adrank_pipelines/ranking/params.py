"""Typed parameters of the ranking stage (``params:ranking.candidates``, ``.objective``, ``.scoring``).

Kedro validates the ``params:`` inputs of the ranking nodes against these models, so a typo or an
out-of-range value fails at start-up with the parameter's name in the message. Nodes take the
three blocks, never ``params:ranking`` whole: Kedro cannot validate a key and its sub-keys at once.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, NonNegativeFloat, NonNegativeInt, PositiveInt, model_validator

# minmax: (x - min) / (max - min) within the request; rank: the percentile rank within the request
# (ties share their mean rank); none: the raw values.
Normalisation = Literal["minmax", "rank", "none"]


class _StrictModel(BaseModel):
    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class CandidateParams(_StrictModel):
    """Which retrieved candidates are scored, for which slot, in batches of how many requests."""

    # 0 scores every retrieved candidate; N > 0 only the best N of each request by retrieval rank.
    max_per_request: NonNegativeInt = 0
    # Rows written per request and model, best first; 0 writes every scored candidate. Scoring all
    # and keeping the best N shrinks the hand-over to auction_eval without a weaker pre-rank.
    keep_per_request: NonNegativeInt = 100
    # Candidates are scored as if shown in this slot (1 = the top one); the auction discounts lower slots.
    reference_position: PositiveInt = 1
    requests_per_batch: PositiveInt = 1000


class ObjectiveParams(_StrictModel):
    """score = alpha * N(pCTR) + beta * N(pCVR) + gamma * N(bid * pCTR), N the per-request normalisation."""

    alpha: NonNegativeFloat = 0.4
    beta: NonNegativeFloat = 0.3
    gamma: NonNegativeFloat = 0.3
    normalisation: Normalisation = "minmax"

    @model_validator(mode="after")
    def _some_weight_is_positive(self) -> ObjectiveParams:
        if self.alpha + self.beta + self.gamma <= 0:
            raise ValueError("ranking.objective: at least one of alpha, beta, gamma must be positive")
        return self


class ScoringParams(_StrictModel):
    """Which ctr_training models rank the candidates, and which one gives pCVR."""

    # Each listed model's ranking is written, with its pCTR through the calibrator ctr_training saved.
    models: list[Annotated[str, Field(min_length=1)]] = Field(min_length=1)
    # The model whose P(conversion | click) serves every ranking model's objective (it needs a pCVR head).
    pcvr_model: Annotated[str, Field(min_length=1)]
    num_threads: PositiveInt = 2  # torch threads of the torch models

    @model_validator(mode="after")
    def _models_are_distinct(self) -> ScoringParams:
        if len(set(self.models)) != len(self.models):
            raise ValueError(f"ranking.scoring.models lists a model twice: {self.models}")
        return self
