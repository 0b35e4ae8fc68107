"""Typed parameters of the feature transforms.

Kedro validates the ``params:`` inputs of the features nodes against these models, so a typo or an
out-of-range value fails at start-up with the parameter's name in the message. They are plain
pydantic models, usable without Kedro (notebooks, tests).
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveFloat, PositiveInt, model_validator


class _StrictModel(BaseModel):
    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)


class SplitParams(_StrictModel):
    """How many of the last distinct days go to each evaluation split (the rest is train)."""

    valid_days: PositiveInt = 1
    test_days: PositiveInt = 1


class DriftWindow(BaseModel):
    """The simulator's drift window (``params:marketplace.drift``); only the two fields we need."""

    # The simulator owns this block and may grow more keys (magnitudes, kinds of drift).
    model_config = ConfigDict(extra="ignore", frozen=True)

    enabled: bool = False
    n_days: NonNegativeInt = 0

    @property
    def days(self) -> int:
        return self.n_days if self.enabled else 0


class VocabularyParams(_StrictModel):
    """Categorical columns encoded through a vocabulary fitted on the train split."""

    min_count: PositiveInt = 2
    columns: list[str] = Field(
        default_factory=lambda: [
            "user_id",
            "ad_id",
            "advertiser_id",
            "category",
            "country",
            "age_bucket",
            "platform",
            "placement",
            "hour",
            "position",
        ],
        min_length=1,
    )

    @model_validator(mode="after")
    def _ad_columns_are_encoded(self) -> VocabularyParams:
        # The ad features and the behaviour sequences are built from these three vocabularies.
        missing = sorted({"ad_id", "advertiser_id", "category"} - set(self.columns))
        if missing:
            raise ValueError(f"features.vocabulary.columns must include {missing}")
        return self


class CrossParams(_StrictModel):
    """Pairs of columns hashed together into ``n_hash_buckets`` buckets."""

    n_hash_buckets: PositiveInt = 100_003
    pairs: list[tuple[str, str]] = Field(
        default_factory=lambda: [
            ("country", "age_bucket"),  # the audience segment: tastes and price sensitivity follow it
            ("country", "category"),
            ("age_bucket", "category"),
            ("platform", "category"),
            ("placement", "position"),
            ("hour", "category"),
            ("user_id", "category"),
        ]
    )


class TargetStatParams(_StrictModel):
    """Past-only impression counts and smoothed click rates per key (a key is one or more columns)."""

    keys: list[Annotated[list[str], Field(min_length=1)]] = Field(
        default_factory=lambda: [["ad_id"], ["advertiser_id"], ["category"], ["user_id"], ["user_id", "category"]]
    )
    smoothing_strength: PositiveFloat = 20.0
    initial_prior_ctr: float = Field(default=0.02, gt=0.0, lt=1.0)


class SequenceParams(_StrictModel):
    """Fixed-length behaviour histories per request."""

    sequence_length: PositiveInt = 20
    include_clicked_history: bool = True
    browse_length: PositiveInt = Field(default=50, description="last N organic views per request")
