"""Past-only counts and smoothed click rates per key (ad, advertiser, category, user, user x category).

Every statistic of a row uses only rows with a strictly earlier ``event_time``: rows at the same
instant (the slots of one request) never see each other, and nothing after the row can move it. The
computation is a sort plus cumulative sums, O(n log n) per key, with no Python loop over rows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from adrank_pipelines.features.timestamps import epoch_nanoseconds


@dataclass(frozen=True)
class EarlierTotals:
    """Impressions and clicks of the rows before a slice of the log, overall and per key value.

    A slice of a time-ordered log (a day, a partition) gets the exact past-only statistics of the whole
    log when these totals cover every earlier row and no instant is shared across the slice's edge.
    ``per_key`` maps :func:`key_name` to a frame of the key's columns plus ``impressions`` and ``clicks``.
    """

    impressions: int = 0
    clicks: int = 0
    per_key: Mapping[str, pd.DataFrame] = field(default_factory=dict)


def key_name(key: Sequence[str]) -> str:
    """Column-name stem of a key: ``user_id`` or ``user_id_x_category``."""
    return "_x_".join(key)


def count_columns(key: Sequence[str]) -> list[str]:
    """The raw count columns of a key: impressions and clicks strictly before the row."""
    stem = key_name(key)
    return [f"{stem}_impressions", f"{stem}_clicks"]


def numeric_feature_columns(key: Sequence[str]) -> list[str]:
    """The columns of a key meant for a model: log counts and the smoothed click rate."""
    stem = key_name(key)
    return [f"{stem}_log_impressions", f"{stem}_log_clicks", f"{stem}_ctr"]


def _key_codes(frame: pd.DataFrame, key: Sequence[str]) -> np.ndarray:
    return frame.groupby(list(key), sort=False, dropna=False, observed=True).ngroup().to_numpy(dtype=np.int64)


def strictly_prior_counts(
    key_codes: np.ndarray, times: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per row: rows with the same key and a strictly earlier time, and the sum of their labels."""
    order = np.lexsort((times, key_codes))
    sorted_keys, sorted_times = key_codes[order], times[order]
    positions = np.arange(len(order))
    starts_key = np.ones(len(order), dtype=bool)
    starts_key[1:] = sorted_keys[1:] != sorted_keys[:-1]
    starts_instant = starts_key.copy()
    starts_instant[1:] |= sorted_times[1:] != sorted_times[:-1]
    # Position of the first row of the row's key, and of the first row sharing its key and time.
    key_start = np.maximum.accumulate(np.where(starts_key, positions, 0))
    instant_start = np.maximum.accumulate(np.where(starts_instant, positions, 0))
    label_cumsum = np.concatenate([[0], np.cumsum(labels[order], dtype=np.int64)])

    prior_rows = np.empty(len(order), dtype=np.int64)
    prior_labels = np.empty(len(order), dtype=np.int64)
    prior_rows[order] = instant_start - key_start
    prior_labels[order] = label_cumsum[instant_start] - label_cumsum[key_start]
    return prior_rows, prior_labels


def global_prior_ctr(
    times: np.ndarray,
    clicks: np.ndarray,
    initial_prior_ctr: float,
    smoothing_strength: float,
    earlier: EarlierTotals | None = None,
) -> np.ndarray:
    """Click rate of all strictly earlier rows (``earlier``'s included), shrunk toward ``initial_prior_ctr``.

    Shrinking keeps the first rows of a log (a handful of impressions, maybe no click yet) from
    getting a prior of exactly 0.
    """
    earlier = earlier or EarlierTotals()
    impressions, prior_clicks = strictly_prior_counts(np.zeros(len(times), dtype=np.int64), times, clicks)
    return (prior_clicks + earlier.clicks + smoothing_strength * initial_prior_ctr) / (
        impressions + earlier.impressions + smoothing_strength
    )


def key_totals(frame: pd.DataFrame, key: Sequence[str]) -> pd.DataFrame:
    """Impressions and clicks of ``frame`` per value of ``key`` (the key's columns, impressions, clicks)."""
    grouped = frame.groupby(list(key), sort=False, dropna=False, observed=True)["click"]
    return pd.DataFrame({"impressions": grouped.size(), "clicks": grouped.sum()}).astype(np.int64).reset_index()


def _earlier_key_counts(
    frame: pd.DataFrame, key: Sequence[str], earlier: EarlierTotals
) -> tuple[np.ndarray, np.ndarray]:
    totals = earlier.per_key.get(key_name(key))
    if totals is None or totals.empty:
        return np.zeros(len(frame), dtype=np.int64), np.zeros(len(frame), dtype=np.int64)
    matched = frame[list(key)].merge(totals, on=list(key), how="left", sort=False, validate="many_to_one")
    return (
        matched["impressions"].fillna(0).to_numpy(dtype=np.int64),
        matched["clicks"].fillna(0).to_numpy(dtype=np.int64),
    )


def target_statistics(
    frame: pd.DataFrame,
    keys: Sequence[Sequence[str]],
    smoothing_strength: float,
    initial_prior_ctr: float,
    earlier: EarlierTotals | None = None,
) -> pd.DataFrame:
    """Counts, log counts and smoothed CTR per key for every row of ``frame`` (needs event_time, click).

    smoothed CTR = (prior clicks + m * prior) / (prior impressions + m), with m the smoothing
    strength and the prior the (equally smoothed) global click rate of all strictly earlier rows.
    ``earlier`` adds the rows before ``frame`` when it is one time slice of a longer log.
    """
    earlier = earlier or EarlierTotals()
    times = epoch_nanoseconds(frame["event_time"])
    clicks = frame["click"].to_numpy(dtype=np.int64)
    prior = global_prior_ctr(times, clicks, initial_prior_ctr, smoothing_strength, earlier)
    columns: dict[str, np.ndarray] = {}
    for key in keys:
        impressions, key_clicks = strictly_prior_counts(_key_codes(frame, key), times, clicks)
        impressions_earlier, clicks_earlier = _earlier_key_counts(frame, key, earlier)
        impressions, key_clicks = impressions + impressions_earlier, key_clicks + clicks_earlier
        impressions_name, clicks_name = count_columns(key)
        log_impressions_name, log_clicks_name, ctr_name = numeric_feature_columns(key)
        columns[impressions_name] = impressions.astype(np.int32)
        columns[clicks_name] = key_clicks.astype(np.int32)
        columns[log_impressions_name] = np.log1p(impressions).astype(np.float32)
        columns[log_clicks_name] = np.log1p(key_clicks).astype(np.float32)
        columns[ctr_name] = ((key_clicks + smoothing_strength * prior) / (impressions + smoothing_strength)).astype(
            np.float32
        )
    return pd.DataFrame(columns, index=frame.index)
