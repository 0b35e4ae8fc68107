"""Adapter of the ``clicklog_validate`` pipeline: the mapping's contract, enforced."""

from __future__ import annotations

import logging

import pandas as pd

from adrank_pipelines.clicklogs.config import ColumnMapping
from adrank_pipelines.clicklogs.contract import click_log_failures
from adrank_pipelines.schemas.failures import raise_if_any
from adrank_pipelines.schemas.settings import ContractReportSettings

logger = logging.getLogger(__name__)


def enforce_click_log_contract(
    events: pd.DataFrame, columns: ColumnMapping, report: ContractReportSettings
) -> pd.DataFrame:
    """The parsed log, unchanged, once its contract holds.

    Raises:
        DataContractError: listing every failed check, offending rows named by impression_id (the line).
    """
    raise_if_any(click_log_failures(events, columns, report.max_offending_rows))
    logger.info("click log holds its contract: %d rows, %d columns", len(events), events.shape[1])
    return events
