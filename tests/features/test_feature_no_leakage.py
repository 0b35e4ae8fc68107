"""Rewriting the future must not move any feature of the past.

Everything after a cutoff inside the test day is scrambled (clicks, conversions, which ad was shown,
row order); every feature of every earlier impression and every earlier request's behaviour
sequence must come out bit-for-bit identical.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.features.enrich import enrich_impressions
from adrank_pipelines.features.params import CrossParams, TargetStatParams, VocabularyParams
from adrank_pipelines.features.sequences import behaviour_sequences
from tests.features.features_tiny_world import fitted_model_input


def _all_features(tables: dict[str, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    enriched = enrich_impressions(tables["impressions"], tables["ads"], tables["advertisers"], tables["users"], 1, 1, 1)
    vocabularies, features = fitted_model_input(
        enriched, VocabularyParams(min_count=1), CrossParams(n_hash_buckets=97), TargetStatParams()
    )
    sequences = behaviour_sequences(tables["requests"], enriched, vocabularies["category"], 8, True)
    return features.set_index("impression_id").sort_index(), sequences.set_index("request_id").sort_index()


def _scramble_future(tables: dict[str, pd.DataFrame], cutoff: pd.Timestamp, seed: int) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    impressions = tables["impressions"].copy()
    future = impressions["event_time"] >= cutoff
    always_live_ads = tables["ads"].loc[tables["ads"]["first_day"] == 0, "ad_id"].to_numpy()
    impressions.loc[future, "ad_id"] = rng.choice(always_live_ads, future.sum())
    impressions.loc[future, "click"] = rng.integers(0, 2, future.sum()).astype(np.int8)
    converted = impressions.loc[future, "click"] * rng.integers(0, 2, future.sum())
    impressions.loc[future, "conversion"] = converted.astype(np.int8)
    return tables | {"impressions": impressions.sample(frac=1.0, random_state=seed)}


@pytest.mark.parametrize("seed", [0, 1])
def test_scrambling_the_future_leaves_every_past_feature_unchanged(tiny_tables, seed):
    test_day_times = tiny_tables["impressions"].loc[tiny_tables["impressions"]["day"] == 4, "event_time"]
    cutoff = test_day_times.sort_values().iloc[len(test_day_times) // 2]
    features, sequences = _all_features(tiny_tables)
    scrambled_features, scrambled_sequences = _all_features(_scramble_future(tiny_tables, cutoff, seed))

    past = features["event_time"] < cutoff
    assert past.sum() > 300 and (~past).sum() > 100
    pd.testing.assert_frame_equal(scrambled_features.loc[past], features.loc[past])
    past_requests = tiny_tables["requests"].set_index("request_id").sort_index()["event_time"] < cutoff
    pd.testing.assert_frame_equal(scrambled_sequences.loc[past_requests], sequences.loc[past_requests])
    # The scrambling did reach the future, so the comparison above is not vacuous.
    assert not scrambled_features.loc[~past, "ad_id"].equals(features.loc[~past, "ad_id"])
    assert not scrambled_sequences.loc[~past_requests].equals(sequences.loc[~past_requests])
