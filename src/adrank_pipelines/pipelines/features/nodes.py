"""Thin adapters between the catalog and the ``adrank_pipelines.features`` domain functions."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pandas as pd

from adrank_pipelines.features.ad_features import ad_features
from adrank_pipelines.features.assemble import model_input, split_model_input
from adrank_pipelines.features.browsing import with_browse_affinity, with_browse_sequences
from adrank_pipelines.features.enrich import enrich_impressions, train_ad_ids
from adrank_pipelines.features.params import (
    CrossParams,
    DriftWindow,
    SequenceParams,
    SplitParams,
    TargetStatParams,
    VocabularyParams,
)
from adrank_pipelines.features.recipe import FeatureRecipeArtifact, feature_recipe
from adrank_pipelines.features.sequences import behaviour_sequences
from adrank_pipelines.features.snapshot import StatisticsSnapshot, daily_snapshots
from adrank_pipelines.features.spec import feature_spec
from adrank_pipelines.features.splits import TRAIN
from adrank_pipelines.features.vocabulary import fit_vocabularies, vocabularies_from_json, vocabularies_to_json

logger = logging.getLogger(__name__)


def build_impressions_enriched(
    impressions: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    users: pd.DataFrame,
    splits: SplitParams,
    drift: object,
) -> pd.DataFrame:
    # ``drift`` is ``params:marketplace.drift``, owned by the ingest pipeline, which may hand over its
    # own typed model or a plain dict; typing it here could clash with that model, so read it leniently.
    drift_window = DriftWindow.model_validate(drift, from_attributes=True)
    return enrich_impressions(
        impressions, ads, advertisers, users, splits.valid_days, splits.test_days, drift_window.days
    )


def build_vocabularies(impressions_enriched: pd.DataFrame, vocabulary: VocabularyParams) -> dict[str, Any]:
    train_rows = impressions_enriched.loc[impressions_enriched["split"] == TRAIN]
    return vocabularies_to_json(fit_vocabularies(train_rows, vocabulary.columns, vocabulary.min_count))


def build_model_inputs(
    impressions_enriched: pd.DataFrame,
    vocabularies: dict[str, Any],
    behaviour_sequences: pd.DataFrame,
    crosses: CrossParams,
    target_stats: TargetStatParams,
    sequences: SequenceParams,
) -> dict[str, pd.DataFrame]:
    features = model_input(
        impressions_enriched,
        vocabularies_from_json(vocabularies),
        crosses.pairs,
        crosses.n_hash_buckets,
        target_stats.keys,
        target_stats.smoothing_strength,
        target_stats.initial_prior_ctr,
    )
    return split_model_input(with_browse_affinity(features, behaviour_sequences, sequences.browse_length))


def build_behaviour_sequences(
    requests: pd.DataFrame,
    impressions_enriched: pd.DataFrame,
    user_events: pd.DataFrame,
    vocabularies: dict[str, Any],
    sequences: SequenceParams,
) -> pd.DataFrame:
    """Impression history, clicked history and organic views of each request, one row per request."""
    category_vocabulary = vocabularies_from_json(vocabularies)["category"]
    history = behaviour_sequences(
        requests,
        impressions_enriched,
        category_vocabulary,
        sequences.sequence_length,
        sequences.include_clicked_history,
    )
    return with_browse_sequences(history, requests, user_events, category_vocabulary, sequences.browse_length)


def build_ad_features(
    ads: pd.DataFrame, impressions_enriched: pd.DataFrame, vocabularies: dict[str, Any]
) -> pd.DataFrame:
    return ad_features(ads, vocabularies_from_json(vocabularies), train_ad_ids(impressions_enriched))


def build_feature_spec(
    vocabularies: dict[str, Any], crosses: CrossParams, target_stats: TargetStatParams, sequences: SequenceParams
) -> dict[str, Any]:
    return feature_spec(
        vocabularies_from_json(vocabularies),
        crosses.pairs,
        crosses.n_hash_buckets,
        target_stats.keys,
        sequences.sequence_length,
        sequences.include_clicked_history,
        sequences.browse_length,
    )


def build_feature_recipe(
    vocabularies: dict[str, Any],
    feature_spec: dict[str, Any],
    crosses: CrossParams,
    sequences: SequenceParams,
    target_stats: TargetStatParams,
) -> dict[str, Any]:
    recipe = feature_recipe(vocabularies, feature_spec, crosses, sequences, target_stats)
    return recipe.model_dump(mode="json")


def build_statistics_snapshots(
    impressions_enriched: pd.DataFrame,
    requests: pd.DataFrame,
    model_input_test: pd.DataFrame,
    feature_recipe: dict[str, Any],
) -> dict[int, StatisticsSnapshot]:
    """Per evaluation day, the target statistics as a store refreshed before the day's first request
    holds them: what retrieval's queries, ranking's candidates and the service are featurised with."""
    target_stats = FeatureRecipeArtifact.model_validate(feature_recipe).target_stats
    evaluated = requests.loc[requests["request_id"].isin(np.unique(model_input_test["request_id"].to_numpy()))]
    snapshots = daily_snapshots(
        impressions_enriched,
        evaluated,
        target_stats.keys,
        target_stats.smoothing_strength,
        target_stats.initial_prior_ctr,
    )
    logger.info(
        "statistics snapshots: %s",
        "; ".join(
            f"day {day} as of {s.as_of}, {s.n_entries} entries, prior CTR {s.prior_ctr:.4f}"
            for day, s in snapshots.items()
        ),
    )
    return snapshots
