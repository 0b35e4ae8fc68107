"""Thin adapters between the catalog and the click-log feature functions."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from adrank_pipelines.clicklogs.config import ClickLogFeatureParams, ColumnMapping, check_feature_columns
from adrank_pipelines.clicklogs.features import click_log_feature_spec, click_log_model_input, click_log_vocabularies
from adrank_pipelines.clicklogs.splits import split_click_events
from adrank_pipelines.features.assemble import split_model_input
from adrank_pipelines.features.vocabulary import vocabularies_from_json, vocabularies_to_json

logger = logging.getLogger(__name__)
MODEL_INPUT_SPLITS = ("train", "valid", "test")


def split_click_log(events: pd.DataFrame, columns: ColumnMapping, features: ClickLogFeatureParams) -> pd.DataFrame:
    check_feature_columns(columns, features)
    split_events = split_click_events(events, features.splits)
    counts = split_events["split"].value_counts()
    logger.info(
        "%s split: %s",
        features.splits.method, ", ".join(f"{name} {counts[name]:,}" for name in MODEL_INPUT_SPLITS),
    )  # fmt: skip
    return split_events


def build_click_log_vocabularies(
    split_events: pd.DataFrame, columns: ColumnMapping, features: ClickLogFeatureParams
) -> dict[str, Any]:
    return vocabularies_to_json(click_log_vocabularies(split_events, columns.key_columns, features.min_count))


def build_click_log_model_inputs(
    split_events: pd.DataFrame, vocabularies: dict[str, Any], columns: ColumnMapping, features: ClickLogFeatureParams
) -> dict[str, pd.DataFrame]:
    inputs = click_log_model_input(split_events, vocabularies_from_json(vocabularies), columns.numeric, features)
    frames = split_model_input(inputs)
    return {split: frames[split] for split in MODEL_INPUT_SPLITS}


def build_click_log_feature_spec(
    vocabularies: dict[str, Any], columns: ColumnMapping, features: ClickLogFeatureParams
) -> dict[str, Any]:
    return click_log_feature_spec(
        vocabularies_from_json(vocabularies), columns.numeric, columns.time is not None, features
    )
