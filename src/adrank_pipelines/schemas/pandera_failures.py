"""Run a pandera contract lazily and turn its failure cases into ``ContractFailure`` records."""

from __future__ import annotations

from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd
import pandera.pandas as pa

from adrank_pipelines.schemas.contract_model import WHOLE_TABLE, TableContract
from adrank_pipelines.schemas.failures import ContractFailure, describe_row

# pandera's name for the "column is missing" check, and the prefix of its dtype checks.
_MISSING_COLUMN_CHECK = "column_in_dataframe"
_DTYPE_CHECK_PREFIX = "dtype("


def contract_failures(
    dataset: str, frame: pd.DataFrame, schema: type[TableContract], max_examples: int
) -> list[ContractFailure]:
    """Every failed check of ``schema`` on ``frame``, grouped per (column, check)."""
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return _group_failure_cases(dataset, frame, schema, errors.failure_cases, max_examples)
    return []


def _group_failure_cases(
    dataset: str,
    frame: pd.DataFrame,
    schema: type[TableContract],
    failure_cases: pd.DataFrame,
    max_examples: int,
) -> list[ContractFailure]:
    cases = _name_judged_columns(schema, failure_cases)
    failures = []
    for (column_key, check_key), group in cases.groupby(["column", "check"], sort=False):
        # Both key columns hold text (see _name_judged_columns).
        column, check = str(column_key), str(check_key)
        if check == _MISSING_COLUMN_CHECK:
            examples: tuple[str, ...] = (f"columns present: {list(frame.columns)}",)
        else:
            records = group.head(max_examples).to_dict("records")
            examples = tuple(_describe_case(frame, column, record) for record in records)
        structural = check == _MISSING_COLUMN_CHECK or check.startswith(_DTYPE_CHECK_PREFIX)
        failures.append(ContractFailure(dataset, column, check, len(group), examples, structural))
    return failures


def _name_judged_columns(schema: type[TableContract], failure_cases: pd.DataFrame) -> pd.DataFrame:
    """One case per (column judged, check, row).

    pandera files a missing column under the schema with the column's name as its failure case,
    and repeats a failing row of a table-wide check once per column; both are renamed here to the
    column actually judged.
    """
    check = failure_cases["check"].astype(str)
    column = failure_cases["column"].where(check != _MISSING_COLUMN_CHECK, failure_cases["failure_case"])
    contract = schema.to_schema()
    table_checks = {table_check.name for table_check in contract.checks}
    is_table_check = check.isin(table_checks)
    column = column.mask(is_table_check, check.map(lambda name: _judged_column(name, list(contract.columns))))
    cases = failure_cases.assign(column=column.astype(str), check=check)
    return cases.drop_duplicates(subset=["column", "check", "index"])


def _judged_column(check: str, columns: list[str]) -> str:
    """Table-wide checks are named ``<column>_<rule>`` when they judge one column."""
    judged = [column for column in columns if check.startswith(f"{column}_")]
    return max(judged, key=len, default=WHOLE_TABLE)


def _describe_case(frame: pd.DataFrame, column: str, record: Mapping[Hashable, Any]) -> str:
    """The offending row when pandera names one, else what pandera observed (e.g. the dtype)."""
    label = record["index"]
    if pd.notna(label) and label in frame.index:
        return describe_row(frame, label, column)
    if column == WHOLE_TABLE:
        return f"observed: {len(frame)} row(s)"
    return f"observed: {record['failure_case']!r}"
