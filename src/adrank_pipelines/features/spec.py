"""The feature spec: a JSON description of the model inputs so models can build their layers generically.

It names every column by role (ids, labels, categorical with embedding size, numeric, sequence) and
is built from the same naming functions the transforms use, so the two cannot drift apart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from adrank_pipelines.features.assemble import (
    CONTEXT_NUMERIC_COLUMNS,
    DAY_OF_WEEK_COLUMN,
    DAY_OF_WEEK_SIZE,
    ID_COLUMNS,
    LABEL_COLUMNS,
)
from adrank_pipelines.features.browsing import (
    BROWSE_AGE_HOURS,
    BROWSE_CATEGORY,
    BROWSE_LENGTH_COLUMN,
    BROWSE_NUMERIC_COLUMNS,
)
from adrank_pipelines.features.crosses import cross_column_name
from adrank_pipelines.features.sequences import (
    AD_ID,
    AGE_HOURS,
    CATEGORY,
    CLICK,
    CLICKED_AD_ID,
    CLICKED_LENGTH_COLUMN,
    LENGTH_COLUMN,
    sequence_column_names,
)
from adrank_pipelines.features.target_stats import numeric_feature_columns
from adrank_pipelines.features.vocabulary import PADDING_INDEX, Vocabulary, encoded_column_name


def _categorical_spec(
    vocabularies: Mapping[str, Vocabulary], cross_pairs: Sequence[tuple[str, str]], n_hash_buckets: int
) -> dict[str, dict[str, Any]]:
    categorical: dict[str, dict[str, Any]] = {
        encoded_column_name(name): {"kind": "vocabulary", "source": [name], "size": vocabulary.size}
        for name, vocabulary in vocabularies.items()
    }
    for left, right in cross_pairs:
        # Buckets are 1..n, so the table needs n + 1 rows with row 0 for padding.
        categorical[cross_column_name(left, right)] = {
            "kind": "hash",
            "source": [left, right],
            "size": n_hash_buckets + 1,
        }
    categorical[DAY_OF_WEEK_COLUMN] = {"kind": "fixed", "source": ["event_time"], "size": DAY_OF_WEEK_SIZE}
    return categorical


def _sequence_spec(
    vocabularies: Mapping[str, Vocabulary], length: int, include_clicked_history: bool, browse_length: int
) -> dict[str, Any]:
    fields: dict[str, dict[str, Any]] = {
        AD_ID: {"columns": sequence_column_names(AD_ID, length), "kind": "raw_id", "embedding_source": "ad_id"},
        CATEGORY: {
            "columns": sequence_column_names(CATEGORY, length),
            "kind": "vocabulary",
            "size": vocabularies[CATEGORY].size,
        },
        CLICK: {"columns": sequence_column_names(CLICK, length), "kind": "flag"},
        AGE_HOURS: {"columns": sequence_column_names(AGE_HOURS, length), "kind": "numeric"},
    }
    if include_clicked_history:
        fields[CLICKED_AD_ID] = {
            "columns": sequence_column_names(CLICKED_AD_ID, length),
            "kind": "raw_id",
            "embedding_source": "ad_id",
            "length_column": CLICKED_LENGTH_COLUMN,
        }
    # Organic views are a segment of their own length: categories and ages, no ad behind them.
    fields[BROWSE_CATEGORY] = {
        "columns": sequence_column_names(BROWSE_CATEGORY, browse_length),
        "kind": "browse_vocabulary",
        "size": vocabularies[CATEGORY].size,
        "length_column": BROWSE_LENGTH_COLUMN,
    }
    fields[BROWSE_AGE_HOURS] = {
        "columns": sequence_column_names(BROWSE_AGE_HOURS, browse_length),
        "kind": "browse_numeric",
    }
    return {
        "dataset": "behaviour_sequences",
        "join_key": "request_id",
        "length": length,
        "length_column": LENGTH_COLUMN,
        "padding_value": PADDING_INDEX,
        "padding_side": "left",
        "fields": fields,
    }


def feature_spec(
    vocabularies: Mapping[str, Vocabulary],
    cross_pairs: Sequence[tuple[str, str]],
    n_hash_buckets: int,
    target_keys: Sequence[Sequence[str]],
    sequence_length: int,
    include_clicked_history: bool,
    browse_length: int,
) -> dict[str, Any]:
    """Roles of the model-input columns, embedding sizes, and where the behaviour sequences live."""
    return {
        "id_columns": list(ID_COLUMNS),
        "label_columns": list(LABEL_COLUMNS),
        "split_column": "split",
        "categorical": _categorical_spec(vocabularies, cross_pairs, n_hash_buckets),
        "numeric": CONTEXT_NUMERIC_COLUMNS
        + [name for key in target_keys for name in numeric_feature_columns(key)]
        + BROWSE_NUMERIC_COLUMNS,
        "sequences": _sequence_spec(vocabularies, sequence_length, include_clicked_history, browse_length),
    }
