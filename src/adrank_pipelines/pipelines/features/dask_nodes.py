"""The ``features`` adapters of ``--env dask``: impressions_enriched is a Dask frame partitioned by day.

The partitioned nodes share the in-memory nodes' names and signatures; the nodes that need the whole
enriched log at once (vocabularies read the train days, sequences, ad features and statistics
snapshots read every row) gather it from the partitions first.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import dask.dataframe as dd
import pandas as pd

from adrank_pipelines.features.params import (
    CrossParams,
    DriftWindow,
    SequenceParams,
    SplitParams,
    TargetStatParams,
    VocabularyParams,
)
from adrank_pipelines.features.partitioned import enriched_by_day, partitioned_model_inputs
from adrank_pipelines.features.splits import TRAIN
from adrank_pipelines.features.vocabulary import vocabularies_from_json
from adrank_pipelines.pipelines.features import nodes


def build_impressions_enriched(
    impressions: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    users: pd.DataFrame,
    splits: SplitParams,
    drift: object,
) -> dd.DataFrame:
    drift_window = DriftWindow.model_validate(drift, from_attributes=True)
    return enriched_by_day(impressions, ads, advertisers, users, splits.valid_days, splits.test_days, drift_window.days)


def build_vocabularies(impressions_enriched: dd.DataFrame, vocabulary: VocabularyParams) -> dict[str, Any]:
    train_rows = impressions_enriched.loc[impressions_enriched["split"] == TRAIN, list(vocabulary.columns)]
    return nodes.build_vocabularies(train_rows.compute().assign(split=TRAIN), vocabulary)


def build_model_inputs(
    impressions_enriched: dd.DataFrame,
    vocabularies: dict[str, Any],
    behaviour_sequences: pd.DataFrame,
    crosses: CrossParams,
    target_stats: TargetStatParams,
    sequences: SequenceParams,
) -> dict[str, pd.DataFrame]:
    return partitioned_model_inputs(
        impressions_enriched,
        vocabularies_from_json(vocabularies),
        behaviour_sequences,
        crosses.pairs,
        crosses.n_hash_buckets,
        target_stats.keys,
        target_stats.smoothing_strength,
        target_stats.initial_prior_ctr,
        sequences.browse_length,
    )


def _on_gathered_enrichment(node: Callable[..., Any]) -> Callable[..., Any]:
    """``node`` with its ``impressions_enriched`` argument gathered from the partitions first."""

    signature = inspect.signature(node)

    @functools.wraps(node)
    def gathered(*args: Any, **kwargs: Any) -> Any:
        bound = signature.bind(*args, **kwargs)
        bound.arguments["impressions_enriched"] = bound.arguments["impressions_enriched"].compute()
        return node(*bound.args, **bound.kwargs)

    return gathered


build_behaviour_sequences = _on_gathered_enrichment(nodes.build_behaviour_sequences)
build_ad_features = _on_gathered_enrichment(nodes.build_ad_features)
build_statistics_snapshots = _on_gathered_enrichment(nodes.build_statistics_snapshots)
build_feature_spec = nodes.build_feature_spec
build_feature_recipe = nodes.build_feature_recipe
