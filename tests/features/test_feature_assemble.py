import numpy as np
import pandas as pd

from adrank_pipelines.features.ad_features import ad_features
from adrank_pipelines.features.assemble import split_model_input
from adrank_pipelines.features.browsing import with_browse_sequences
from adrank_pipelines.features.enrich import enrich_impressions, train_ad_ids
from adrank_pipelines.features.params import CrossParams, TargetStatParams, VocabularyParams
from adrank_pipelines.features.sequences import behaviour_sequences
from adrank_pipelines.features.spec import feature_spec
from tests.features.features_tiny_world import fitted_model_input

CROSSES = CrossParams(n_hash_buckets=101)
STATS = TargetStatParams()
SEQUENCE_LENGTH = 4
VOCABULARY = VocabularyParams(min_count=1)


def _features(enriched: pd.DataFrame, tables: dict[str, pd.DataFrame] | None = None):
    vocabularies, features = fitted_model_input(enriched, VOCABULARY, CROSSES, STATS, tables, SEQUENCE_LENGTH)
    spec = feature_spec(
        vocabularies, CROSSES.pairs, CROSSES.n_hash_buckets, STATS.keys, SEQUENCE_LENGTH, True, SEQUENCE_LENGTH
    )
    return vocabularies, features, spec


def test_enriched_impressions_carry_attributes_split_and_cold_start(tiny_tables, tiny_enriched):
    assert len(tiny_enriched) == len(tiny_tables["impressions"])
    assert tiny_enriched["event_time"].is_monotonic_increasing
    attributes = {"advertiser_id", "category", "bid", "advertiser_category", "country", "age_bucket", "user_platform"}
    assert attributes <= set(tiny_enriched)
    assert tiny_enriched.groupby("day")["split"].first().tolist() == ["train"] * 3 + ["valid", "test", "drift"]
    # Ads launched on day 4 cannot be in train; ads with a train impression are never cold.
    late_ads = tiny_tables["ads"].loc[tiny_tables["ads"]["first_day"] == 4, "ad_id"]
    assert tiny_enriched.loc[tiny_enriched["ad_id"].isin(late_ads), "is_cold_start_ad"].all()
    assert not tiny_enriched.loc[tiny_enriched["split"] == "train", "is_cold_start_ad"].any()


def test_every_spec_column_exists_with_indices_inside_the_embedding_size(tiny_tables, tiny_enriched):
    _, features, spec = _features(tiny_enriched, tiny_tables)
    for column, entry in spec["categorical"].items():
        assert features[column].between(1, entry["size"] - 1).all(), column
    assert set(spec["numeric"]) <= set(features)
    assert features[spec["numeric"]].notna().all().all()
    assert set(spec["id_columns"] + spec["label_columns"]) <= set(features)
    assert len(spec["sequences"]["fields"]["ad_id"]["columns"]) == SEQUENCE_LENGTH


def test_sequence_spec_matches_the_sequence_table(tiny_tables, tiny_enriched):
    vocabularies, _, spec = _features(tiny_enriched)
    requests = tiny_tables["requests"]
    history = behaviour_sequences(requests, tiny_enriched, vocabularies["category"], SEQUENCE_LENGTH, True)
    sequences = with_browse_sequences(
        history, requests, tiny_tables["user_events"], vocabularies["category"], SEQUENCE_LENGTH
    )
    fields = spec["sequences"]["fields"]
    listed = [column for field in fields.values() for column in field["columns"]]
    length_columns = {
        spec["sequences"]["length_column"],
        fields["clicked_ad_id"]["length_column"],
        fields["browse_category"]["length_column"],
    }
    assert set(listed) | length_columns | {"request_id"} == set(sequences)
    assert sequences[fields["category"]["columns"]].max().max() < fields["category"]["size"]


def test_split_frames_share_columns_and_an_empty_drift_keeps_them(tiny_tables):
    tables = [tiny_tables[name] for name in ("impressions", "ads", "advertisers", "users")]
    enriched = enrich_impressions(*tables, valid_days=1, test_days=1, drift_days=0)
    _, features, _ = _features(enriched)
    frames = split_model_input(features)
    assert list(frames) == ["train", "valid", "test", "drift"]
    assert frames["drift"].empty and list(frames["drift"].columns) == list(features.columns)
    assert sum(len(frame) for frame in frames.values()) == len(features)
    assert frames["test"]["day"].unique().tolist() == [5]


def test_context_features(tiny_enriched):
    _, features, _ = _features(tiny_enriched)
    np.testing.assert_allclose(features["hour_sin"] ** 2 + features["hour_cos"] ** 2, 1.0, rtol=1e-5)
    assert features["day_of_week_idx"].iloc[0] == 1  # 2026-01-05 is a Monday
    assert (features["position_idx"] >= 2).all()


def test_ad_features_have_one_row_per_ad_and_flag_ads_unseen_in_train(tiny_tables, tiny_enriched):
    vocabularies, _, _ = _features(tiny_enriched)
    ads = ad_features(tiny_tables["ads"], vocabularies, train_ad_ids(tiny_enriched))
    assert ads["ad_id"].tolist() == sorted(tiny_tables["ads"]["ad_id"])
    expected = {"ad_id_idx", "advertiser_id_idx", "category_idx", "title", "description", "log_bid", "first_day"}
    assert expected <= set(ads)
    cold = ads.set_index("ad_id")["is_cold_start_ad"]
    assert cold[tiny_tables["ads"].loc[tiny_tables["ads"]["first_day"] > 0, "ad_id"]].all()
    assert (ads.loc[ads["is_cold_start_ad"], "ad_id_idx"] == 1).all()  # unseen in train: out of vocabulary
