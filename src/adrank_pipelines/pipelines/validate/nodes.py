"""Adapters of the ``validate`` pipeline: unpack parameters, call ``adrank_pipelines.schemas``."""

from __future__ import annotations

import logging
from typing import Any

import pandas as pd

from adrank_pipelines.schemas.failures import raise_if_failed
from adrank_pipelines.schemas.ground_truth import GROUND_TRUTH_SCHEMAS, ground_truth_outcome
from adrank_pipelines.schemas.raw_contracts import raw_table_outcome
from adrank_pipelines.schemas.settings import ContractReportSettings, ImpressionSuiteThresholds
from adrank_pipelines.schemas.suite_summary import suite_outcome
from adrank_pipelines.schemas.time_window import ObservationWindow

logger = logging.getLogger(__name__)


def define_observation_window(
    start_date: str, n_days: int, drift_enabled: bool, drift_n_days: int
) -> ObservationWindow:
    # ``start_date`` is annotated as the ISO string of the YAML: a ``str | date`` union would make
    # Kedro's parameter validation warn on every run, and a ``date`` is accepted all the same.
    return ObservationWindow.of_marketplace(start_date, n_days, drift_enabled, drift_n_days)


def run_impression_suites(
    impressions: pd.DataFrame, thresholds: ImpressionSuiteThresholds
) -> tuple[dict[str, Any], dict[str, str]]:
    """Returns the JSON summary and the Data Docs site; failures are enforced downstream, so the
    report is written even when the suite fails (or is skipped on a broken log) and a person can
    read why."""
    # Imported here rather than at the top: Great Expectations takes seconds to import, and every
    # Kedro command that loads the pipeline registry would pay for it.
    from adrank_pipelines.schemas import impression_suite

    report = impression_suite.run_impression_suites(impressions, thresholds)
    return report.summary, report.data_docs


def enforce_raw_table_contracts(
    users: pd.DataFrame,
    advertisers: pd.DataFrame,
    ads: pd.DataFrame,
    requests: pd.DataFrame,
    impressions: pd.DataFrame,
    user_events: pd.DataFrame,
    window: ObservationWindow,
    suite_summary: dict[str, Any],
    report: ContractReportSettings,
) -> dict[str, pd.DataFrame]:
    """The raw tables, unchanged, once every contract and expectation holds.

    Raises:
        DataContractError: listing every failed check, each table's own contract first, and the
            checks skipped because a table they read failed its own; no validated table is returned.
    """
    tables = {
        "users": users,
        "advertisers": advertisers,
        "ads": ads,
        "requests": requests,
        "impressions": impressions,
        "user_events": user_events,
    }
    outcome = raw_table_outcome(tables, window, report.max_offending_rows)
    raise_if_failed(outcome + suite_outcome(suite_summary, outcome.broken_tables))
    return tables


def enforce_ground_truth_contracts(
    truth_impressions: pd.DataFrame,
    truth_users: pd.DataFrame,
    truth_ads: pd.DataFrame,
    impressions: pd.DataFrame,
    users: pd.DataFrame,
    ads: pd.DataFrame,
    report: ContractReportSettings,
) -> dict[str, dict[str, int]]:
    """Row counts of the checked truth tables.

    A raw table that fails its own contract is left to ``enforce_raw_table_contracts`` to report:
    the id match against it is skipped, and this node fails only on the truth tables' own faults.

    Raises:
        DataContractError: listing every failed check.
    """
    truth = {"truth_impressions": truth_impressions, "truth_users": truth_users, "truth_ads": truth_ads}
    raw = {"impressions": impressions, "users": users, "ads": ads}
    outcome = ground_truth_outcome(truth, raw, report.max_offending_rows)
    raise_if_failed(outcome)
    for skipped in outcome.skipped:
        failed = " and ".join(skipped.failed_tables)
        logger.warning("ground truth check '%s' skipped: %s failed its own contract", skipped.check, failed)
    return {name: {"rows": len(truth[name])} for name in GROUND_TRUTH_SCHEMAS}
