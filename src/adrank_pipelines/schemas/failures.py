"""The one error type of the data contracts, and the failure records it collects.

Every check (pandera contract, cross-table integrity, time window, Great Expectations suite)
reports ``ContractFailure`` records instead of raising, so a run can list *all* problems of a
delivery in one ``DataContractError`` rather than stopping at the first. A check that reads a table
which failed its own contract is not run but recorded as a ``SkippedCheck``: its failures would only
echo that table's, and bury the real cause under derived ones.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import pandas as pd

# Columns shown for an offending row besides the failing one: the table's own id names the row.
_ID_COLUMNS = ("impression_id", "request_id", "ad_id", "advertiser_id", "user_id")


@dataclass(frozen=True)
class ContractFailure:
    """One failed check on one column of one dataset, with a few offending rows as evidence.

    ``verdict`` states a finding about the column or table as a whole (a wrong dtype, no rows),
    where a count of failure cases would mislead.
    """

    dataset: str
    column: str
    check: str
    failure_count: int
    examples: tuple[str, ...]
    verdict: str = ""

    def render(self) -> str:
        cases = f"{self.failure_count} failure case(s)"
        found = f"{self.verdict}; {cases}" if self.verdict and self.examples else self.verdict or cases
        header = f"dataset '{self.dataset}', column '{self.column}', check '{self.check}': {found}"
        if not self.examples:
            return header
        shown = "\n".join(f"      {example}" for example in self.examples)
        return f"{header}, first {len(self.examples)}:\n{shown}"


@dataclass(frozen=True)
class SkippedCheck:
    """A check not run because tables it reads failed their own contract."""

    check: str
    failed_tables: tuple[str, ...]


@dataclass(frozen=True)
class ContractOutcome:
    """What a group of checks found: failures first-cause first, the checks skipped, and the
    tables that failed their own (single-table) contract, which later checks must not read."""

    failures: tuple[ContractFailure, ...] = ()
    skipped: tuple[SkippedCheck, ...] = ()
    broken_tables: frozenset[str] = field(default_factory=frozenset)

    def __add__(self, other: ContractOutcome) -> ContractOutcome:
        return ContractOutcome(
            self.failures + other.failures, self.skipped + other.skipped, self.broken_tables | other.broken_tables
        )


def skip_if_broken(check: str, reads: Iterable[str], broken_tables: frozenset[str]) -> SkippedCheck | None:
    """The skip record of a check reading a broken table, or ``None`` when the check may run."""
    failed = tuple(table for table in dict.fromkeys(reads) if table in broken_tables)
    return SkippedCheck(check, failed) if failed else None


class DataContractError(Exception):
    """Raised when raw data breaks its contract; the message lists every failure found, then
    the checks skipped because a table they read failed its own contract."""

    def __init__(self, failures: Sequence[ContractFailure], skipped: Sequence[SkippedCheck] = ()) -> None:
        self.failures = tuple(failures)
        self.skipped = tuple(skipped)
        datasets = sorted({failure.dataset for failure in self.failures})
        lines = [f"{len(self.failures)} data contract check(s) failed in {datasets}; nothing downstream was written."]
        lines += [f"  [{number}] {failure.render()}" for number, failure in enumerate(self.failures, 1)]
        lines += _render_skipped(self.skipped)
        super().__init__("\n".join(lines))


def _render_skipped(skipped: Sequence[SkippedCheck]) -> list[str]:
    """One ``skipped: <table> failed its own contract`` entry per group of failed tables."""
    by_tables: dict[tuple[str, ...], list[str]] = {}
    for skip in skipped:
        checks = by_tables.setdefault(skip.failed_tables, [])
        if skip.check not in checks:
            checks.append(skip.check)
    lines = []
    for tables, checks in by_tables.items():
        whose = "its" if len(tables) == 1 else "their"
        lines.append(f"  skipped: {' and '.join(tables)} failed {whose} own contract; not run:")
        lines += textwrap.wrap("; ".join(checks), width=110, initial_indent=" " * 6, subsequent_indent=" " * 6)
    return lines


def raise_if_any(failures: Sequence[ContractFailure], skipped: Sequence[SkippedCheck] = ()) -> None:
    if failures:
        raise DataContractError(failures, skipped)


def raise_if_failed(outcome: ContractOutcome) -> None:
    raise_if_any(outcome.failures, outcome.skipped)


def describe_row(frame: pd.DataFrame, label: object, *columns: str) -> str:
    """``row <label>: {id columns and the failing columns}`` - enough to find the row again."""
    shown = list(dict.fromkeys(name for name in (*_ID_COLUMNS, *columns) if name in frame.columns))
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
