"""Model-input tables: every feature of an impression in one row, one table per split."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from adrank_pipelines.features.crosses import cross_column_name, hashed_cross
from adrank_pipelines.features.splits import SPLITS
from adrank_pipelines.features.target_stats import EarlierTotals, target_statistics
from adrank_pipelines.features.vocabulary import Vocabulary, encode_columns

ID_COLUMNS = ["request_id", "impression_id", "user_id", "ad_id", "event_time", "day", "split", "is_cold_start_ad"]
LABEL_COLUMNS = ["click", "conversion"]
DAY_OF_WEEK_COLUMN = "day_of_week_idx"
# Monday..Sunday shift to 1..7 so 0 stays padding like every other categorical.
DAY_OF_WEEK_SIZE = 8
CONTEXT_NUMERIC_COLUMNS = ["position", "hour_sin", "hour_cos", "log_bid"]
# Each context feature and the raw column it is computed from, in the model inputs' column order.
CONTEXT_SOURCES = {
    "position": "position", "hour_sin": "hour", "hour_cos": "hour", DAY_OF_WEEK_COLUMN: "event_time", "log_bid": "bid",
}  # fmt: skip


def context_columns(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """The context features whose raw column ``frame`` holds (a request table has no bid, an ad table no hour)."""
    values = {}
    if "position" in frame.columns:
        values["position"] = frame["position"].to_numpy(dtype=np.int32)
    if "hour" in frame.columns:
        hour_angle = 2.0 * np.pi * frame["hour"].to_numpy(dtype=np.float64) / 24.0
        values["hour_sin"] = np.sin(hour_angle).astype(np.float32)
        values["hour_cos"] = np.cos(hour_angle).astype(np.float32)
    if "event_time" in frame.columns:
        values[DAY_OF_WEEK_COLUMN] = (frame["event_time"].dt.dayofweek.to_numpy() + 1).astype(np.int32)
    if "bid" in frame.columns:
        values["log_bid"] = np.log(frame["bid"].to_numpy(dtype=np.float64)).astype(np.float32)
    return values


def context_features(impressions: pd.DataFrame) -> pd.DataFrame:
    """Position, cyclic hour, day of week and log bid: features that need no fitting."""
    missing = sorted({source for source in CONTEXT_SOURCES.values() if source not in impressions.columns})
    if missing:
        raise KeyError(f"context features need the column(s) {missing}")
    values = context_columns(impressions)
    return pd.DataFrame({name: values[name] for name in CONTEXT_SOURCES}, index=impressions.index)


def cross_features(impressions: pd.DataFrame, pairs: Sequence[tuple[str, str]], n_buckets: int) -> pd.DataFrame:
    """One hashed bucket column per pair of raw columns."""
    return pd.DataFrame(
        {
            cross_column_name(left, right): hashed_cross(impressions[left], impressions[right], n_buckets)
            for left, right in pairs
        },
        index=impressions.index,
    )


def model_input(
    impressions: pd.DataFrame,
    vocabularies: Mapping[str, Vocabulary],
    cross_pairs: Sequence[tuple[str, str]],
    n_hash_buckets: int,
    target_keys: Sequence[Sequence[str]],
    smoothing_strength: float,
    initial_prior_ctr: float,
    earlier: EarlierTotals | None = None,
) -> pd.DataFrame:
    """Ids, labels and all per-impression features of the enriched impressions (all splits at once).

    Target statistics run over all splits together, in time order, as they would online: a test
    row sees the clicks of earlier test rows, never of later ones. ``earlier`` holds the totals of
    the log before ``impressions`` when it is one time slice of the log.
    """
    return pd.concat(
        [
            impressions[ID_COLUMNS + LABEL_COLUMNS],
            encode_columns(impressions, vocabularies),
            cross_features(impressions, cross_pairs, n_hash_buckets),
            context_features(impressions),
            target_statistics(impressions, target_keys, smoothing_strength, initial_prior_ctr, earlier),
        ],
        axis=1,
    )


def split_model_input(features: pd.DataFrame) -> dict[str, pd.DataFrame]:
    """One frame per split (train, valid, test, drift); a split without days gives an empty frame."""
    return {split: features.loc[features["split"] == split].reset_index(drop=True) for split in SPLITS}
