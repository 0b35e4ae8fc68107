"""Impressions joined with their ad, advertiser and user attributes, plus split and cold-start flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.features.splits import TRAIN, split_column

AD_ATTRIBUTES = ["ad_id", "advertiser_id", "category", "bid", "first_day"]
# Renamed where the name is taken: the impression's category is the ad's, its platform the request's.
ADVERTISER_ATTRIBUTES = {"advertiser_id": "advertiser_id", "category": "advertiser_category"}
USER_ATTRIBUTES = {"user_id": "user_id", "country": "country", "age_bucket": "age_bucket", "platform": "user_platform"}


def enrich_impressions(
    impressions: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    users: pd.DataFrame,
    valid_days: int,
    test_days: int,
    drift_days: int,
) -> pd.DataFrame:
    """Chronologically sorted impressions with entity attributes, ``split`` and ``is_cold_start_ad``.

    An ad is cold-start when it has no impression in the train split: the models have never seen it.
    """
    enriched = (
        impressions.sort_values(["event_time", "impression_id"], kind="stable")
        .merge(ads[AD_ATTRIBUTES], on="ad_id", how="left", validate="many_to_one")
        .merge(
            advertisers[list(ADVERTISER_ATTRIBUTES)].rename(columns=ADVERTISER_ATTRIBUTES),
            on="advertiser_id",
            how="left",
            validate="many_to_one",
        )
        .merge(
            users[list(USER_ATTRIBUTES)].rename(columns=USER_ATTRIBUTES),
            on="user_id",
            how="left",
            validate="many_to_one",
        )
    )
    enriched["split"] = split_column(enriched["day"], valid_days, test_days, drift_days)
    enriched["is_cold_start_ad"] = ~enriched["ad_id"].isin(train_ad_ids(enriched))
    return enriched


def train_ad_ids(enriched: pd.DataFrame) -> np.ndarray:
    """Ids of the ads with at least one impression in the train split."""
    return enriched.loc[enriched["split"] == TRAIN, "ad_id"].unique()
