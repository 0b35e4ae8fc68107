"""The features stage on dask.dataframe: the enriched impressions as one partition per day.

Each partition is featurised by the same pandas functions as the in-memory path. What a day needs from
the days before it (the past-only counts of every target-statistics key) is computed first as small
per-key totals per partition, accumulated in time order and handed to each partition, so the
partitioned features equal the in-memory ones row for row (docs/adr/0023-dask-data-stages-and-lightgbm.md).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import dask
import dask.dataframe as dd
import numpy as np
import pandas as pd

from adrank_pipelines.features.assemble import model_input, split_model_input
from adrank_pipelines.features.browsing import with_browse_affinity
from adrank_pipelines.features.enrich import enrich_slice, split_plan
from adrank_pipelines.features.splits import SPLITS
from adrank_pipelines.features.target_stats import EarlierTotals, key_name, key_totals
from adrank_pipelines.features.vocabulary import Vocabulary

_COUNTS = ["impressions", "clicks"]


@dataclass(frozen=True)
class SliceTotals:
    """What later partitions need from one partition: its time range and its totals."""

    first_time: pd.Timestamp | None
    last_time: pd.Timestamp | None
    totals: EarlierTotals


def enriched_by_day(
    impressions: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    users: pd.DataFrame,
    valid_days: int,
    test_days: int,
    drift_days: int,
) -> dd.DataFrame:
    """The enriched impressions (as ``enrich_impressions`` makes them), one time-sorted partition per day.

    The split of each day and the ads seen in training are read from the whole log first; each
    partition then joins its attributes on its own.
    """
    ordered = impressions.sort_values(["event_time", "impression_id"], kind="stable", ignore_index=True)
    day_to_split, seen_ad_ids = split_plan(ordered["day"], ordered["ad_id"], valid_days, test_days, drift_days)
    days = ordered["day"].to_numpy()
    day_starts = np.flatnonzero(np.r_[True, days[1:] != days[:-1]])
    # A RangeIndex over the sorted rows: each day's first row is a division, so a partition holds one day.
    # The log's own string dtype is kept (Dask would otherwise turn text columns into its Arrow strings).
    with dask.config.set({"dataframe.convert-string": False}):
        by_day = dd.from_pandas(ordered, npartitions=1, sort=True).repartition(
            divisions=[*day_starts.tolist(), len(ordered) - 1]
        )
    meta = enrich_slice(ordered.iloc[:0], ads, advertisers, users, day_to_split, seen_ad_ids)
    return by_day.map_partitions(enrich_slice, ads, advertisers, users, day_to_split, seen_ad_ids, meta=meta)


def _slice_totals(frame: pd.DataFrame, keys: Sequence[Sequence[str]]) -> SliceTotals:
    times = frame["event_time"]
    return SliceTotals(
        first_time=times.min() if len(frame) else None,
        last_time=times.max() if len(frame) else None,
        totals=EarlierTotals(
            impressions=len(frame),
            clicks=int(frame["click"].sum()),
            per_key={key_name(key): key_totals(frame, key) for key in keys},
        ),
    )


def _added(running: pd.DataFrame | None, more: pd.DataFrame) -> pd.DataFrame:
    if running is None or running.empty:
        return more
    key = [column for column in more.columns if column not in _COUNTS]
    both = pd.concat([running, more], ignore_index=True)
    return both.groupby(key, sort=False, dropna=False, observed=True)[_COUNTS].sum().reset_index()


def earlier_totals(slices: Sequence[SliceTotals]) -> list[EarlierTotals]:
    """Per partition, the totals of every partition before it.

    Raises:
        ValueError: when a partition starts at or before the instant the previous one ended: past-only
            statistics of a slice are exact only when slices are in time order and share no instant.
    """
    earlier: list[EarlierTotals] = []
    running = EarlierTotals()
    last_time: pd.Timestamp | None = None
    for index, current in enumerate(slices):
        if current.first_time is not None and last_time is not None and current.first_time <= last_time:
            raise ValueError(
                f"impressions_enriched partition {index} starts at {current.first_time}, not after the previous "
                f"partition's last row ({last_time}): the partitions must be whole days in time order"
            )
        last_time = current.last_time if current.last_time is not None else last_time
        earlier.append(running)
        running = EarlierTotals(
            impressions=running.impressions + current.totals.impressions,
            clicks=running.clicks + current.totals.clicks,
            per_key={name: _added(running.per_key.get(name), table) for name, table in current.totals.per_key.items()},
        )
    return earlier


def _featurised_splits(
    impressions: pd.DataFrame,
    earlier: EarlierTotals,
    vocabularies: Mapping[str, Vocabulary],
    sequences: pd.DataFrame,
    settings: Mapping[str, Any],
) -> dict[str, pd.DataFrame]:
    features = model_input(
        impressions,
        vocabularies,
        settings["cross_pairs"],
        settings["n_hash_buckets"],
        settings["target_keys"],
        settings["smoothing_strength"],
        settings["initial_prior_ctr"],
        earlier,
    )
    return split_model_input(with_browse_affinity(features, sequences, settings["browse_length"]))


def partitioned_model_inputs(
    impressions: dd.DataFrame,
    vocabularies: Mapping[str, Vocabulary],
    behaviour_sequences: pd.DataFrame,
    cross_pairs: Sequence[tuple[str, str]],
    n_hash_buckets: int,
    target_keys: Sequence[Sequence[str]],
    smoothing_strength: float,
    initial_prior_ctr: float,
    browse_length: int,
) -> dict[str, pd.DataFrame]:
    """``split_model_input(with_browse_affinity(model_input(...)))`` of the partitioned enriched impressions.

    Two passes over the partitions: their per-key totals (small), then their features, each partition
    with the accumulated totals of the partitions before it. The split frames are gathered in order.
    """
    parts = impressions.to_delayed()
    slices = dask.compute(*[dask.delayed(_slice_totals)(part, target_keys) for part in parts])
    settings = {
        "cross_pairs": cross_pairs,
        "n_hash_buckets": n_hash_buckets,
        "target_keys": target_keys,
        "smoothing_strength": smoothing_strength,
        "initial_prior_ctr": initial_prior_ctr,
        "browse_length": browse_length,
    }
    shared = dask.delayed(vocabularies), dask.delayed(behaviour_sequences), dask.delayed(settings)
    featurised = dask.compute(
        *[
            dask.delayed(_featurised_splits)(part, earlier, *shared)
            for part, earlier in zip(parts, earlier_totals(slices), strict=True)
        ]
    )
    return {split: pd.concat([frames[split] for frames in featurised], ignore_index=True) for split in SPLITS}
