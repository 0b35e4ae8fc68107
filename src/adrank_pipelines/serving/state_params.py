"""Typed parameters of the serving state layer (``serving.state``).

A misspelt key or an out-of-range value fails at start-up naming the parameter. Plain pydantic
models, usable without Kedro.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator

# Where these parameters live in the service's configuration; errors name a parameter by this prefix.
PARAMS_PATH = "serving.state"

_REDIS_SCHEMES = ("redis://", "rediss://", "unix://")


class OnlineStateParams(BaseModel):
    """Which backend holds the online state, and where.

    ``backend: embedded`` keeps the budget ledger in a SQLite file (``budget_path``) and the user
    profiles in process memory; ``backend: redis`` keeps both in the Redis server at ``redis_url``,
    under keys starting with ``key_prefix``.
    """

    # A misspelt key must fail loudly instead of silently falling back to a default.
    model_config = ConfigDict(extra="forbid", frozen=True)

    backend: Literal["embedded", "redis"] = "embedded"
    redis_url: str = "redis://127.0.0.1:6379/0"
    key_prefix: str = Field(default="adrank", min_length=1, pattern=r"^[^\s{}]+$")
    budget_path: str = Field(default="data/09_serving/budget_ledger.sqlite", min_length=1)
    max_events: PositiveInt = 50

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(_REDIS_SCHEMES):
            raise ValueError(f"must start with one of {', '.join(_REDIS_SCHEMES)}; got {value!r}")
        return value
