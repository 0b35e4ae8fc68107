"""All contract failures of one delivery of raw marketplace tables, in one list."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd

from adrank_pipelines.schemas.failures import ContractFailure
from adrank_pipelines.schemas.integrity import cross_table_failures
from adrank_pipelines.schemas.pandera_failures import contract_failures
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
    """Single-table contracts first; rules that join tables or read timestamps then run
    wherever the columns they read are present and well typed."""
    failures: list[ContractFailure] = []
    for name, schema in RAW_TABLE_SCHEMAS.items():
        failures += contract_failures(name, tables[name], schema, max_examples)

    unusable = {(failure.dataset, failure.column) for failure in failures if failure.structural}
    failures += cross_table_failures(tables, unusable, max_examples)
    for name in TIMED_TABLES:
        if unusable.isdisjoint({(name, "event_time"), (name, "day")}):
            failures += time_window_failures(name, tables[name], window, max_examples)
    for name in HISTORY_TABLES:
        if (name, "event_time") not in unusable:
            failures += history_failures(name, tables[name], window, max_examples)
    return failures
