"""Ingest: run the seeded marketplace simulator and hand its tables to the catalog."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from adrank_pipelines.marketplace import MarketplaceConfig, simulate_marketplace
from adrank_pipelines.marketplace.summary import summarise_world

logger = logging.getLogger(__name__)


def simulate(config: MarketplaceConfig) -> tuple[Any, ...]:
    """Return users, advertisers, ads, requests, impressions, user events and the four ground-truth entries."""
    tables = simulate_marketplace(config)
    impressions = tables.impressions
    logger.info(
        "simulated %d impressions (%d requests, %d users, %d ads, %d browsing events): CTR %.4f, "
        "conversions per click %.4f",
        len(impressions),
        len(tables.requests),
        len(tables.users),
        len(tables.ads),
        len(tables.user_events),
        impressions["click"].mean(),
        impressions["conversion"].sum() / max(int(impressions["click"].sum()), 1),
    )
    return (
        tables.users,
        tables.advertisers,
        tables.ads,
        tables.requests,
        impressions,
        tables.user_events,
        tables.truth_impressions,
        tables.truth_users,
        tables.truth_ads,
        tables.truth_world,
    )


def summarise(
    impressions: pd.DataFrame, truth_impressions: pd.DataFrame, ads: pd.DataFrame, truth_world: dict[str, Any]
) -> dict[str, Any]:
    summary = summarise_world(impressions, truth_impressions, ads, truth_world)
    logger.info("world: CTR %.4f, oracle AUC %.4f", summary["ctr"], summary["oracle_auc"])
    return summary
