"""Impressions joined with their ad, advertiser and user attributes, plus split and cold-start flags."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.features.splits import TRAIN, assign_days_to_splits, split_labels

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
    ordered = impressions.sort_values(["event_time", "impression_id"], kind="stable")
    day_to_split, seen_ad_ids = split_plan(ordered["day"], ordered["ad_id"], valid_days, test_days, drift_days)
    return enrich_slice(ordered, ads, advertisers, users, day_to_split, seen_ad_ids)


def split_plan(
    days: pd.Series, ad_ids: pd.Series, valid_days: int, test_days: int, drift_days: int
) -> tuple[dict[int, str], np.ndarray]:
    """The split of every day of the log and the ids of the ads with an impression on a train day."""
    day_to_split = assign_days_to_splits(days, valid_days, test_days, drift_days)
    train_days = [day for day, split in day_to_split.items() if split == TRAIN]
    return day_to_split, ad_ids.loc[days.isin(train_days)].unique()


def join_attributes(
    impressions: pd.DataFrame, ads: pd.DataFrame, advertisers: pd.DataFrame, users: pd.DataFrame
) -> pd.DataFrame:
    """The impressions, in their order, with their ad, advertiser and user attributes."""
    return (
        impressions.merge(ads[AD_ATTRIBUTES], on="ad_id", how="left", validate="many_to_one")
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


def enrich_slice(
    impressions: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    users: pd.DataFrame,
    day_to_split: dict[int, str],
    seen_ad_ids: np.ndarray,
) -> pd.DataFrame:
    """:func:`enrich_impressions` of a time-sorted slice of the log, given the whole log's splits and train ads."""
    enriched = join_attributes(impressions, ads, advertisers, users)
    enriched["split"] = split_labels(enriched["day"], day_to_split)
    enriched["is_cold_start_ad"] = ~enriched["ad_id"].isin(seen_ad_ids)
    return enriched


def train_ad_ids(enriched: pd.DataFrame) -> np.ndarray:
    """Ids of the ads with at least one impression in the train split."""
    return enriched.loc[enriched["split"] == TRAIN, "ad_id"].unique()
