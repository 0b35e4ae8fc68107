"""Model inputs of a split click log, built from the features package's transforms.

Vocabularies are fitted on the train split; crosses are hashed; counts and smoothed click rates use
only strictly earlier rows (by time, or by line without a time column). Numeric columns enter as a
signed log plus a missing flag. The spec names every column by role, as the simulated world's does,
so the models build their inputs from it; there are no sequences or ad text here, so the models
factory picks the field-attention model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from adrank_pipelines.clicklogs.config import CLICK, EVENT_TIME, IMPRESSION_ID, ClickLogFeatureParams
from adrank_pipelines.features.assemble import LABEL_COLUMNS, cross_features
from adrank_pipelines.features.crosses import cross_column_name
from adrank_pipelines.features.splits import TRAIN
from adrank_pipelines.features.target_stats import numeric_feature_columns, target_statistics
from adrank_pipelines.features.vocabulary import Vocabulary, encode_columns, encoded_column_name, fit_vocabularies

SPLIT_COLUMN = "split"


def id_columns(has_time: bool) -> list[str]:
    return [IMPRESSION_ID, *([EVENT_TIME] if has_time else []), SPLIT_COLUMN]


def _numeric_names(column: str) -> tuple[str, str]:
    return f"{column}_log", f"{column}_missing"


def numeric_input_columns(numeric: Sequence[str]) -> list[str]:
    """Model-input columns of the raw numeric columns: ``<name>_log`` and ``<name>_missing`` each."""
    return [name for column in numeric for name in _numeric_names(column)]


def numeric_inputs(events: pd.DataFrame, numeric: Sequence[str]) -> pd.DataFrame:
    """sign(x) * log(1 + |x|) (counts span orders of magnitude), 0 where missing, plus a missing flag."""
    columns: dict[str, np.ndarray] = {}
    for column in numeric:
        log_name, missing_name = _numeric_names(column)
        values = events[column].to_numpy(dtype=np.float64)
        missing = np.isnan(values)
        columns[log_name] = np.where(missing, 0.0, np.sign(values) * np.log1p(np.abs(values))).astype(np.float32)
        columns[missing_name] = missing.astype(np.float32)
    return pd.DataFrame(columns, index=events.index)


def click_log_vocabularies(split_events: pd.DataFrame, columns: Sequence[str], min_count: int) -> dict[str, Vocabulary]:
    """One vocabulary per key column, fitted on the train split only."""
    return fit_vocabularies(split_events.loc[split_events[SPLIT_COLUMN] == TRAIN], columns, min_count)


def _event_order(split_events: pd.DataFrame) -> pd.Series:
    """The times past-only statistics compare: the real ones, or the line number as a stand-in."""
    if EVENT_TIME in split_events.columns:
        return split_events[EVENT_TIME]
    return pd.Series(pd.to_datetime(split_events[IMPRESSION_ID].to_numpy(), unit="ns"), index=split_events.index)


def click_log_model_input(
    split_events: pd.DataFrame,
    vocabularies: Mapping[str, Vocabulary],
    numeric: Sequence[str],
    params: ClickLogFeatureParams,
) -> pd.DataFrame:
    """Ids, labels (``conversion`` is 0: click logs carry none) and every feature, all splits at once."""
    has_time = EVENT_TIME in split_events.columns
    statistics = target_statistics(
        split_events.assign(**{EVENT_TIME: _event_order(split_events)}),
        params.target_stats.keys,
        params.target_stats.smoothing_strength,
        params.target_stats.initial_prior_ctr,
    )
    labels = pd.DataFrame(
        {CLICK: split_events[CLICK].to_numpy(dtype=np.int8), "conversion": np.zeros(len(split_events), np.int8)},
        index=split_events.index,
    )
    return pd.concat(
        [
            split_events[id_columns(has_time)],
            labels,
            encode_columns(split_events, vocabularies),
            cross_features(split_events, params.crosses.pairs, params.crosses.n_hash_buckets),
            numeric_inputs(split_events, numeric),
            statistics,
        ],
        axis=1,
    )


def click_log_feature_spec(
    vocabularies: Mapping[str, Vocabulary], numeric: Sequence[str], has_time: bool, params: ClickLogFeatureParams
) -> dict[str, Any]:
    """Roles of the model-input columns and embedding sizes (no sequences: click logs have none)."""
    categorical: dict[str, dict[str, Any]] = {
        encoded_column_name(name): {"kind": "vocabulary", "source": [name], "size": vocabulary.size}
        for name, vocabulary in vocabularies.items()
    }
    for left, right in params.crosses.pairs:
        # Buckets are 1..n, so the table needs n + 1 rows with row 0 for padding.
        categorical[cross_column_name(left, right)] = {
            "kind": "hash",
            "source": [left, right],
            "size": params.crosses.n_hash_buckets + 1,
        }
    statistics = [name for key in params.target_stats.keys for name in numeric_feature_columns(key)]
    return {
        "id_columns": id_columns(has_time),
        "label_columns": list(LABEL_COLUMNS),
        "split_column": SPLIT_COLUMN,
        "categorical": categorical,
        "numeric": numeric_input_columns(numeric) + statistics,
    }
