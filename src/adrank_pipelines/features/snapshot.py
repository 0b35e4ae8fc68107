"""A feature-store snapshot of the target statistics, and its lookup for (request, ad) pairs never logged.

Serving reads counts and smoothed click rates from a store refreshed once a day, not from the
log of the current day: the snapshot taken at ``as_of`` holds, per key value, the statistics over
the impressions strictly before ``as_of``. It is computed by :func:`target_statistics` itself, on
the history plus one probe row per key value stamped ``as_of``, so every count, log and smoothing
step is the features pipeline's own. A key value without history gets zero counts and the global
prior as its click rate, which is what :func:`target_statistics` gives a first impression.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
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


def _value_index(frame: pd.DataFrame, columns: list[str]) -> pd.Index:
    """The value tuples of ``columns`` in ``frame`` (one constant value when there are no columns)."""
    if not columns:
        return pd.Index(np.zeros(len(frame), dtype=np.int64))
    if len(columns) == 1:
        single: pd.Index = pd.Index(frame[columns[0]])
        return single
    return pd.MultiIndex.from_frame(frame[columns])


@dataclass(frozen=True)
class _KeyIndex:
    """One key of a snapshot: its entries coded by (request-side value, ad-side value).

    Request-side values are coded against the snapshot's own distinct values, so any request table
    can be coded later (:meth:`request_codes`); ad-side values are coded once against the ad table.
    """

    request_columns: list[str]
    snapshot_request_values: pd.Index  # distinct request-side value tuples of the snapshot entries
    ad_codes: np.ndarray  # per ad row
    n_ad_codes: int
    sorted_codes: np.ndarray  # pair codes of the snapshot entries, ascending
    values: dict[str, np.ndarray]  # per statistic, in ``sorted_codes`` order, plus the unseen value last

    def request_codes(self, requests: pd.DataFrame) -> np.ndarray:
        """Per request row, its request-side value's code (-1: no snapshot entry has it)."""
        codes: np.ndarray = self.snapshot_request_values.get_indexer(
            _value_index(requests, self.request_columns)
        ).astype(np.int64)
        return codes

    def positions(self, request_codes: np.ndarray, ad_rows: np.ndarray) -> np.ndarray:
        """Per pair, its entry in ``sorted_codes``; -1 (the appended unseen value) when there is none."""
        codes = request_codes * self.n_ad_codes + self.ad_codes[ad_rows]
        if len(self.sorted_codes) == 0:
            return np.full(len(codes), -1, dtype=np.int64)
        positions = np.minimum(np.searchsorted(self.sorted_codes, codes), len(self.sorted_codes) - 1)
        return np.where((request_codes >= 0) & (self.sorted_codes[positions] == codes), positions, -1)


class SnapshotLookup:
    """The statistics of (request, ad) pairs, with no join over the pairs.

    A key's columns may come from either side (``user_id`` x ``category``). The ad side is coded
    once, here, against ``ads``; each request table is coded by :meth:`for_requests`, which is all
    a service answering a few requests at a time has to do per batch. A pair's key is its two
    codes combined, and each batch of pairs finds its snapshot entries with one ``searchsorted``
    per key.
    """

    def __init__(self, snapshot: StatisticsSnapshot, request_columns: Collection[str], ads: pd.DataFrame) -> None:
        """``request_columns``: the columns of the request tables to come; a key column that is not
        one of them is read from ``ads``."""
        self._keys = [
            self._index_key(key, table, snapshot.prior_ctr, set(request_columns), ads)
            for key, table in snapshot.tables.items()
        ]

    @staticmethod
    def _index_key(
        key: Key, table: pd.DataFrame, prior_ctr: float, request_columns: set[str], ads: pd.DataFrame
    ) -> _KeyIndex:
        request_side = [name for name in key if name in request_columns]
        ad_side = [name for name in key if name not in request_columns]
        missing = [name for name in ad_side if name not in ads.columns]
        if missing:
            raise ValueError(f"target-statistic key {list(key)}: neither the request nor the ad side has {missing}")
        request_values = _value_index(table, request_side)
        snapshot_request_values = request_values.unique()
        table_request_codes = snapshot_request_values.get_indexer(request_values).astype(np.int64)
        ad_values = _value_index(ads, ad_side)
        distinct_ad_values = ad_values.unique()
        table_ad_codes = distinct_ad_values.get_indexer(_value_index(table, ad_side)).astype(np.int64)
        # Entries whose ad-side values no ad of this table has can never be looked up.
        wanted = np.flatnonzero(table_ad_codes >= 0)
        n_ad_codes = max(len(distinct_ad_values), 1)
        codes = table_request_codes[wanted] * n_ad_codes + table_ad_codes[wanted]
        order = np.argsort(codes)
        names = statistic_columns(key)
        unseen = dict.fromkeys(names, 0) | {names[-1]: prior_ctr}  # the last one is the click rate
        values = {}
        for name in names:
            column = table[name].to_numpy()
            values[name] = np.concatenate([column[wanted[order]], np.array([unseen[name]], dtype=column.dtype)])
        return _KeyIndex(
            request_side,
            snapshot_request_values,
            distinct_ad_values.get_indexer(ad_values).astype(np.int64),
            n_ad_codes,
            codes[order],
            values,
        )

    def for_requests(self, requests: pd.DataFrame) -> PairStatistics:
        """The lookup of pairs whose request rows index ``requests``."""
        return PairStatistics([(key, key.request_codes(requests)) for key in self._keys])


class PairStatistics:
    """A :class:`SnapshotLookup` with one request table coded: the statistics of (request row, ad row) pairs."""

    def __init__(self, coded_keys: list[tuple[_KeyIndex, np.ndarray]]) -> None:
        self._coded_keys = coded_keys

    def statistics(self, request_rows: np.ndarray, ad_rows: np.ndarray) -> dict[str, np.ndarray]:
        """All keys' statistic columns of the pairs, in the model inputs' order."""
        columns: dict[str, np.ndarray] = {}
        for key, request_codes in self._coded_keys:
            positions = key.positions(request_codes[request_rows], ad_rows)
            columns |= {name: values[positions] for name, values in key.values.items()}  # noqa: PD011 - not a pandas object
        return columns


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
