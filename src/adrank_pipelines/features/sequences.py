"""Fixed-length behaviour sequences: per request, the user's last N impressions before it.

A request sees only impressions with a strictly earlier ``event_time`` (impressions copy their
request's time, so the request's own slots are excluded). Sequences are left-padded with zeros, so
the most recent event sits in the last slot, which is what a causal transformer expects. Everything
is one sort, two ``searchsorted`` calls and a fancy-indexing gather: no loop over requests.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from adrank_pipelines.features.timestamps import NANOSECONDS_PER_HOUR, epoch_nanoseconds
from adrank_pipelines.features.vocabulary import Vocabulary

AD_ID, CATEGORY, CLICK, AGE_HOURS, CLICKED_AD_ID = "ad_id", "category", "click", "age_hours", "clicked_ad_id"
# Number of real (non-padding) events in the impression history and in the clicked history.
LENGTH_COLUMN, CLICKED_LENGTH_COLUMN = "seq_len", "clicked_seq_len"


def sequence_column_names(field: str, length: int) -> list[str]:
    """Wide column names of one sequence field, oldest slot first: ``hist_ad_id_00`` .. ``hist_ad_id_19``."""
    width = max(2, len(str(length - 1)))
    return [f"hist_{field}_{slot:0{width}d}" for slot in range(length)]


@dataclass(frozen=True)
class History:
    """The events of all users sorted by (user, time), and where each request's window sits in them."""

    event_rows: np.ndarray  # (n_requests, length) positions into the sorted events, clipped to be valid
    is_event: np.ndarray  # (n_requests, length) False on padding slots
    sorted_order: np.ndarray  # sorted position -> row of the events frame


def locate_history(
    request_users: np.ndarray, request_times: np.ndarray, event_users: np.ndarray, event_times: np.ndarray, length: int
) -> History:
    """Events must come in tie-break order: a stable sort keeps it among events of one user and instant."""
    # Encode (user, time) as one int64 sort key: user code * number of distinct times + time rank.
    user_codes, _ = pd.factorize(np.concatenate([request_users, event_users]))
    time_ranks = np.unique(np.concatenate([request_times, event_times]), return_inverse=True)[1]
    n_ranks = int(time_ranks.max(initial=0)) + 1
    keys = user_codes.astype(np.int64) * n_ranks + time_ranks
    request_keys, event_keys = keys[: len(request_users)], keys[len(request_users) :]
    user_first_keys = request_keys - time_ranks[: len(request_users)]

    sorted_order = np.argsort(event_keys, kind="stable")
    sorted_keys = event_keys[sorted_order]
    window_end = np.searchsorted(sorted_keys, request_keys, side="left")  # first event not before the request
    user_start = np.searchsorted(sorted_keys, user_first_keys, side="left")  # the user's first event
    slots = window_end[:, None] - length + np.arange(length)[None, :]
    is_event = slots >= user_start[:, None]
    event_rows = np.clip(slots, 0, max(len(sorted_keys) - 1, 0))
    return History(event_rows=event_rows, is_event=is_event, sorted_order=sorted_order)


def gather(history: History, values: np.ndarray, dtype: type) -> np.ndarray:
    if len(values) == 0:  # no events at all: every slot is padding, and there is nothing to index
        return np.zeros(history.is_event.shape, dtype=dtype)
    gathered = values[history.sorted_order][history.event_rows]
    return np.where(history.is_event, gathered, 0).astype(dtype)


def wide_frame(field: str, matrix: np.ndarray) -> pd.DataFrame:
    """``matrix``'s columns as the ``field`` slot columns: one block, not one array per slot (a table holds
    a few hundred slots, and the request path builds one per batch)."""
    return pd.DataFrame(matrix, columns=sequence_column_names(field, matrix.shape[1]), copy=False)


def behaviour_sequences(
    requests: pd.DataFrame,
    impressions: pd.DataFrame,
    category_vocabulary: Vocabulary,
    length: int,
    include_clicked_history: bool,
) -> pd.DataFrame:
    """One row per request: its user's last ``length`` earlier impressions as wide int32/float32 columns.

    ``requests`` needs request_id, user_id, event_time; ``impressions`` needs request_id, user_id,
    ad_id, category, event_time, position and click.
    """
    request_users = requests["user_id"].to_numpy()
    request_times = epoch_nanoseconds(requests["event_time"])

    # Events of one user at one instant (several requests, several slots) keep request then slot order.
    tie_order = np.lexsort((impressions["position"].to_numpy(), impressions["request_id"].to_numpy()))
    event_users = impressions["user_id"].to_numpy()[tie_order]
    event_times = epoch_nanoseconds(impressions["event_time"])[tie_order]
    ad_ids = impressions["ad_id"].to_numpy()[tie_order]
    clicks = impressions["click"].to_numpy()[tie_order]

    history = locate_history(request_users, request_times, event_users, event_times, length)
    categories = category_vocabulary.encode(impressions["category"])[tie_order]
    event_age = (request_times[:, None] - gather(history, event_times, np.int64)) / NANOSECONDS_PER_HOUR
    parts = [
        pd.DataFrame(
            {
                "request_id": requests["request_id"].to_numpy(),
                LENGTH_COLUMN: history.is_event.sum(axis=1).astype(np.int32),
            }
        ),
        wide_frame(AD_ID, gather(history, ad_ids, np.int32)),
        wide_frame(CATEGORY, gather(history, categories, np.int32)),
        wide_frame(CLICK, gather(history, clicks, np.int32)),
        wide_frame(AGE_HOURS, np.where(history.is_event, event_age, 0.0).astype(np.float32)),
    ]
    if include_clicked_history:
        clicked = clicks == 1
        clicked_history = locate_history(
            request_users, request_times, event_users[clicked], event_times[clicked], length
        )
        parts.append(pd.DataFrame({CLICKED_LENGTH_COLUMN: clicked_history.is_event.sum(axis=1).astype(np.int32)}))
        parts.append(wide_frame(CLICKED_AD_ID, gather(clicked_history, ad_ids[clicked], np.int32)))
    return pd.concat(parts, axis=1)
