"""Typed parameters of the service's dynamic batching (``serving.batching``).

A misspelt key or an out-of-range value fails at start-up naming the parameter. Plain pydantic
models, usable without Kedro.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, NonNegativeFloat, PositiveInt

# Where these parameters live in the service's configuration; errors name a parameter by this prefix.
PARAMS_PATH = "serving.batching"


class BatchingParams(BaseModel):
    """How requests are grouped into one call of the scoring function.

    A batch closes when it holds ``max_batch_size`` requests or when ``max_wait_ms`` milliseconds
    have passed since its first request was taken, whichever comes first. ``max_wait_ms: 0`` scores
    whatever is already queued without waiting: the lowest latency, the smallest batches.
    """

    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)

    max_batch_size: PositiveInt = 32
    max_wait_ms: NonNegativeFloat = 2.0
