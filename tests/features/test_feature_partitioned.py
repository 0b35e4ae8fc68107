"""The day-partitioned features (Dask) equal the in-memory ones row for row; bad partitions are refused."""

from __future__ import annotations

import dask
import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.features.assemble import split_model_input
from adrank_pipelines.features.browsing import browse_sequences
from adrank_pipelines.features.enrich import enrich_impressions
from adrank_pipelines.features.params import CrossParams, TargetStatParams, VocabularyParams
from adrank_pipelines.features.partitioned import (
    SliceTotals,
    earlier_totals,
    enriched_by_day,
    partitioned_model_inputs,
)
from adrank_pipelines.features.splits import SPLITS
from adrank_pipelines.features.target_stats import EarlierTotals, key_totals, target_statistics
from tests.features.features_tiny_world import fitted_model_input, make_tables

CROSSES = CrossParams(n_hash_buckets=101)
STATS = TargetStatParams()
VOCABULARY = VocabularyParams(min_count=1)
BROWSE_LENGTH = 8


@pytest.fixture(autouse=True)
def in_process_scheduler():
    with dask.config.set(scheduler="synchronous"):
        yield


def _enrich(tables: dict[str, pd.DataFrame], enrich=enrich_impressions):
    return enrich(tables["impressions"], tables["ads"], tables["advertisers"], tables["users"], 1, 1, 1)


@pytest.mark.parametrize("seed", [0, 1])
def test_partitioned_model_inputs_equal_the_in_memory_ones(seed: int):
    tables = make_tables(seed=seed)
    in_memory = _enrich(tables)
    vocabularies, features = fitted_model_input(in_memory, VOCABULARY, CROSSES, STATS, tables, BROWSE_LENGTH)
    expected = split_model_input(features)

    by_day = _enrich(tables, enriched_by_day)
    assert by_day.npartitions == in_memory["day"].nunique() == 6
    pd.testing.assert_frame_equal(by_day.compute().reset_index(drop=True), in_memory, check_exact=True)
    sequences = browse_sequences(tables["requests"], tables["user_events"], vocabularies["category"], BROWSE_LENGTH)
    partitioned = partitioned_model_inputs(
        by_day,
        vocabularies,
        sequences,
        CROSSES.pairs,
        CROSSES.n_hash_buckets,
        STATS.keys,
        STATS.smoothing_strength,
        STATS.initial_prior_ctr,
        BROWSE_LENGTH,
    )
    assert set(partitioned) == set(SPLITS)
    for split in SPLITS:
        assert len(partitioned[split]) > 0
        pd.testing.assert_frame_equal(partitioned[split], expected[split], check_exact=True)


def test_earlier_totals_of_a_later_slice_give_the_whole_logs_statistics():
    enriched = _enrich(make_tables())
    cut = int(np.searchsorted(enriched["day"].to_numpy(), 3))
    before, after = enriched.iloc[:cut], enriched.iloc[cut:]
    earlier = EarlierTotals(
        impressions=len(before),
        clicks=int(before["click"].sum()),
        per_key={"_x_".join(key): key_totals(before, key) for key in STATS.keys},
    )
    whole = target_statistics(enriched, STATS.keys, STATS.smoothing_strength, STATS.initial_prior_ctr)
    sliced = target_statistics(after, STATS.keys, STATS.smoothing_strength, STATS.initial_prior_ctr, earlier)
    pd.testing.assert_frame_equal(sliced, whole.iloc[cut:], check_exact=True)
    # No earlier rows: the same as no totals at all.
    first = target_statistics(before, STATS.keys, STATS.smoothing_strength, STATS.initial_prior_ctr, EarlierTotals())
    pd.testing.assert_frame_equal(first, whole.iloc[:cut], check_exact=True)


def _slice(first: str | None, last: str | None, impressions: int = 1) -> SliceTotals:
    stamp = lambda value: None if value is None else pd.Timestamp(value)  # noqa: E731
    return SliceTotals(stamp(first), stamp(last), EarlierTotals(impressions=impressions, clicks=0))


def test_partitions_that_share_an_instant_or_run_backwards_are_refused():
    with pytest.raises(ValueError, match="impressions_enriched partition 1 starts at"):
        earlier_totals([_slice("2026-01-05 10:00", "2026-01-05 12:00"), _slice("2026-01-05 12:00", "2026-01-06")])
    with pytest.raises(ValueError, match="must be whole days in time order"):
        earlier_totals([_slice("2026-01-06", "2026-01-06 12:00"), _slice("2026-01-05", "2026-01-05 12:00")])


def test_empty_partitions_pass_their_predecessors_totals_on():
    totals = earlier_totals(
        [
            _slice("2026-01-05", "2026-01-05 12:00", 3),
            _slice(None, None, 0),
            _slice("2026-01-06", "2026-01-06 01:00", 2),
        ]
    )
    assert [t.impressions for t in totals] == [0, 3, 3]
    assert earlier_totals([]) == []
