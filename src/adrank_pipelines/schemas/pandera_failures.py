"""Run a pandera contract lazily and turn its failure cases into ``ContractFailure`` records.

A contract runs in two stages so that the first failure names the real cause: first every column
on its own (present, dtype, nulls, values) and the table's non-empty rule; then, only on a table
that passed those, the table-wide rules that compare columns (``conversion <= click``), which on a
broken column would only fail along with it or crash on it.
"""

from __future__ import annotations

import copy
from collections.abc import Hashable, Mapping
from typing import Any

import pandas as pd
import pandera.pandas as pa

from adrank_pipelines.schemas.contract_model import NON_EMPTY_CHECK, WHOLE_TABLE, TableContract
from adrank_pipelines.schemas.failures import ContractFailure, ContractOutcome, SkippedCheck, describe_row

# pandera's names for its built-in checks, and the prefix of its dtype checks.
_MISSING_COLUMN_CHECK = "column_in_dataframe"
_NULL_CHECK = "not_nullable"
_DTYPE_CHECK_PREFIX = "dtype("
_UNIQUE_KEY_CHECK = "multiple_fields_uniqueness"
# Joins the columns of a composite key into the one "column" its uniqueness failure is filed under.
_KEY_SEPARATOR = ", "
_VALUE_RANK = 4


def _rank(check: str) -> int:
    """Where a failure is listed within its table: no rows, a missing column, nulls (which also
    turn an integer column to float), a wrong dtype, then the values; ties keep pandera's order."""
    if check == NON_EMPTY_CHECK:
        return 0
    if check == _MISSING_COLUMN_CHECK:
        return 1
    if check == _NULL_CHECK:
        return 2
    if check.startswith(_DTYPE_CHECK_PREFIX):
        return 3
    return _VALUE_RANK


def contract_failures(
    dataset: str, frame: pd.DataFrame, schema: type[TableContract], max_examples: int
) -> list[ContractFailure]:
    """Every failed check of ``schema`` on ``frame``, grouped per (column, check), first cause first."""
    return list(contract_outcome(dataset, frame, schema, max_examples).failures)


def contract_outcome(
    dataset: str, frame: pd.DataFrame, schema: type[TableContract], max_examples: int
) -> ContractOutcome:
    """The failures of ``schema`` on ``frame``; its table-wide rules are skipped when a column failed."""
    contract = schema.to_schema()
    table_rules = [check for check in contract.checks if check.name != NON_EMPTY_CHECK]
    failures = _column_stage_failures(dataset, frame, contract, max_examples)
    if failures:
        skipped = tuple(SkippedCheck(f"{dataset} check '{rule.name}'", (dataset,)) for rule in table_rules)
        return ContractOutcome(tuple(failures), skipped, frozenset({dataset}))
    table_stage = pa.DataFrameSchema(checks=table_rules, name=contract.name)
    failures = _failures_of(dataset, frame, table_stage, contract, max_examples)
    return ContractOutcome(tuple(failures), (), frozenset({dataset}) if failures else frozenset())


def _column_stage_failures(
    dataset: str,
    frame: pd.DataFrame,
    contract: pa.DataFrameSchema,
    max_examples: int,
) -> list[ContractFailure]:
    """Column checks and the non-empty rule, first cause first; a value check on a column of the
    wrong dtype is dropped (it compares text with numbers, say, and fails or crashes with it)."""
    column_stage = copy.copy(contract)
    column_stage.checks = [check for check in contract.checks if check.name == NON_EMPTY_CHECK]
    failures = _failures_of(dataset, frame, column_stage, contract, max_examples)
    mistyped = {failure.column for failure in failures if failure.check.startswith(_DTYPE_CHECK_PREFIX)}
    kept = [failure for failure in failures if _rank(failure.check) < _VALUE_RANK or failure.column not in mistyped]
    return sorted(kept, key=lambda failure: _rank(failure.check))


def _failures_of(
    dataset: str,
    frame: pd.DataFrame,
    schema: pa.DataFrameSchema,
    contract: pa.DataFrameSchema,
    max_examples: int,
) -> list[ContractFailure]:
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as errors:
        return _group_failure_cases(dataset, frame, contract, errors.failure_cases, max_examples)
    return []


def _group_failure_cases(
    dataset: str,
    frame: pd.DataFrame,
    contract: pa.DataFrameSchema,
    failure_cases: pd.DataFrame,
    max_examples: int,
) -> list[ContractFailure]:
    cases = _name_judged_columns(contract, failure_cases)
    failures = []
    for (column_key, check_key), group in cases.groupby(["column", "check"], sort=False):
        # Both key columns hold text (see _name_judged_columns).
        column, check = str(column_key), str(check_key)
        failures.append(_failure(dataset, frame, contract, column, check, group, max_examples))
    return failures


def _failure(
    dataset: str,
    frame: pd.DataFrame,
    contract: pa.DataFrameSchema,
    column: str,
    check: str,
    group: pd.DataFrame,
    max_examples: int,
) -> ContractFailure:
    if check == _MISSING_COLUMN_CHECK:
        return ContractFailure(dataset, column, check, len(group), (f"columns present: {list(frame.columns)}",))
    if check == NON_EMPTY_CHECK:
        return ContractFailure(dataset, column, check, 1, (), verdict=f"dataset '{dataset}' is empty (0 rows)")
    if check.startswith(_DTYPE_CHECK_PREFIX):
        return _dtype_failure(
            dataset, frame, column, check, _expected_dtype(contract, column, check), group, max_examples
        )
    if check == _UNIQUE_KEY_CHECK:
        return _key_failure(dataset, frame, column, group, max_examples)
    records = group.head(max_examples).to_dict("records")
    examples = tuple(_describe_case(frame, column, record) for record in records)
    return ContractFailure(dataset, column, check, len(group), examples)


def _key_failure(
    dataset: str, frame: pd.DataFrame, key: str, group: pd.DataFrame, max_examples: int
) -> ContractFailure:
    """The rows sharing a value of a composite key, each shown with every column of the key."""
    columns = key.split(_KEY_SEPARATOR)
    examples = tuple(describe_row(frame, label, *columns) for label in group["index"].head(max_examples))
    return ContractFailure(dataset, key, _UNIQUE_KEY_CHECK, len(group), examples)


def _dtype_failure(
    dataset: str, frame: pd.DataFrame, column: str, check: str, expected: str, group: pd.DataFrame, max_examples: int
) -> ContractFailure:
    """One failure per mistyped column, led by the dtype expected and found.

    pandera lists the values of another type when the column holds objects (a text among floats)
    and a single case for a column of another dtype, where every row is of the wrong type.
    """
    values = frame[column]
    verdict = f"wrong dtype: expected {expected}, got {values.dtype}"
    if pd.api.types.is_integer_dtype(expected) and pd.api.types.is_float_dtype(values) and values.isna().any():
        verdict += " (the nulls turn an integer column to float)"
    # pandera lists a null as a value of another type too; the null check already names its row.
    labels = group["index"].dropna()
    labels = labels[labels.isin(frame.index[values.notna().to_numpy()])]
    examples = tuple(describe_row(frame, label, column) for label in labels.head(max_examples))
    return ContractFailure(dataset, column, check, len(labels) or len(frame), examples, verdict)


def _expected_dtype(contract: pa.DataFrameSchema, column: str, check: str) -> str:
    column_schema = contract.columns.get(column)
    if column_schema is not None:
        return str(column_schema.dtype)
    return check.removeprefix(_DTYPE_CHECK_PREFIX).removesuffix(")").strip("'")


def _name_judged_columns(contract: pa.DataFrameSchema, failure_cases: pd.DataFrame) -> pd.DataFrame:
    """One case per (column judged, check, row).

    pandera files a missing column under the schema with the column's name as its failure case,
    and repeats a failing row of a table-wide check, or of a composite key's uniqueness, once per
    column; they are renamed here to the column (or the key's columns) actually judged.
    """
    check = failure_cases["check"].astype(str)
    column = failure_cases["column"].where(check != _MISSING_COLUMN_CHECK, failure_cases["failure_case"])
    is_key_check = check == _UNIQUE_KEY_CHECK
    key = _KEY_SEPARATOR.join(dict.fromkeys(failure_cases.loc[is_key_check, "column"].astype(str)))
    column = column.mask(is_key_check, key)
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
    """The offending row when pandera names one, else what pandera observed."""
    label = record["index"]
    if pd.notna(label) and label in frame.index:
        return describe_row(frame, label, column)
    if column == WHOLE_TABLE:
        return f"observed: {len(frame)} row(s)"
    return f"observed: {record['failure_case']!r}"
