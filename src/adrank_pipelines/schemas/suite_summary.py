"""Failed expectations of a Great Expectations summary, as ``ContractFailure`` records.

Reads the JSON summary written by ``impression_suite`` (not GX objects), so the contract check
can join suite failures to its own without importing Great Expectations.
"""

from __future__ import annotations

from typing import Any

from adrank_pipelines.schemas.failures import ContractFailure


def suite_failures(summary: dict[str, Any]) -> list[ContractFailure]:
    return [
        _as_failure(suite["dataset"], expectation)
        for suite in summary["suites"]
        for expectation in suite["expectations"]
        if not expectation["success"]
    ]


def format_bounds(expectation: dict[str, Any]) -> str:
    """The expectation's arguments (bounds, value sets, ``mostly``) as ``key=value, ...``."""
    return ", ".join(f"{key}={value}" for key, value in expectation["kwargs"].items())


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
