"""Typed parameters of the simulated-days scenario (``params:lifecycle`` beside the gates and the rollout).

The scenario plays its own small world: ``params:lifecycle_world`` overrides ``params:marketplace`` key by key
(nested blocks merge), so the default world of the other pipelines is untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, NonNegativeInt, PositiveInt, ValidationError

from adrank_pipelines.marketplace import MarketplaceConfig


class _StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class RetrainParams(_StrictModel):
    """When a challenger is trained: when the day's drift check recommends it, or every ``every_days``
    (0: never on a schedule); on the ``window_days`` logged days before the day it is judged on."""

    on_drift: bool = True
    every_days: NonNegativeInt = 0
    window_days: PositiveInt = 3


class ModelParams(_StrictModel):
    """The LightGBM classifier every version trains (seconds on a few days of logs)."""

    n_estimators: PositiveInt = 100
    learning_rate: float = Field(default=0.1, gt=0.0)
    num_leaves: PositiveInt = 31
    min_child_samples: PositiveInt = 50
    num_threads: PositiveInt = 1


class ServingParams(_StrictModel):
    """How a day's requests are served: ``candidates`` random eligible ads per request, ranked by predicted CTR
    x bid into the request's slots; ``latency_requests`` requests scored one at a time give a version's p99."""

    candidates: int = Field(default=8, ge=2)
    latency_requests: PositiveInt = 200


class RegistryParams(_StrictModel):
    uri: str = Field(default="sqlite:///mlflow.db", min_length=1)
    model_name: str = Field(default="lifecycle_ctr", min_length=1)
    artifacts_dir: str = Field(default="data/06_models/lifecycle", min_length=1)


class ScenarioParams(_StrictModel):
    """``warmup_days`` logged days train the first champion; every later day of the world is played.

    ``broken_deploys``: the first so many challengers that pass the pre-traffic gates ship with a serving bug
    (``model.broken_scores``) that the offline evaluation cannot see."""

    seed: NonNegativeInt = 0
    warmup_days: int = Field(default=3, ge=2)
    broken_deploys: NonNegativeInt = 1
    retrain: RetrainParams = RetrainParams()
    model: ModelParams = ModelParams()
    serving: ServingParams = ServingParams()
    registry: RegistryParams = RegistryParams()


def _merge(base: Mapping[str, Any], overrides: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in overrides.items():
        nested = isinstance(value, Mapping) and isinstance(merged.get(key), Mapping)
        merged[key] = _merge(merged[key], value) if nested else value
    return merged


def scenario_world(marketplace: Mapping[str, Any], overrides: Mapping[str, Any]) -> MarketplaceConfig:
    """``params:marketplace`` with ``params:lifecycle_world`` merged over it; an invalid result names the block."""
    try:
        return MarketplaceConfig.model_validate(_merge(marketplace, overrides))
    except ValidationError as error:
        raise ValueError(f"lifecycle_world merged over marketplace is not a valid world: {error}") from error
