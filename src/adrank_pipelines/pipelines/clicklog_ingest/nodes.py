"""Thin adapters between the catalog and ``adrank_pipelines.clicklogs`` for reading a click log."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from adrank_pipelines.clicklogs.config import ColumnMapping
from adrank_pipelines.clicklogs.mapping import click_events
from adrank_pipelines.clicklogs.summary import click_log_summary

logger = logging.getLogger(__name__)


def parse_click_log(raw: pd.DataFrame, columns: ColumnMapping) -> pd.DataFrame:
    events = click_events(raw, columns)
    logger.info(
        "parsed %d click-log rows, CTR %.4f, %d categorical and %d numeric columns",
        len(events), events["click"].mean(), len(columns.categorical), len(columns.numeric),
    )  # fmt: skip
    return events


def summarise_click_log(events: pd.DataFrame, columns: ColumnMapping) -> dict[str, Any]:
    return click_log_summary(events, columns)
