"""A feature-store snapshot of the target statistics, and its lookup for (request, ad) pairs never logged.

Serving reads counts and smoothed click rates from a store refreshed once a day, not from the
log of the current day: the snapshot taken at ``as_of`` holds, per key value, the statistics over
the impressions strictly before ``as_of``. It is computed by :func:`target_statistics` itself, on
the history plus one probe row per key value stamped ``as_of``, so every count, log and smoothing
step is the features pipeline's own. A key value without history gets zero counts and the global
prior as its click rate, which is what :func:`target_statistics` gives a first impression.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import SupportsInt, cast

import numpy as np
import pandas as pd

from adrank_pipelines.features.target_stats import (
    count_columns,
    global_prior_ctr,
    numeric_feature_columns,
    target_statistics,
)
from adrank_pipelines.features.timestamps import epoch_nanoseconds

Key = tuple[str, ...]


def statistic_columns(key: Sequence[str]) -> list[str]:
    """The five columns a key contributes to a model input, in :func:`target_statistics` order."""
    impressions, clicks = count_columns(key)
    log_impressions, log_clicks, ctr = numeric_feature_columns(key)
    return [impressions, clicks, log_impressions, log_clicks, ctr]


@dataclass(frozen=True)
class StatisticsSnapshot:
    """Per key, the statistics of every key value seen before ``as_of``; unseen values get ``prior_ctr``."""

    as_of: pd.Timestamp
    prior_ctr: float
    tables: dict[Key, pd.DataFrame]  # key columns + statistic_columns(key), one row per seen key value

    @property
    def n_entries(self) -> int:
        return sum(len(table) for table in self.tables.values())


def statistics_snapshot(
    impressions: pd.DataFrame,
    as_of: pd.Timestamp,
    keys: Sequence[Sequence[str]],
    smoothing_strength: float,
    initial_prior_ctr: float,
) -> StatisticsSnapshot:
    """The snapshot at ``as_of`` of the logged ``impressions`` (needs event_time, click and the key columns)."""
    as_of_ns = epoch_nanoseconds(pd.Series([as_of]))[0]
    history = impressions.loc[epoch_nanoseconds(impressions["event_time"]) < as_of_ns]
    clicks = history["click"].to_numpy(dtype=np.int64)
    # The prior a probe would see: the smoothed click rate of everything before ``as_of``.
    prior = global_prior_ctr(
        np.append(epoch_nanoseconds(history["event_time"]), as_of_ns),
        np.append(clicks, 0),
        initial_prior_ctr,
        smoothing_strength,
    )[-1]
    tables = {}
    for key in keys:
        columns = list(key)
        probes = history[columns].drop_duplicates().assign(event_time=as_of, click=0)
        frame = pd.concat([history[[*columns, "event_time", "click"]], probes], ignore_index=True)
        statistics = target_statistics(frame, [columns], smoothing_strength, initial_prior_ctr)
        probe_rows = np.arange(len(history), len(frame))
        tables[tuple(columns)] = pd.concat(
            [probes[columns].reset_index(drop=True), statistics.iloc[probe_rows].reset_index(drop=True)], axis=1
        )
    return StatisticsSnapshot(as_of=as_of, prior_ctr=float(prior), tables=tables)


def _side_codes(
    side: pd.DataFrame, columns: list[str], snapshot_keys: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, int]:
    """Codes of ``columns``' value tuples: per row of ``side``, per snapshot row (-1: not on this side), count."""
    if not columns:
        return np.zeros(len(side), dtype=np.int64), np.zeros(len(snapshot_keys), dtype=np.int64), 1
    if len(columns) == 1:
        values, wanted = pd.Index(side[columns[0]]), pd.Index(snapshot_keys[columns[0]])
    else:
        values, wanted = pd.MultiIndex.from_frame(side[columns]), pd.MultiIndex.from_frame(snapshot_keys[columns])
    distinct = values.unique()
    return distinct.get_indexer(values).astype(np.int64), distinct.get_indexer(wanted).astype(np.int64), len(distinct)


@dataclass(frozen=True)
class _KeyIndex:
    """One key of a snapshot, coded against a request table and an ad table."""

    request_codes: np.ndarray  # per request row
    ad_codes: np.ndarray  # per ad row
    n_ad_codes: int
    sorted_codes: np.ndarray  # pair codes of the snapshot entries, ascending
    values: dict[str, np.ndarray]  # per statistic, in ``sorted_codes`` order, plus the unseen value last

    def positions(self, request_rows: np.ndarray, ad_rows: np.ndarray) -> np.ndarray:
        """Per pair, its entry in ``sorted_codes``; -1 (the appended unseen value) when there is none."""
        codes = self.request_codes[request_rows] * self.n_ad_codes + self.ad_codes[ad_rows]
        if len(self.sorted_codes) == 0:
            return np.full(len(codes), -1, dtype=np.int64)
        positions = np.minimum(np.searchsorted(self.sorted_codes, codes), len(self.sorted_codes) - 1)
        return np.where(self.sorted_codes[positions] == codes, positions, -1)


class SnapshotLookup:
    """The statistics of pairs (``requests`` row, ``ads`` row), with no join over the pairs.

    A key's columns may come from either side (``user_id`` x ``category``): each side's value tuples
    are coded once, here, a pair's key is the two codes combined, and each batch of pairs finds its
    snapshot entries with one ``searchsorted`` per key.
    """

    def __init__(self, snapshot: StatisticsSnapshot, requests: pd.DataFrame, ads: pd.DataFrame) -> None:
        self._keys = [
            self._index_key(key, table, snapshot.prior_ctr, requests, ads) for key, table in snapshot.tables.items()
        ]

    @staticmethod
    def _index_key(
        key: Key, table: pd.DataFrame, prior_ctr: float, requests: pd.DataFrame, ads: pd.DataFrame
    ) -> _KeyIndex:
        request_columns = [name for name in key if name in requests.columns]
        ad_columns = [name for name in key if name not in requests.columns]
        missing = [name for name in ad_columns if name not in ads.columns]
        if missing:
            raise ValueError(f"target-statistic key {list(key)}: neither the request nor the ad side has {missing}")
        request_codes, table_request_codes, _ = _side_codes(requests, request_columns, table)
        ad_codes, table_ad_codes, n_ad_codes = _side_codes(ads, ad_columns, table)
        # Entries whose values no request or ad of these tables has can never be looked up.
        wanted = np.flatnonzero((table_request_codes >= 0) & (table_ad_codes >= 0))
        codes = table_request_codes[wanted] * n_ad_codes + table_ad_codes[wanted]
        order = np.argsort(codes)
        names = statistic_columns(key)
        unseen = dict.fromkeys(names, 0) | {names[-1]: prior_ctr}  # the last one is the click rate
        values = {}
        for name in names:
            column = table[name].to_numpy()
            values[name] = np.concatenate([column[wanted[order]], np.array([unseen[name]], dtype=column.dtype)])
        return _KeyIndex(request_codes, ad_codes, n_ad_codes, codes[order], values)

    def statistics(self, request_rows: np.ndarray, ad_rows: np.ndarray) -> pd.DataFrame:
        """All keys' statistic columns of the pairs, side by side."""
        columns: dict[str, np.ndarray] = {}
        for key in self._keys:
            positions = key.positions(request_rows, ad_rows)
            columns |= {name: values[positions] for name, values in key.values.items()}  # noqa: PD011 - not a pandas object
        return pd.DataFrame(columns)


def daily_snapshots(
    impressions: pd.DataFrame,
    requests: pd.DataFrame,
    keys: Sequence[Sequence[str]],
    smoothing_strength: float,
    initial_prior_ctr: float,
) -> dict[int, StatisticsSnapshot]:
    """Per day of ``requests`` (day, event_time), the snapshot taken just before the day's first request:
    a store refreshed once a day, so no request sees a statistic of its own day."""
    first_request = requests.groupby("day")["event_time"].min()
    return {
        int(cast(SupportsInt, day)): statistics_snapshot(
            impressions, as_of, keys, smoothing_strength, initial_prior_ctr
        )
        for day, as_of in first_request.items()
    }
