"""Ingest: run the seeded marketplace simulator and hand its tables to the catalog."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from adrank_pipelines.marketplace import MarketplaceConfig, simulate_marketplace

logger = logging.getLogger(__name__)


def simulate(config: MarketplaceConfig) -> tuple[pd.DataFrame, ...] | tuple[Any, ...]:
    """Return users, advertisers, ads, requests, impressions and the four ground-truth entries."""
    tables = simulate_marketplace(config)
    impressions = tables.impressions
    logger.info(
        "simulated %d impressions (%d requests, %d users, %d ads): CTR %.4f, conversions per click %.4f",
        len(impressions),
        len(tables.requests),
        len(tables.users),
        len(tables.ads),
        impressions["click"].mean(),
        impressions["conversion"].sum() / max(int(impressions["click"].sum()), 1),
    )
    return (
        tables.users,
        tables.advertisers,
        tables.ads,
        tables.requests,
        impressions,
        tables.truth_impressions,
        tables.truth_users,
        tables.truth_ads,
        tables.truth_world,
    )
