"""Prediction frames of several splits in one table (``impression_id``, ``pctr``, ``split``)."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pandas as pd

PREDICTION_COLUMNS = ["impression_id", "pctr"]


def predictions_by_split(
    score: Callable[[pd.DataFrame], pd.DataFrame], frames: Mapping[str, pd.DataFrame]
) -> pd.DataFrame:
    """``score(frame)`` of every split's model input, tagged with the split's name."""
    return pd.concat(
        [score(frame)[PREDICTION_COLUMNS].assign(split=split) for split, frame in frames.items()], ignore_index=True
    )


def rows_of_split(predictions: pd.DataFrame, split: str) -> pd.DataFrame:
    """``impression_id``, ``pctr`` of one split."""
    return predictions.loc[predictions["split"] == split, PREDICTION_COLUMNS].reset_index(drop=True)
