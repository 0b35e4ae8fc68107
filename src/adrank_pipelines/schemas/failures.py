"""The one error type of the data contracts, and the failure records it collects.

Every check (pandera contract, cross-table integrity, time window, Great Expectations suite)
reports ``ContractFailure`` records instead of raising, so a run can list *all* problems of a
delivery in one ``DataContractError`` rather than stopping at the first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

# Columns shown for an offending row besides the failing one: the table's own id names the row.
_ID_COLUMNS = ("impression_id", "request_id", "ad_id", "advertiser_id", "user_id")


@dataclass(frozen=True)
class ContractFailure:
    """One failed check on one column of one dataset, with a few offending rows as evidence.

    ``structural`` marks a column that is missing or mistyped: rules reading it would only add
    noise (or crash), so they are skipped.
    """

    dataset: str
    column: str
    check: str
    failure_count: int
    examples: tuple[str, ...]
    structural: bool = False

    def render(self) -> str:
        header = (
            f"dataset '{self.dataset}', column '{self.column}', check '{self.check}': "
            f"{self.failure_count} failure case(s)"
        )
        if not self.examples:
            return header
        shown = "\n".join(f"      {example}" for example in self.examples)
        return f"{header}, first {len(self.examples)}:\n{shown}"


class DataContractError(Exception):
    """Raised when raw data breaks its contract; the message lists every failure found."""

    def __init__(self, failures: Sequence[ContractFailure]) -> None:
        self.failures = tuple(failures)
        datasets = sorted({failure.dataset for failure in self.failures})
        lines = [f"{len(self.failures)} data contract check(s) failed in {datasets}; nothing downstream was written."]
        lines += [f"  [{number}] {failure.render()}" for number, failure in enumerate(self.failures, 1)]
        super().__init__("\n".join(lines))


def raise_if_any(failures: Sequence[ContractFailure]) -> None:
    if failures:
        raise DataContractError(failures)


def describe_row(frame: pd.DataFrame, label: object, column: str) -> str:
    """``row <label>: {id columns and the failing column}`` - enough to find the row again."""
    shown = list(dict.fromkeys(name for name in (*_ID_COLUMNS, column) if name in frame.columns))
    # A one-row frame keeps each column's type (a row Series would upcast ids to float), and
    # head(1) keeps the first row when the index label is duplicated.
    values = frame.loc[[label], shown].head(1).to_dict("records")[0]
    return f"row {label}: {values}"


def failure_from_mask(
    dataset: str,
    frame: pd.DataFrame,
    column: str,
    check: str,
    offending: pd.Series,
    max_examples: int,
) -> list[ContractFailure]:
    """A failure listing the first offending rows of ``frame``, or nothing when none offend."""
    labels = frame.index[offending.to_numpy(dtype=bool, na_value=False)]
    if len(labels) == 0:
        return []
    examples = tuple(describe_row(frame, label, column) for label in labels[:max_examples])
    return [ContractFailure(dataset, column, check, len(labels), examples)]
