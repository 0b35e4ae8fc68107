"""Training, evaluating and registering a lifecycle model version, and the drift check against its training days.

Training reads the logged impressions of past days only (public columns and clicks); the ground truth never
reaches a model.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import pandas as pd

from adrank_pipelines.lifecycle.model import Vocabularies, predict, save_model, train_model
from adrank_pipelines.lifecycle.registry import register_version
from adrank_pipelines.lifecycle.replay import logged_rows
from adrank_pipelines.lifecycle.scenario_params import ScenarioParams
from adrank_pipelines.marketplace import MarketplaceTables
from adrank_pipelines.models.metrics import auc, logloss
from adrank_pipelines.monitoring.alerts import alert_table, apply_rules, retrain_recommendation
from adrank_pipelines.monitoring.feature_drift import (
    ReferenceProfile,
    feature_drift,
    fit_reference_profile,
    monitored_features,
)
from adrank_pipelines.monitoring.params import DriftParams
from adrank_pipelines.monitoring.statistics import statistics_frame

# Public columns of the logged impressions watched for drift (the model's inputs).
_CATEGORICAL = ("country", "age_bucket", "user_platform", "platform", "placement", "category")
_NUMERIC = ("hour",)


@dataclass(frozen=True)
class Version:
    """A registered model version: what it learnt from, its own holdout metrics and measured latency."""

    number: int
    model: lgb.Booster
    trained_day: int  # the day at whose end it was trained
    train_days: tuple[int, ...]
    metrics: dict[str, float]
    p99_ms: float
    broken_serving: bool


def offline_metrics(model: lgb.Booster, rows: pd.DataFrame, vocabularies: Vocabularies) -> dict[str, float]:
    scores = predict(model, vocabularies.encode(rows))
    return {"auc": auc(rows["click"], scores), "logloss": logloss(rows["click"], scores)}


def train_version(
    world: MarketplaceTables, vocabularies: Vocabularies, train_days: list[int], params: ScenarioParams
) -> lgb.Booster:
    rows = logged_rows(world, train_days)
    return train_model(vocabularies.encode(rows), rows["click"].to_numpy(), params.model, params.seed)


def register(
    model: lgb.Booster,
    params: ScenarioParams,
    run_id: str,
    metrics: dict[str, float],
    lineage: dict[str, Any],
) -> int:
    """Save the model under the run's artifacts folder and register it; the new version's number."""
    registry = params.registry
    path = Path(registry.artifacts_dir) / run_id / f"day{lineage['trained_day']}.txt"
    save_model(model, path)
    version = register_version(
        registry.uri, registry.model_name, path, metrics, {key: str(value) for key, value in lineage.items()}
    )
    return version.version


def reference_profile(world: MarketplaceTables, days: tuple[int, ...], params: DriftParams) -> ReferenceProfile:
    features = monitored_features({name: [name] for name in _CATEGORICAL}, list(_NUMERIC), {})
    return fit_reference_profile(
        logged_rows(world, list(days)),
        features,
        params.features.max_categories,
        params.features.numeric_bins,
        params.share_floor,
        window="champion_training_days",
    )


def drift_check(profile: ReferenceProfile, day_rows: pd.DataFrame, day: int, params: DriftParams) -> dict[str, Any]:
    """The monitoring package's feature drift and alert rules on one logged day against the champion's
    training days: its recommendation (retrain / watch / none) with the alerts behind it."""
    window = f"day_{day}"
    evaluated = apply_rules(statistics_frame(feature_drift(profile, day_rows, window)), params.rules)
    return retrain_recommendation(alert_table(evaluated), [window], params.retrain.min_alerts)
