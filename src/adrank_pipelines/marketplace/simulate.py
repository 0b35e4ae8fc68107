"""Simulate the whole marketplace: entities, traffic day by day, labels and the ground truth."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from adrank_pipelines.marketplace.browsing import simulate_browsing
from adrank_pipelines.marketplace.config import MarketplaceConfig
from adrank_pipelines.marketplace.entities import Entities, make_entities
from adrank_pipelines.marketplace.ground_truth import GroundTruth
from adrank_pipelines.marketplace.traffic import simulate_day
from adrank_pipelines.marketplace.vocabulary import (
    ALL_CATEGORIES,
    OFFER_CLICK_EFFECTS,
    OFFER_CONVERSION_EFFECTS,
)


@dataclass(frozen=True)
class MarketplaceTables:
    users: pd.DataFrame
    advertisers: pd.DataFrame
    ads: pd.DataFrame
    requests: pd.DataFrame
    impressions: pd.DataFrame
    user_events: pd.DataFrame
    truth_impressions: pd.DataFrame
    truth_users: pd.DataFrame
    truth_ads: pd.DataFrame
    truth_world: dict[str, Any]


def describe_world(rng: np.random.Generator, config: MarketplaceConfig, entities: Entities) -> dict[str, Any]:
    """Everything beyond the per-user and per-ad truth that the click and conversion models need."""
    platforms = list(config.platforms)
    std = config.click_model.platform_category_std
    drift = config.drift
    return {
        "seed": config.seed,
        "start_date": config.start_date.isoformat(),
        "categories": list(ALL_CATEGORIES),
        "platforms": platforms,
        "click_model": config.click_model.model_dump(),
        "conversion_model": config.conversion_model.model_dump(),
        "placement_click_effects": {name: p.click_effect for name, p in config.placements.items()},
        "platform_category_effects": {p: rng.normal(0.0, std, len(ALL_CATEGORIES)).tolist() for p in platforms},
        "offer_click_effects": {k: list(v) for k, v in OFFER_CLICK_EFFECTS.items()},
        "offer_conversion_effects": {k: list(v) for k, v in OFFER_CONVERSION_EFFECTS.items()},
        "theme_embeddings": entities.theme_embeddings.tolist(),
        "days": {"n_days": config.n_days, "valid_day": config.test_day - 1, "test_day": config.test_day},
        "cold_start_ad_ids": entities.ads.loc[entities.ads["first_day"] == config.test_day, "ad_id"].tolist(),
        "drift": {
            "start_day": config.n_days if drift.enabled else None,
            "n_days": drift.n_days if drift.enabled else 0,
            "interest_multipliers": dict.fromkeys(drift.shifted_categories, drift.interest_multiplier)
            if drift.enabled
            else {},
            "platform_shares": drift.platform_shares if drift.enabled else {},
            "new_category_ad_ids": entities.ads.loc[entities.ads["first_day"] >= config.n_days, "ad_id"].tolist()
            if drift.enabled
            else [],
            # Only a growing drift records its ramp, so the default world's description is unchanged.
            **({"ramp_days": drift.ramp_days} if drift.enabled and drift.ramp_days > 1 else {}),
        },
    }


def simulate_marketplace(config: MarketplaceConfig, show_progress: bool = True) -> MarketplaceTables:
    rng = np.random.default_rng(config.seed)
    entities = make_entities(rng, config)
    world = describe_world(rng, config, entities)
    truth = GroundTruth(entities.truth_users, entities.truth_ads, world)
    ad_quality = entities.truth_ads["quality"].to_numpy()
    days = [
        simulate_day(rng, config, entities.users, entities.ads, truth, ad_quality, day)
        for day in tqdm(range(config.total_days), desc="simulating days", disable=not show_progress)
    ]
    requests = pd.concat([d.requests for d in days], ignore_index=True)
    requests.insert(0, "request_id", np.arange(1, len(requests) + 1, dtype=np.int64))
    impressions = pd.concat([d.impressions for d in days], ignore_index=True)
    # Requests and impressions are concatenated in the same (time) order, so ids line up per day.
    request_offsets = np.cumsum([0] + [len(d.requests) for d in days[:-1]])
    day_of_row = np.repeat(np.arange(len(days)), [len(d.impressions) for d in days])
    impressions.insert(0, "impression_id", np.arange(1, len(impressions) + 1, dtype=np.int64))
    impressions.insert(1, "request_id", request_offsets[day_of_row] + impressions["request_row"].to_numpy() + 1)
    truth_impressions = impressions[["impression_id", "true_pctr", "true_pcvr"]].copy()
    public_columns = [
        "impression_id",
        "request_id",
        "user_id",
        "ad_id",
        "event_time",
        "day",
        "hour",
        "placement",
        "platform",
        "position",
        "click",
        "conversion",
    ]
    return MarketplaceTables(
        users=entities.users,
        advertisers=entities.advertisers,
        ads=entities.ads,
        requests=requests,
        impressions=impressions[public_columns],
        user_events=simulate_browsing(config, entities.users, truth),
        truth_impressions=truth_impressions,
        truth_users=entities.truth_users,
        truth_ads=entities.truth_ads,
        truth_world=world,
    )
