import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.features.sequences import behaviour_sequences, sequence_column_names
from adrank_pipelines.features.vocabulary import Vocabulary

T0 = pd.Timestamp("2026-01-05")
CATEGORIES = Vocabulary(values=("x", "y"))  # x -> 2, y -> 3


@pytest.fixture
def requests() -> pd.DataFrame:
    # User 1: requests 1, 2, 3 an hour apart, 5 at the same instant as 3, 6 an hour later; user 2: request 4.
    return pd.DataFrame(
        {
            "request_id": [1, 2, 3, 4, 5, 6],
            "user_id": [1, 1, 1, 2, 1, 1],
            "event_time": T0 + pd.to_timedelta([0, 60, 120, 60, 120, 180], unit="min"),
        }
    )


@pytest.fixture
def impressions(requests) -> pd.DataFrame:
    rows = [  # request_id, ad_id, position, click, category
        (1, 5, 1, 0, "x"),
        (1, 6, 2, 1, "y"),
        (2, 7, 1, 0, "x"),
        (3, 8, 1, 0, "unseen"),
        (4, 9, 1, 1, "x"),
        (5, 10, 1, 1, "y"),
        (6, 11, 1, 0, "x"),
    ]
    frame = pd.DataFrame(rows, columns=["request_id", "ad_id", "position", "click", "category"])
    return frame.merge(requests, on="request_id")


def _field(sequences: pd.DataFrame, field: str, length: int = 3) -> list[list]:
    return sequences[sequence_column_names(field, length)].to_numpy().tolist()


def test_history_is_strictly_earlier_left_padded_and_most_recent_last(requests, impressions):
    sequences = behaviour_sequences(requests, impressions, CATEGORIES, length=3, include_clicked_history=True)
    assert sequences["request_id"].tolist() == [1, 2, 3, 4, 5, 6]
    assert sequences["seq_len"].tolist() == [0, 2, 3, 0, 3, 3]
    assert _field(sequences, "ad_id") == [
        [0, 0, 0],  # first request: nothing before it, its own slots excluded
        [0, 5, 6],
        [5, 6, 7],
        [0, 0, 0],  # another user's history never leaks in
        [5, 6, 7],  # same instant as request 3: neither sees the other
        [7, 8, 10],  # ties at one instant keep request then slot order
    ]
    assert _field(sequences, "category")[5] == [2, 1, 3]  # "unseen" is out of vocabulary
    assert _field(sequences, "click")[2] == [0, 1, 0]
    np.testing.assert_allclose(_field(sequences, "age_hours")[2], [2.0, 2.0, 1.0])
    np.testing.assert_allclose(_field(sequences, "age_hours")[1], [0.0, 1.0, 1.0])


def test_clicked_history_keeps_only_clicks(requests, impressions):
    sequences = behaviour_sequences(requests, impressions, CATEGORIES, length=3, include_clicked_history=True)
    assert sequences["clicked_seq_len"].tolist() == [0, 1, 1, 0, 1, 2]
    assert _field(sequences, "clicked_ad_id") == [[0, 0, 0], [0, 0, 6], [0, 0, 6], [0, 0, 0], [0, 0, 6], [0, 6, 10]]


def test_row_order_of_the_inputs_does_not_matter(requests, impressions):
    expected = behaviour_sequences(requests, impressions, CATEGORIES, 3, include_clicked_history=False)
    shuffled = behaviour_sequences(
        requests.iloc[::-1], impressions.sample(frac=1.0, random_state=0), CATEGORIES, 3, include_clicked_history=False
    )
    pd.testing.assert_frame_equal(shuffled.iloc[::-1].reset_index(drop=True), expected)
    assert "clicked_seq_len" not in expected


def test_dtypes_are_compact_and_no_impressions_gives_padding(requests, impressions):
    sequences = behaviour_sequences(requests, impressions.iloc[:0], CATEGORIES, 3, include_clicked_history=True)
    assert (sequences.drop(columns="request_id").to_numpy() == 0).all()
    assert sequences["hist_ad_id_00"].dtype == np.int32
    assert sequences["hist_age_hours_00"].dtype == np.float32
