"""How contract failures are collected and rendered."""

from __future__ import annotations

import pandas as pd
import pytest

from adrank_pipelines.schemas.failures import (
    ContractFailure,
    DataContractError,
    SkippedCheck,
    failure_from_mask,
    raise_if_any,
)


def test_offending_rows_keep_their_column_types_and_name_the_row() -> None:
    frame = pd.DataFrame({"ad_id": [7, 8], "bid": [0.5, -2.0], "title": ["a", "b"]}, index=[10, 11])
    (failure,) = failure_from_mask("ads", frame, "bid", "greater_than(0)", frame["bid"] <= 0, max_examples=5)
    assert failure.examples == ("row 11: {'ad_id': 8, 'bid': -2.0}",)
    assert failure.failure_count == 1


def test_no_offending_row_is_no_failure() -> None:
    frame = pd.DataFrame({"ad_id": [7]})
    assert failure_from_mask("ads", frame, "ad_id", "any", frame["ad_id"] < 0, max_examples=5) == []


def test_error_lists_every_failure_with_dataset_column_check_and_rows() -> None:
    failures = [
        ContractFailure("ads", "bid", "greater_than(0)", 1, ("row 2: {'ad_id': 3, 'bid': -1.0}",)),
        ContractFailure("users", "user_id", "dtype('int64')", 1, ("observed: 'float64'",)),
    ]
    with pytest.raises(DataContractError) as raised:
        raise_if_any(failures)
    message = str(raised.value)
    assert message.startswith("2 data contract check(s) failed in ['ads', 'users']")
    assert "[1] dataset 'ads', column 'bid', check 'greater_than(0)': 1 failure case(s), first 1:" in message
    assert "row 2: {'ad_id': 3, 'bid': -1.0}" in message
    assert raised.value.failures == tuple(failures)


def test_nothing_to_raise_without_failures() -> None:
    raise_if_any([])


def test_a_verdict_replaces_the_case_count_of_a_whole_column_or_table() -> None:
    empty = ContractFailure("ads", "(whole table)", "has_at_least_one_row", 1, (), verdict="dataset 'ads' is empty")
    assert (
        empty.render() == "dataset 'ads', column '(whole table)', check 'has_at_least_one_row': dataset 'ads' is empty"
    )
    text = ContractFailure("ads", "bid", "dtype('float64')", 1, ("row 2: {'bid': 'x'}",), verdict="wrong dtype")
    assert text.render() == (
        "dataset 'ads', column 'bid', check 'dtype('float64')': wrong dtype; 1 failure case(s), first 1:\n"
        "      row 2: {'bid': 'x'}"
    )


def test_skipped_checks_follow_the_failures_grouped_by_the_tables_that_failed() -> None:
    failures = [ContractFailure("ads", "bid", "greater_than(0)", 1, ())]
    skipped = [
        SkippedCheck("impressions.ad_id foreign key to ads.ad_id", ("ads",)),
        SkippedCheck("impressions.day >= ads.first_day", ("ads",)),
        SkippedCheck("impressions.day >= ads.first_day", ("ads",)),
        SkippedCheck("truth_ads.ad_id matches ads.ad_id", ("truth_ads", "ads")),
    ]
    message = str(DataContractError(failures, skipped))
    assert message.splitlines()[2:] == [
        "  skipped: ads failed its own contract; not run:",
        "      impressions.ad_id foreign key to ads.ad_id; impressions.day >= ads.first_day",
        "  skipped: truth_ads and ads failed their own contract; not run:",
        "      truth_ads.ad_id matches ads.ad_id",
    ]


def test_skipped_checks_alone_raise_nothing() -> None:
    raise_if_any([], [SkippedCheck("impressions.ad_id foreign key to ads.ad_id", ("ads",))])
