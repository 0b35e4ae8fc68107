"""Candidate features (features/candidates.py, features/snapshot.py) against the logged model input.

For a logged (request, ad) pair, the candidate row must equal the features pipeline's row in every
id, vocabulary index, cross, context and browsing column; only the target statistics differ, and by exactly
what the daily snapshot leaves out: the evaluation day's own earlier impressions. Candidates are
scored for one reference slot, so rows logged in another slot also differ in the position columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.features.ad_features import ad_features
from adrank_pipelines.features.browsing import browse_sequences
from adrank_pipelines.features.candidates import (
    CANDIDATE_ID_COLUMNS,
    CandidateSides,
    FeatureRecipe,
    ad_side,
    candidate_features,
    request_side,
)
from adrank_pipelines.features.enrich import train_ad_ids
from adrank_pipelines.features.params import CrossParams, TargetStatParams, VocabularyParams
from adrank_pipelines.features.snapshot import SnapshotLookup, daily_snapshots, statistic_columns
from adrank_pipelines.features.splits import TEST
from adrank_pipelines.features.target_stats import count_columns, strictly_prior_counts
from adrank_pipelines.features.timestamps import epoch_nanoseconds
from tests.features.features_tiny_world import fitted_model_input

CROSSES = CrossParams(n_hash_buckets=101)
STATS = TargetStatParams()
BROWSE_LENGTH = 8
POSITION_COLUMNS = ["position", "position_idx", "placement_x_position_hash"]
STATISTIC_COLUMNS = [name for key in STATS.keys for name in statistic_columns(key)]


def _candidates_for_logged_rows(tables, enriched, reference_position: int):
    """The logged test-day rows and the candidate features of the same (request, ad) pairs."""
    vocabularies, logged = fitted_model_input(
        enriched, VocabularyParams(min_count=1), CROSSES, STATS, tables, BROWSE_LENGTH
    )
    test = logged.loc[logged["split"] == TEST].reset_index(drop=True)
    requests = tables["requests"].loc[tables["requests"]["request_id"].isin(test["request_id"])]
    sides = CandidateSides(
        requests=request_side(requests, tables["users"], reference_position),
        ads=ad_side(
            tables["ads"], tables["advertisers"], ad_features(tables["ads"], vocabularies, train_ad_ids(enriched))
        ),
        sequences=browse_sequences(requests, tables["user_events"], vocabularies["category"], BROWSE_LENGTH),
    )
    snapshots = daily_snapshots(enriched, sides.requests, STATS.keys, STATS.smoothing_strength, STATS.initial_prior_ctr)
    ((_day, snapshot),) = snapshots.items()
    request_rows, ad_rows = sides.rows(test["request_id"].to_numpy(), test["ad_id"].to_numpy())
    lookup = SnapshotLookup(snapshot, sides.requests.columns, sides.ads).for_requests(sides.requests)
    recipe = FeatureRecipe(vocabularies, CROSSES.pairs, CROSSES.n_hash_buckets, BROWSE_LENGTH)
    candidates = candidate_features(sides, request_rows, ad_rows, recipe, lookup)
    return test, candidates, snapshot


def _shared_columns(candidates: pd.DataFrame, excluded: list[str]) -> list[str]:
    return [name for name in candidates.columns if name not in [*excluded, "impression_id"]]


def test_logged_top_slot_pairs_equal_the_model_input_except_the_statistics(tiny_tables, tiny_enriched):
    test, candidates, _ = _candidates_for_logged_rows(tiny_tables, tiny_enriched, reference_position=1)
    top = (test["position"] == 1).to_numpy()
    assert top.sum() > 20
    columns = _shared_columns(candidates, STATISTIC_COLUMNS)
    assert set(CANDIDATE_ID_COLUMNS) - {"impression_id"} <= set(columns)
    pd.testing.assert_frame_equal(candidates.loc[top, columns], test.loc[top, columns])
    # Every model-input column except labels and split is there, with the model input's dtype.
    assert set(test.columns) - set(candidates.columns) == {"click", "conversion", "split"}
    assert (candidates.dtypes == test[candidates.columns].dtypes).all()


def test_lower_slots_differ_only_in_the_position_columns(tiny_tables, tiny_enriched):
    test, candidates, _ = _candidates_for_logged_rows(tiny_tables, tiny_enriched, reference_position=1)
    lower = (test["position"] > 1).to_numpy()
    columns = _shared_columns(candidates, STATISTIC_COLUMNS + POSITION_COLUMNS)
    pd.testing.assert_frame_equal(candidates.loc[lower, columns], test.loc[lower, columns])
    assert (candidates.loc[lower, "position"] == 1).all()
    assert (candidates.loc[lower, "position_idx"] != test.loc[lower, "position_idx"]).all()


def test_snapshot_counts_are_the_logged_counts_without_the_evaluation_day(tiny_tables, tiny_enriched):
    test, candidates, snapshot = _candidates_for_logged_rows(tiny_tables, tiny_enriched, reference_position=1)
    raw_test = tiny_enriched.loc[tiny_enriched["split"] == TEST].reset_index(drop=True)  # the same rows, raw
    times = epoch_nanoseconds(test["event_time"])
    clicks = test["click"].to_numpy(dtype=np.int64)
    assert snapshot.as_of == test["event_time"].min()
    for key in STATS.keys:
        # What the logged row saw of its own day: earlier test-day impressions of the same key.
        codes = raw_test.groupby(list(key), sort=False).ngroup().to_numpy()
        same_day_impressions, same_day_clicks = strictly_prior_counts(codes, times, clicks)
        impressions, key_clicks = count_columns(key)
        np.testing.assert_array_equal(candidates[impressions], test[impressions] - same_day_impressions)
        np.testing.assert_array_equal(candidates[key_clicks], test[key_clicks] - same_day_clicks)
        assert same_day_impressions.sum() > 0, f"the test day never repeats {key}: the check above is vacuous"
    # The day's first request saw no earlier row of its day: there, the statistics agree entirely.
    first = (test["event_time"] == snapshot.as_of).to_numpy()
    pd.testing.assert_frame_equal(candidates.loc[first, STATISTIC_COLUMNS], test.loc[first, STATISTIC_COLUMNS])


def test_the_evaluation_day_clicks_never_reach_the_candidates(tiny_tables, tiny_enriched):
    _, candidates, _ = _candidates_for_logged_rows(tiny_tables, tiny_enriched, reference_position=1)
    flipped = tiny_enriched.assign(click=np.where(tiny_enriched["split"] == TEST, 1 - tiny_enriched["click"],
                                                  tiny_enriched["click"]).astype(np.int8))  # fmt: skip
    _, flipped_candidates, _ = _candidates_for_logged_rows(tiny_tables, flipped, reference_position=1)
    pd.testing.assert_frame_equal(flipped_candidates, candidates)


def test_unseen_key_values_get_zero_counts_and_the_prior(tiny_tables, tiny_enriched):
    _, candidates, snapshot = _candidates_for_logged_rows(tiny_tables, tiny_enriched, reference_position=1)
    before = tiny_enriched.loc[tiny_enriched["event_time"] < snapshot.as_of]
    m, prior0 = STATS.smoothing_strength, STATS.initial_prior_ctr
    assert snapshot.prior_ctr == pytest.approx((before["click"].sum() + m * prior0) / (len(before) + m))
    new_ads = candidates["ad_id_impressions"] == 0
    assert new_ads.any(), "the tiny world launches ads on the test day"
    np.testing.assert_allclose(candidates.loc[new_ads, "ad_id_ctr"], snapshot.prior_ctr, rtol=1e-6)
    assert (candidates.loc[new_ads, ["ad_id_clicks", "ad_id_log_impressions"]] == 0).all().all()


def test_unknown_candidate_ids_are_named(tiny_tables, tiny_enriched):
    sides = CandidateSides(
        requests=request_side(tiny_tables["requests"], tiny_tables["users"], 1),
        ads=ad_side(tiny_tables["ads"], tiny_tables["advertisers"], tiny_tables["ads"].assign(is_cold_start_ad=False)),
        sequences=pd.DataFrame(),
    )
    with pytest.raises(ValueError, match=r"1 ad_id\(s\) of the candidates are not in the ads table, e.g. \[999\]"):
        sides.rows(np.array([1, 2]), np.array([1, 999]))
