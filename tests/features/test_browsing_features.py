import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.features.browsing import (
    BROWSE_COUNT_COLUMN,
    BROWSE_LENGTH_COLUMN,
    BROWSE_SHARE_COLUMN,
    browse_affinity,
    browse_sequences,
)
from adrank_pipelines.features.sequences import sequence_column_names
from adrank_pipelines.features.vocabulary import Vocabulary

START = pd.Timestamp("2026-01-05")
VOCABULARY = Vocabulary(values=("travel", "food", "games"))


def _at(hours: list[float]) -> pd.Series:
    return START + pd.to_timedelta(hours, unit="h")


def _requests() -> pd.DataFrame:
    return pd.DataFrame({"request_id": [10, 11, 12], "user_id": [1, 1, 2], "event_time": _at([5.0, 9.0, 5.0])})


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "user_id": [1, 1, 1, 1, 2],
            "event_time": _at([-30.0, 1.0, 5.0, 8.0, 6.0]),
            "category": ["travel", "food", "games", "travel", "food"],
        }
    )


def test_views_strictly_before_the_request_left_padded_with_ages():
    sequences = browse_sequences(_requests(), _events(), VOCABULARY, length=3)
    categories = sequences[sequence_column_names("browse_category", 3)].to_numpy()
    ages = sequences[sequence_column_names("browse_age_hours", 3)].to_numpy()
    travel, food, games = (VOCABULARY.encode(pd.Series([c]))[0] for c in ["travel", "food", "games"])
    # Request 10 at 5h: the view at 5h is not before it; request 11 at 9h keeps the last three.
    assert categories.tolist() == [[0, travel, food], [food, games, travel], [0, 0, 0]]
    assert ages[0].tolist() == [0.0, 35.0, 4.0]
    assert ages[1].tolist() == [8.0, 4.0, 1.0]
    assert sequences[BROWSE_LENGTH_COLUMN].tolist() == [2, 3, 0]


def test_affinity_is_the_share_of_recent_views_in_the_ad_category():
    sequences = browse_sequences(_requests(), _events(), VOCABULARY, length=3)
    travel = VOCABULARY.encode(pd.Series(["travel"]))[0]
    affinity = browse_affinity(np.array([10, 11, 12]), np.array([travel, travel, travel]), sequences, length=3)
    assert affinity[BROWSE_SHARE_COLUMN].tolist() == pytest.approx([0.5, 1 / 3, 0.0])
    assert affinity[BROWSE_COUNT_COLUMN].tolist() == [2.0, 3.0, 0.0]


def test_affinity_names_a_request_without_sequences():
    sequences = browse_sequences(_requests(), _events(), VOCABULARY, length=3)
    with pytest.raises(KeyError, match="request_id \\[99\\]"):
        browse_affinity(np.array([99]), np.array([2]), sequences, length=3)
