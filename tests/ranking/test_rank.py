"""rank_candidates end to end on the tiny world, with a stand-in scorer whose scores are known."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.features.ad_features import ad_features
from adrank_pipelines.features.browsing import browse_sequences
from adrank_pipelines.features.candidates import CandidateSides, FeatureRecipe, ad_side, request_side
from adrank_pipelines.features.enrich import enrich_impressions, train_ad_ids
from adrank_pipelines.features.params import CrossParams, TargetStatParams, VocabularyParams
from adrank_pipelines.features.snapshot import SnapshotLookup, daily_snapshots
from adrank_pipelines.features.splits import TEST
from adrank_pipelines.ranking.params import ObjectiveParams
from adrank_pipelines.ranking.rank import RANKED_COLUMNS, rank_candidates
from adrank_pipelines.ranking.scoring import CandidateScores
from tests.features.features_tiny_world import fitted_model_input, make_tables
from tests.ranking.retrieval_stand_in import retrieved_stand_in

STATS = TargetStatParams()
CROSSES = CrossParams(n_hash_buckets=101)


class KnownScores:
    """pCTR falls with the ad id (LightGBM) or rises with it (transformer); pCVR is flat."""

    models: ClassVar[list[str]] = ["lightgbm", "transformer"]

    def __init__(self) -> None:
        self.rows_seen: list[int] = []

    def score(self, features: pd.DataFrame) -> CandidateScores:
        self.rows_seen.append(len(features))
        ad = features["ad_id"].to_numpy(dtype=np.float64)
        return CandidateScores(
            pctr={"lightgbm": 1.0 / (1.0 + ad), "transformer": ad / 1000.0},
            pcvr=np.full(len(ad), 0.1),
            seconds={"lightgbm": 0.0, "transformer": 0.0},
        )


@pytest.fixture
def ranking_inputs():
    tiny_tables = make_tables()
    tables = [tiny_tables[name] for name in ("impressions", "ads", "advertisers", "users")]
    tiny_enriched = enrich_impressions(*tables, valid_days=1, test_days=1, drift_days=1)  # test day 4
    vocabularies, _ = fitted_model_input(tiny_enriched, VocabularyParams(min_count=1), CROSSES, STATS)
    requests = tiny_tables["requests"].loc[tiny_tables["requests"]["day"] == 4]
    sides = CandidateSides(
        requests=request_side(requests, tiny_tables["users"], 1),
        ads=ad_side(tiny_tables["ads"], tiny_tables["advertisers"],
                    ad_features(tiny_tables["ads"], vocabularies, train_ad_ids(tiny_enriched))),
        sequences=browse_sequences(requests, tiny_tables["user_events"], vocabularies["category"], 8),
    )  # fmt: skip
    snapshots = daily_snapshots(tiny_enriched, sides.requests, STATS.keys, STATS.smoothing_strength, 0.02)
    lookups = {
        day: SnapshotLookup(s, sides.requests.columns, sides.ads).for_requests(sides.requests)
        for day, s in snapshots.items()
    }
    test_impressions = tiny_enriched.loc[tiny_enriched["split"] == TEST]
    candidates = retrieved_stand_in(requests, test_impressions, tiny_tables["ads"], top_k=8)
    return candidates, sides, lookups, FeatureRecipe(vocabularies, CROSSES.pairs, CROSSES.n_hash_buckets, 8)


def test_output_keeps_the_contract_and_orders_each_request_by_score(ranking_inputs):
    candidates, sides, lookups, recipe = ranking_inputs
    # alpha only: the order is the pCTR order, which the stand-in scorer fixes by ad id.
    outcome = rank_candidates(
        candidates, sides, lookups, recipe, KnownScores(), ObjectiveParams(alpha=1, beta=0, gamma=0), 7
    )
    ranked = outcome.ranked
    assert list(ranked.columns) == RANKED_COLUMNS
    assert ranked.dtypes.astype(str).tolist() == ["int64", "int64", "str", "float64", "float64", "float64", "int32"]
    assert len(ranked) == 2 * len(candidates) and outcome.n_pairs == len(candidates)
    assert ranked["model"].unique().tolist() == ["lightgbm", "transformer"]
    sizes = candidates.groupby("request_id").size()
    for model, rows in ranked.groupby("model"):
        assert rows[["request_id", "rank"]].equals(rows[["request_id", "rank"]].sort_values(["request_id", "rank"]))
        expected_rank = rows.groupby("request_id").cumcount().astype(np.int32)
        np.testing.assert_array_equal(rows["rank"], expected_rank)
        assert (rows.groupby("request_id").size() == sizes).all()
        ad_order = rows.groupby("request_id")["ad_id"].apply(list)
        best_first = {"lightgbm": sorted, "transformer": lambda ads: sorted(ads, reverse=True)}[model]
        assert all(ads == best_first(ads) for ads in ad_order), model
        assert rows.groupby("request_id")["score"].is_monotonic_decreasing.all()
    assert outcome.n_requests == candidates["request_id"].nunique()
    assert set(outcome.seconds) == {"features", "lightgbm", "transformer", "objective"}


def test_batch_size_does_not_change_the_ranking(ranking_inputs):
    candidates, sides, lookups, recipe = ranking_inputs
    small, large = KnownScores(), KnownScores()
    one_by_one = rank_candidates(candidates, sides, lookups, recipe, small, ObjectiveParams(), 1).ranked
    all_at_once = rank_candidates(candidates, sides, lookups, recipe, large, ObjectiveParams(), 10_000).ranked
    pd.testing.assert_frame_equal(one_by_one, all_at_once)
    assert len(small.rows_seen) == candidates["request_id"].nunique() and len(large.rows_seen) == 1


def test_keeping_the_best_rows_writes_the_head_of_the_full_ranking(ranking_inputs):
    candidates, sides, lookups, recipe = ranking_inputs
    full = rank_candidates(candidates, sides, lookups, recipe, KnownScores(), ObjectiveParams(), 5).ranked
    kept = rank_candidates(candidates, sides, lookups, recipe, KnownScores(), ObjectiveParams(), 5, 3).ranked
    pd.testing.assert_frame_equal(kept, full.loc[full["rank"] < 3].reset_index(drop=True))
    assert (kept.groupby(["model", "request_id"]).size() == 3).all()
