"""All contract failures of one delivery of raw marketplace tables, in one list.

Checks run in the order a failure is caused: each table's own contract first (columns, dtypes,
nulls, values, non-empty, time window), then the rules joining tables, only over tables that kept
their own contract. A broken table is reported once, by the check that names its real cause.
"""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from adrank_pipelines.schemas.failures import ContractFailure, ContractOutcome
from adrank_pipelines.schemas.integrity import cross_table_outcome
from adrank_pipelines.schemas.pandera_failures import contract_outcome
from adrank_pipelines.schemas.raw_tables import RAW_TABLE_SCHEMAS
from adrank_pipelines.schemas.time_window import (
    HISTORY_TABLES,
    TIMED_TABLES,
    ObservationWindow,
    history_failures,
    time_window_failures,
)


def raw_table_failures(
    tables: Mapping[str, pd.DataFrame], window: ObservationWindow, max_examples: int
) -> list[ContractFailure]:
    return list(raw_table_outcome(tables, window, max_examples).failures)


def raw_table_outcome(
    tables: Mapping[str, pd.DataFrame], window: ObservationWindow, max_examples: int
) -> ContractOutcome:
    """Every table's own contract, then the cross-table rules over the tables that kept theirs."""
    outcome = ContractOutcome()
    for name in RAW_TABLE_SCHEMAS:
        outcome += own_contract_outcome(name, tables[name], window, max_examples)
    return outcome + cross_table_outcome(tables, outcome.broken_tables, max_examples)


def own_contract_outcome(
    name: str, frame: pd.DataFrame, window: ObservationWindow, max_examples: int
) -> ContractOutcome:
    """What one raw table's contract says of it alone: its pandera model, then its time window."""
    outcome = contract_outcome(name, frame, RAW_TABLE_SCHEMAS[name], max_examples)
    # The time rules read event_time and day; a failure of either is already the real cause.
    failed_columns = {failure.column for failure in outcome.failures}
    failures: list[ContractFailure] = []
    if name in TIMED_TABLES and failed_columns.isdisjoint({"event_time", "day"}):
        failures += time_window_failures(name, frame, window, max_examples)
    if name in HISTORY_TABLES and "event_time" not in failed_columns:
        failures += history_failures(name, frame, window, max_examples)
    return outcome + ContractOutcome(tuple(failures), (), frozenset({name}) if failures else frozenset())
