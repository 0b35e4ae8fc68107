"""Time-based splits: whole days, assigned from the end of the log backwards.

Rows are split by day, never at random, so every evaluation row lies after every training row, as
it would in production.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

TRAIN, VALID, TEST, DRIFT = "train", "valid", "test", "drift"
SPLITS: tuple[str, ...] = (TRAIN, VALID, TEST, DRIFT)


def assign_days_to_splits(days: pd.Series, valid_days: int, test_days: int, drift_days: int) -> dict[int, str]:
    """Map each distinct day to its split: the last ``drift_days`` days are drift, then test, valid, train.

    Raises a ``ValueError`` naming the parameters when there are not enough distinct days to leave
    at least one training day.
    """
    distinct_days = np.sort(days.unique())
    needed = valid_days + test_days + drift_days + 1
    if len(distinct_days) < needed:
        raise ValueError(
            f"The time-based split needs at least {needed} distinct days (1 train day + "
            f"features.splits.valid_days={valid_days} + features.splits.test_days={test_days} + "
            f"{drift_days} drift days from marketplace.drift.n_days) but the data has only "
            f"{len(distinct_days)}: {distinct_days.tolist()}. Simulate more days or lower these parameters."
        )
    labels_from_the_end = [DRIFT] * drift_days + [TEST] * test_days + [VALID] * valid_days
    labels = [TRAIN] * (len(distinct_days) - len(labels_from_the_end)) + labels_from_the_end[::-1]
    return {int(day): label for day, label in zip(distinct_days, labels, strict=True)}


def split_column(days: pd.Series, valid_days: int, test_days: int, drift_days: int) -> pd.Series:
    """The split label of every row, as a categorical column ordered train < valid < test < drift."""
    return split_labels(days, assign_days_to_splits(days, valid_days, test_days, drift_days))


def split_labels(days: pd.Series, day_to_split: dict[int, str]) -> pd.Series:
    """The split label of every row from a day -> split map (one slice of the log may hold only some days)."""
    return pd.Series(
        pd.Categorical(days.map(day_to_split), categories=list(SPLITS), ordered=True),
        index=days.index,
        name="split",
    )
