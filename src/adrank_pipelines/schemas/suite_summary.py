"""Failed expectations of a Great Expectations summary, as ``ContractFailure`` records.

Reads the JSON summary written by ``impression_suite`` (not GX objects), so the contract check
can join suite failures to its own without importing Great Expectations.
"""

from __future__ import annotations

from typing import Any

from adrank_pipelines.schemas.contract_model import WHOLE_TABLE
from adrank_pipelines.schemas.failures import ContractFailure, ContractOutcome, skip_if_broken

# The suites (by the dataset their summary names) and the raw table each judges: both read the
# impression log, one row per impression or per position.
IMPRESSIONS = "impressions"
IMPRESSIONS_BY_POSITION = "impressions by position"
SUITE_TABLES = {IMPRESSIONS: "impressions", IMPRESSIONS_BY_POSITION: "impressions"}


def suite_failures(summary: dict[str, Any]) -> list[ContractFailure]:
    return list(suite_outcome(summary, frozenset()).failures)


def suite_outcome(summary: dict[str, Any], broken_tables: frozenset[str]) -> ContractOutcome:
    """The failed expectations of every suite whose table kept its own contract.

    A suite over a broken table is skipped: its expectations fail with the table (a missing
    column, a null rate) and would only repeat the contract's failure.
    """
    outcome = ContractOutcome()
    for suite in summary["suites"]:
        dataset = suite["dataset"]
        skipped = skip_if_broken(f"expectation suite '{dataset}'", (SUITE_TABLES.get(dataset, dataset),), broken_tables)
        if skipped is not None:
            outcome += ContractOutcome(skipped=(skipped,))
        elif suite.get("skipped"):
            outcome += ContractOutcome(failures=(_not_run(dataset),))
        else:
            failed = [expectation for expectation in suite["expectations"] if not expectation["success"]]
            outcome += ContractOutcome(failures=tuple(_as_failure(dataset, expectation) for expectation in failed))
    return outcome


def format_bounds(expectation: dict[str, Any]) -> str:
    """The expectation's arguments (bounds, value sets, ``mostly``) as ``key=value, ...``."""
    return ", ".join(f"{key}={value}" for key, value in expectation["kwargs"].items())


def _not_run(dataset: str) -> ContractFailure:
    # The suite was skipped on a table that now keeps its contract: a summary of an earlier run.
    verdict = "not run on these tables; run the run_impression_expectation_suites node again"
    return ContractFailure(dataset, WHOLE_TABLE, "expectation suite", 1, (), verdict=verdict)


def _as_failure(dataset: str, expectation: dict[str, Any]) -> ContractFailure:
    evidence = [f"observed: {expectation['observed']}"] if expectation["observed"] is not None else []
    evidence += [f"unexpected value: {value!r}" for value in expectation["unexpected_examples"]]
    if expectation["error"]:
        evidence.append(f"error: {expectation['error']}")
    return ContractFailure(
        dataset=dataset,
        column=expectation["column"],
        check=f"{expectation['expectation']}({format_bounds(expectation)})",
        failure_count=expectation["unexpected_count"] or 1,
        examples=tuple(evidence),
    )
