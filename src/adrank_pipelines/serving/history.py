"""Behaviour sequences of live requests from the users' profiles, built by the features pipeline's own functions.

A profile holds a user's recent events (``user_profiles.py``); the features pipeline builds a
request's sequences from the logged impressions and organic views before it. Here the profile's
events become two small frames in the logged tables' shape, and the same ``behaviour_sequences`` /
``with_browse_sequences`` turn them into the request's sequence row, so a request replayed with the
same history gets the same row as in ``behaviour_sequences``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from adrank_pipelines.features.browsing import with_browse_sequences
from adrank_pipelines.features.sequences import behaviour_sequences
from adrank_pipelines.features.timestamps import epoch_nanoseconds
from adrank_pipelines.features.vocabulary import Vocabulary
from adrank_pipelines.serving.user_profiles import EventKind, UserEvent

NANOSECONDS_PER_SECOND = 1_000_000_000


def timestamps(epoch_seconds: Iterable[float]) -> pd.Series:
    """Epoch seconds as the naive UTC datetimes the logged tables hold (nanosecond precision)."""
    nanoseconds = np.round(np.fromiter(epoch_seconds, dtype=np.float64) * NANOSECONDS_PER_SECOND).astype(np.int64)
    return pd.Series(pd.to_datetime(nanoseconds, unit="ns"))


def epoch_seconds(times: pd.Series) -> np.ndarray:
    """The inverse of :func:`timestamps`."""
    return epoch_nanoseconds(times) / NANOSECONDS_PER_SECOND


def history_tables(histories: Mapping[int, Sequence[UserEvent]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(impressions, organic views) of each user's events, in the shapes ``behaviour_sequences`` and
    ``browse_sequences`` read. An impression counts as clicked when the profile holds a click on the
    same ad at the same instant; events of one instant keep the profile's order."""
    shown: dict[str, list[Any]] = {"user_id": [], "ad_id": [], "category": [], "seconds": [], "click": []}
    viewed: dict[str, list[Any]] = {"user_id": [], "category": [], "seconds": []}
    for user_id, events in histories.items():
        clicked = {(e.ad_id, e.event_time) for e in events if e.kind is EventKind.CLICK}
        for event in events:
            if event.kind is EventKind.IMPRESSION:
                for name, value in zip(
                    shown,
                    (
                        user_id,
                        event.ad_id,
                        event.category,
                        event.event_time,
                        (event.ad_id, event.event_time) in clicked,
                    ),
                    strict=True,
                ):
                    shown[name].append(value)
            elif event.kind is EventKind.VIEW:
                for name, value in zip(viewed, (user_id, event.category, event.event_time), strict=True):
                    viewed[name].append(value)
    impressions = pd.DataFrame(
        {
            "user_id": np.array(shown["user_id"], dtype=np.int64),
            "ad_id": np.array(shown["ad_id"], dtype=np.int64),
            "category": pd.array(shown["category"], dtype="str"),
            "click": np.array(shown["click"], dtype=np.int64),
            # Record order stands in for (request, slot) order among events of one instant.
            "request_id": np.arange(len(shown["user_id"]), dtype=np.int64),
            "position": np.zeros(len(shown["user_id"]), dtype=np.int64),
            "event_time": timestamps(shown["seconds"]).array,
        }
    )
    views = pd.DataFrame(
        {
            "user_id": np.array(viewed["user_id"], dtype=np.int64),
            "category": pd.array(viewed["category"], dtype="str"),
            "event_time": timestamps(viewed["seconds"]).array,
        }
    )
    return impressions, views


def request_sequences(
    requests: pd.DataFrame,
    histories: Mapping[int, Sequence[UserEvent]],
    category_vocabulary: Vocabulary,
    sequence_length: int,
    include_clicked_history: bool,
    browse_length: int,
) -> pd.DataFrame:
    """One behaviour-sequence row per request (request_id, user_id, event_time); ``histories`` holds the
    profile of each distinct user of the requests."""
    impressions, views = history_tables(histories)
    history = behaviour_sequences(requests, impressions, category_vocabulary, sequence_length, include_clicked_history)
    return with_browse_sequences(history, requests, views, category_vocabulary, browse_length)


def logged_histories(
    impressions: pd.DataFrame,
    views: pd.DataFrame,
    as_of: pd.Timestamp,
    sequence_length: int,
    browse_length: int,
) -> dict[int, list[UserEvent]]:
    """Per user, the logged events before ``as_of`` that a profile needs to rebuild the sequences the
    features pipeline builds: the last ``sequence_length`` impressions and clicked impressions, the
    last ``browse_length`` organic views, oldest first (impressions in request then slot order).

    ``impressions``: impressions_enriched (user_id, ad_id, category, event_time, request_id,
    position, click); ``views``: the organic views (user_id, category, event_time).
    """
    before = impressions.loc[impressions["event_time"] < as_of].sort_values(
        ["user_id", "event_time", "request_id", "position"], kind="stable"
    )
    recent = before.groupby("user_id").tail(sequence_length)
    clicked = before.loc[before["click"] == 1].groupby("user_id").tail(sequence_length)
    kept = before.loc[before.index.isin(recent.index.union(clicked.index))]
    viewed = views.loc[views["event_time"] < as_of].sort_values(["user_id", "event_time"], kind="stable")
    viewed = viewed.groupby("user_id").tail(browse_length)
    events: dict[int, list[tuple[float, UserEvent]]] = {}
    seconds = epoch_seconds(kept["event_time"])
    for user, ad, category, second, click in zip(
        kept["user_id"].tolist(), kept["ad_id"].tolist(), kept["category"].astype(str).tolist(), seconds.tolist(),
        kept["click"].tolist(), strict=True,
    ):  # fmt: skip
        bucket = events.setdefault(user, [])
        bucket.append((second, UserEvent(EventKind.IMPRESSION, ad, category, second)))
        if click == 1:
            bucket.append((second, UserEvent(EventKind.CLICK, ad, category, second)))
    view_seconds = epoch_seconds(viewed["event_time"])
    for user, category, second in zip(
        viewed["user_id"].tolist(), viewed["category"].astype(str).tolist(), view_seconds.tolist(), strict=True
    ):
        events.setdefault(user, []).append((second, UserEvent(EventKind.VIEW, 0, category, second)))
    # A stable sort by time keeps the impressions' request and slot order within one instant.
    return {user: [event for _, event in sorted(bucket, key=lambda item: item[0])] for user, bucket in events.items()}
