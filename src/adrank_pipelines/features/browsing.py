"""Organic browsing as features: the last N views per request, and the user's affinity to an ad's category.

Browsing is the densest signal of a user's individual interests (an impression history of ~20 ads
with ~1 click cannot show them). The transformer reads the views as a sequence; tabular models get
the same information as the share of recent views in the candidate ad's category.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.columns import column_matrix
from adrank_pipelines.features.sequences import gather, locate_history, sequence_column_names, wide_frame
from adrank_pipelines.features.timestamps import NANOSECONDS_PER_HOUR, epoch_nanoseconds
from adrank_pipelines.features.vocabulary import Vocabulary, encoded_column_name

BROWSE_CATEGORY, BROWSE_AGE_HOURS = "browse_category", "browse_age_hours"
BROWSE_LENGTH_COLUMN = "browse_seq_len"
BROWSE_SHARE_COLUMN, BROWSE_COUNT_COLUMN = "browse_share_ad_category", "browse_events"
BROWSE_NUMERIC_COLUMNS = [BROWSE_SHARE_COLUMN, BROWSE_COUNT_COLUMN]


def browse_sequences(
    requests: pd.DataFrame, user_events: pd.DataFrame, category_vocabulary: Vocabulary, length: int
) -> pd.DataFrame:
    """Per request: the category and age (hours) of its user's last ``length`` views strictly before it."""
    request_times = epoch_nanoseconds(requests["event_time"])
    event_times = epoch_nanoseconds(user_events["event_time"])
    history = locate_history(
        requests["user_id"].to_numpy(), request_times, user_events["user_id"].to_numpy(), event_times, length
    )
    categories = category_vocabulary.encode(user_events["category"])
    event_age = (request_times[:, None] - gather(history, event_times, np.int64)) / NANOSECONDS_PER_HOUR
    lengths = pd.DataFrame(
        {
            "request_id": requests["request_id"].to_numpy(),
            BROWSE_LENGTH_COLUMN: history.is_event.sum(axis=1).astype(np.int32),
        }
    )
    return pd.concat(
        [
            lengths,
            wide_frame(BROWSE_CATEGORY, gather(history, categories, np.int32)),
            wide_frame(BROWSE_AGE_HOURS, np.where(history.is_event, event_age, 0.0).astype(np.float32)),
        ],
        axis=1,
    )


def with_browse_sequences(
    history: pd.DataFrame,
    requests: pd.DataFrame,
    user_events: pd.DataFrame,
    category_vocabulary: Vocabulary,
    length: int,
) -> pd.DataFrame:
    """The behaviour-sequence table (one row per request, in ``requests`` order) plus its organic views."""
    browsing = browse_sequences(requests, user_events, category_vocabulary, length)
    return pd.concat([history, browsing.drop(columns="request_id")], axis=1)


def browse_affinity(
    request_id: np.ndarray, encoded_category: np.ndarray, sequences: pd.DataFrame, length: int
) -> dict[str, np.ndarray]:
    """Share of the request's recent views in each row's (encoded) ad category, and the number of views.

    Padding slots hold index 0, which no real category has, so they never count as a match.
    """
    request_rows = pd.Index(sequences["request_id"]).get_indexer(request_id)
    if (request_rows < 0).any():
        missing = np.asarray(request_id)[request_rows < 0][:5].tolist()
        raise KeyError(f"behaviour_sequences has no row for request_id {missing}")
    views = column_matrix(sequences, sequence_column_names(BROWSE_CATEGORY, length), np.int64)[request_rows]
    n_views = sequences[BROWSE_LENGTH_COLUMN].to_numpy()[request_rows]
    matches = (views == np.asarray(encoded_category)[:, None]).sum(axis=1)
    return {
        BROWSE_SHARE_COLUMN: (matches / np.maximum(n_views, 1)).astype(np.float32),
        BROWSE_COUNT_COLUMN: n_views.astype(np.float32),
    }


def with_browse_affinity(features: pd.DataFrame, sequences: pd.DataFrame, length: int) -> pd.DataFrame:
    """Model-input rows plus the browsing affinity of each row's (request, ad category)."""
    affinity = browse_affinity(
        features["request_id"].to_numpy(), features[encoded_column_name("category")].to_numpy(), sequences, length
    )
    return pd.concat([features, pd.DataFrame(affinity, index=features.index)], axis=1)
