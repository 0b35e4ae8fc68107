"""What a new registry version carries and which aliases it takes."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.lifecycle.registry import CHALLENGER, CHAMPION
from adrank_pipelines.lifecycle.release import aliases_for_new_version, training_window, validation_metrics


@pytest.mark.parametrize(
    ("policy", "held", "taken"),
    [
        ("always", set(), (CHAMPION,)),
        ("always", {CHAMPION, CHALLENGER}, (CHAMPION,)),
        ("if_no_champion", set(), (CHAMPION,)),
        ("if_no_champion", {CHALLENGER}, (CHAMPION,)),
        ("if_no_champion", {CHAMPION}, (CHALLENGER,)),
    ],
)
def test_a_new_version_takes_the_aliases_its_policy_gives(policy: str, held: set[str], taken: tuple[str, ...]) -> None:
    assert aliases_for_new_version(policy, held) == taken  # type: ignore[arg-type]


def test_an_unknown_policy_is_named() -> None:
    with pytest.raises(ValueError, match="promote is 'sometimes', not one of \\['always', 'if_no_champion'\\]"):
        aliases_for_new_version("sometimes", set())  # type: ignore[arg-type]


def test_validation_metrics_score_the_calibrated_pctr_of_every_validation_row() -> None:
    valid = pd.DataFrame({"impression_id": [3, 1, 2, 4], "click": [1, 0, 0, 1]})
    calibrated = pd.DataFrame({"impression_id": [1, 2, 3, 4], "pctr": [0.2, 0.4, 0.3, 0.9]})
    metrics = validation_metrics(calibrated, valid)
    # Clicked rows score 0.3 and 0.9, unclicked 0.2 and 0.4: 3 of 4 pairs ordered right.
    assert metrics["valid_auc"] == 0.75 and set(metrics) == {"valid_auc", "valid_logloss"}
    assert math.isclose(metrics["valid_logloss"], -np.mean(np.log([0.8, 0.6, 0.3, 0.9])))
    with pytest.raises(ValueError, match="the validation predictions cover 3 of 4 validation rows"):
        validation_metrics(calibrated.head(3), valid)


def test_the_training_window_is_read_from_event_time_where_the_splits_have_it() -> None:
    times = pd.to_datetime(["2024-01-01 10:00", "2024-01-03 23:59"])
    train, valid = pd.DataFrame({"event_time": times}), pd.DataFrame({"event_time": pd.to_datetime(["2024-01-04"])})
    assert training_window(train, valid) == {
        "train_first_day": "2024-01-01",
        "train_last_day": "2024-01-03",
        "valid_first_day": "2024-01-04",
        "valid_last_day": "2024-01-04",
    }
    assert training_window(pd.DataFrame({"click": [1]}), pd.DataFrame({"click": [0]})) == {}
    with pytest.raises(ValueError, match="the valid split is empty"):
        training_window(train, valid.head(0))
