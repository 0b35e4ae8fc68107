"""Train / valid / test splits of a click log: whole days from the end when it has time, else a seeded
random share of the rows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.clicklogs.config import (
    EVENT_TIME,
    HOUR_OF_DAY,
    IMPRESSION_ID,
    RANDOM_SPLIT_OVERRIDE,
    RandomSplit,
    TimeSplit,
)
from adrank_pipelines.features.splits import SPLITS, TEST, TRAIN, VALID, split_column


def _day_splits(times: pd.Series, splits: TimeSplit) -> pd.Series:
    days = (times.dt.normalize() - times.min().normalize()).dt.days
    needed = splits.valid_days + splits.test_days + 1
    distinct = days.nunique()
    if distinct < needed:
        raise ValueError(
            f"The time split needs at least {needed} distinct days (1 train day + clicklog_features.splits."
            f"valid_days={splits.valid_days} + test_days={splits.test_days}) but the log spans {distinct}: "
            f"lower them, read more of the log, or split at random instead: {RANDOM_SPLIT_OVERRIDE}"
        )
    return split_column(days, splits.valid_days, splits.test_days, drift_days=0)


def _random_splits(index: pd.Index, splits: RandomSplit) -> pd.Series:
    draws = np.random.default_rng(splits.seed).random(len(index))
    labels = np.where(
        draws < splits.test_fraction,
        TEST,
        np.where(draws < splits.test_fraction + splits.valid_fraction, VALID, TRAIN),
    )
    return pd.Series(pd.Categorical(labels, categories=list(SPLITS), ordered=True), index=index, name="split")


def split_click_events(events: pd.DataFrame, splits: TimeSplit | RandomSplit) -> pd.DataFrame:
    """The parsed log in time order (file order without a time column) with its ``split`` and, when it
    has time, the ``hour_of_day`` (0..23) that crosses and target statistics may use."""
    if splits.method == "time":
        ordered = events.sort_values([EVENT_TIME, IMPRESSION_ID], kind="stable", ignore_index=True)
        split = _day_splits(ordered[EVENT_TIME], splits)
    else:
        ordered = events.sort_values(IMPRESSION_ID, kind="stable", ignore_index=True)
        split = _random_splits(ordered.index, splits)
    ordered["split"] = split
    if EVENT_TIME in ordered.columns:
        ordered[HOUR_OF_DAY] = ordered[EVENT_TIME].dt.hour.astype(np.int64)
    return ordered
