"""The raw-table contracts: the tiny world passes, each kind of bad data is reported with its
dataset, column, check and an offending value, and the first failure names the real cause."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.schemas.contract_model import WHOLE_TABLE
from adrank_pipelines.schemas.failures import ContractOutcome, DataContractError, raise_if_failed
from adrank_pipelines.schemas.raw_contracts import raw_table_failures, raw_table_outcome
from tests.schemas.contract_world import WINDOW

Tables = dict[str, pd.DataFrame]


def enforce(world: Tables) -> None:
    raise_if_failed(raw_table_outcome(world, WINDOW, max_examples=5))


def outcome_of(world: Tables) -> ContractOutcome:
    return raw_table_outcome(world, WINDOW, max_examples=5)


def skipped_checks(outcome: ContractOutcome) -> dict[str, tuple[str, ...]]:
    return {skip.check: skip.failed_tables for skip in outcome.skipped}


def assert_reported(error: DataContractError, dataset: str, column: str, check: str, value: str) -> None:
    message = str(error)
    matching = [f for f in error.failures if (f.dataset, f.column) == (dataset, column) and check in f.check]
    assert matching, message
    assert f"dataset '{dataset}', column '{column}', check '" in message
    assert check in message
    assert any(value in failure.render() for failure in matching), message


def _first_row(frame: pd.DataFrame, where: pd.Series) -> int:
    return int(frame.index[where][0])


def drop_click(world: Tables) -> None:
    world["impressions"] = world["impressions"].drop(columns="click")


def float_user_ids(world: Tables) -> None:
    world["users"]["user_id"] = world["users"]["user_id"].astype(np.float64)


def string_bids(world: Tables) -> None:
    world["ads"]["bid"] = world["ads"]["bid"].astype(str)


def negative_bid(world: Tables) -> None:
    world["ads"].loc[2, "bid"] = -1.5


def duplicate_advertiser_id(world: Tables) -> None:
    world["advertisers"].loc[1, "advertiser_id"] = 1


def dangling_ad(world: Tables) -> None:
    world["impressions"].loc[5, "ad_id"] = 999


def dangling_advertiser(world: Tables) -> None:
    world["ads"].loc[0, "advertiser_id"] = 77


def dangling_request(world: Tables) -> None:
    world["impressions"].loc[0, "request_id"] = 4242


def dangling_request_user(world: Tables) -> None:
    world["requests"].loc[0, "user_id"] = 55


def empty_advertisers(world: Tables) -> None:
    world["advertisers"] = world["advertisers"].iloc[:0]


def nan_click(world: Tables) -> None:
    impressions = world["impressions"]
    impressions["click"] = impressions["click"].astype(np.float64)
    impressions.loc[7, "click"] = np.nan


def conversion_without_click(world: Tables) -> None:
    impressions = world["impressions"]
    impressions.loc[_first_row(impressions, impressions["click"] == 0), "conversion"] = np.int8(1)


def impression_user_differs_from_request(world: Tables) -> None:
    impressions = world["impressions"]
    impressions.loc[0, "user_id"] = impressions.loc[0, "user_id"] % 4 + 1


def ad_shown_before_first_day(world: Tables) -> None:
    impressions = world["impressions"]
    impressions.loc[_first_row(impressions, impressions["day"] == 0), "ad_id"] = 4


def position_beyond_slots(world: Tables) -> None:
    impressions = world["impressions"]
    impressions.loc[_first_row(impressions, impressions["placement"] == "sidebar"), "position"] = 3


def zero_position(world: Tables) -> None:
    world["impressions"].loc[3, "position"] = 0


def hour_out_of_range(world: Tables) -> None:
    world["requests"].loc[2, "hour"] = 24


def hour_not_of_event_time(world: Tables) -> None:
    requests = world["requests"]
    requests.loc[1, "hour"] = (requests.loc[1, "hour"] + 1) % 24


def event_after_window(world: Tables) -> None:
    world["requests"].loc[0, "event_time"] += pd.Timedelta(days=30)


def day_not_of_event_time(world: Tables) -> None:
    world["requests"].loc[0, "day"] = 1


def unknown_placement(world: Tables) -> None:
    world["requests"].loc[4, "placement"] = "popup"


def empty_title(world: Tables) -> None:
    world["ads"].loc[1, "title"] = ""


def view_by_unknown_user(world: Tables) -> None:
    world["user_events"].loc[2, "user_id"] = 404


def view_after_the_log_ends(world: Tables) -> None:
    world["user_events"].loc[1, "event_time"] += pd.Timedelta(days=5)


BAD_DATA: list[tuple[Callable[[Tables], None], str, str, str, str]] = [
    (drop_click, "impressions", "click", "column_in_dataframe", "columns present"),
    (float_user_ids, "users", "user_id", "dtype('int64')", "expected int64, got float64"),
    (string_bids, "ads", "bid", "dtype('float64')", "wrong dtype: expected float64, got str"),
    (negative_bid, "ads", "bid", "greater_than(0)", "'bid': -1.5"),
    (duplicate_advertiser_id, "advertisers", "advertiser_id", "field_uniqueness", "row 1: {'advertiser_id': 1"),
    (dangling_ad, "impressions", "ad_id", "foreign key: every ad_id exists in ads.ad_id", "'ad_id': 999"),
    (dangling_advertiser, "ads", "advertiser_id", "exists in advertisers.advertiser_id", "'advertiser_id': 77"),
    (dangling_request, "impressions", "request_id", "exists in requests.request_id", "'request_id': 4242"),
    (dangling_request_user, "requests", "user_id", "exists in users.user_id", "'user_id': 55"),
    (empty_advertisers, "advertisers", "(whole table)", "has_at_least_one_row", "dataset 'advertisers' is empty"),
    (nan_click, "impressions", "click", "not_nullable", "'click': nan"),
    (conversion_without_click, "impressions", "conversion", "conversion_at_most_click", "'conversion': 1"),
    (impression_user_differs_from_request, "impressions", "user_id", "equals the user_id of its request", "row 0:"),
    (ad_shown_before_first_day, "impressions", "day", "first_day of its ad", "'ad_id': 4"),
    (position_beyond_slots, "impressions", "position", "position <= n_slots", "'position': 3"),
    (zero_position, "impressions", "position", "greater_than_or_equal_to(1)", "'position': 0"),
    (hour_out_of_range, "requests", "hour", "in_range(0, 23)", "'hour': 24"),
    (hour_not_of_event_time, "requests", "hour", "hour_equals_hour_of_event_time", "row 1:"),
    (event_after_window, "requests", "event_time", "event_time in [2026-01-05 00:00:00, 2026-01-07", "2026-02-04"),
    (day_not_of_event_time, "requests", "day", "whole days from", "'day': 1"),
    (unknown_placement, "requests", "placement", "isin(", "'popup'"),
    (empty_title, "ads", "title", "str_length(1, None)", "'title': ''"),
    (view_by_unknown_user, "user_events", "user_id", "exists in users.user_id", "'user_id': 404"),
    (view_after_the_log_ends, "user_events", "event_time", "event_time < 2026-01-07", "row 1:"),
]


def test_tiny_world_keeps_every_contract(world: Tables) -> None:
    assert raw_table_failures(world, WINDOW, max_examples=5) == []


@pytest.mark.parametrize(
    ("corrupt", "dataset", "column", "check", "value"), BAD_DATA, ids=[case[0].__name__ for case in BAD_DATA]
)
def test_bad_data_is_reported_with_dataset_column_check_and_value(
    world: Tables, corrupt: Callable[[Tables], None], dataset: str, column: str, check: str, value: str
) -> None:
    corrupt(world)
    with pytest.raises(DataContractError) as raised:
        enforce(world)
    assert_reported(raised.value, dataset, column, check, value)


def test_all_failures_of_a_delivery_come_in_one_error(world: Tables) -> None:
    negative_bid(world)
    dangling_request_user(world)
    nan_click(world)
    with pytest.raises(DataContractError) as raised:
        enforce(world)
    reported = {(failure.dataset, failure.column) for failure in raised.value.failures}
    assert {("ads", "bid"), ("requests", "user_id"), ("impressions", "click")} <= reported
    assert "nothing downstream was written" in str(raised.value)


def test_offending_rows_are_capped(world: Tables) -> None:
    world["ads"]["bid"] = -world["ads"]["bid"]
    (failure,) = raw_table_failures(world, WINDOW, max_examples=2)
    assert failure.failure_count == 4
    assert len(failure.examples) == 2


def test_cross_table_rules_skip_a_structurally_broken_table(world: Tables) -> None:
    """A missing column is reported once, not as a crash of the rules that join on it."""
    world["impressions"] = world["impressions"].drop(columns=["request_id", "day"])
    failures = raw_table_failures(world, WINDOW, max_examples=5)
    assert {failure.column for failure in failures if failure.dataset == "impressions"} >= {"request_id", "day"}
    assert all(failure.dataset == "impressions" for failure in failures)


def test_a_cross_table_rule_over_a_broken_table_is_skipped_and_named(world: Tables) -> None:
    """The dangling ad of an impression is not judged against an ads table that broke its own contract."""
    negative_bid(world)
    dangling_ad(world)
    with pytest.raises(DataContractError) as raised:
        enforce(world)
    assert [(f.dataset, f.column, f.check) for f in raised.value.failures] == [("ads", "bid", "greater_than(0)")]
    assert "  skipped: ads failed its own contract; not run:" in str(raised.value)
    assert "impressions.ad_id foreign key to ads.ad_id" in str(raised.value)


def test_duplicate_impression_id_is_reported_as_impressions_uniqueness(world: Tables) -> None:
    world["impressions"].loc[5, "impression_id"] = world["impressions"].loc[4, "impression_id"]
    outcome = outcome_of(world)
    first = outcome.failures[0]
    assert (first.dataset, first.column, first.check) == ("impressions", "impression_id", "field_uniqueness")
    assert first.examples == (
        "row 4: {'impression_id': 5, 'request_id': 2, 'ad_id': 2, 'user_id': 3}",
        "row 5: {'impression_id': 5, 'request_id': 2, 'ad_id': 3, 'user_id': 3}",
    )
    assert len(outcome.failures) == 1
    assert outcome.broken_tables == {"impressions"}


def test_empty_ads_is_reported_as_empty_not_as_dangling_ad_ids(world: Tables) -> None:
    world["ads"] = world["ads"].iloc[:0]
    with pytest.raises(DataContractError) as raised:
        enforce(world)
    (failure,) = raised.value.failures
    assert (failure.dataset, failure.column, failure.check) == ("ads", WHOLE_TABLE, "has_at_least_one_row")
    assert failure.render() == (
        "dataset 'ads', column '(whole table)', check 'has_at_least_one_row': dataset 'ads' is empty (0 rows)"
    )
    skipped = skipped_checks(outcome_of(world))
    assert skipped["impressions.ad_id foreign key to ads.ad_id"] == ("ads",)
    assert skipped["impressions.day >= ads.first_day"] == ("ads",)
    assert "foreign key" not in str(raised.value).split("skipped:")[0]


def test_text_bids_are_one_wrong_dtype_failure(world: Tables) -> None:
    string_bids(world)
    with pytest.raises(DataContractError) as raised:
        enforce(world)
    (failure,) = raised.value.failures
    assert (failure.dataset, failure.column, failure.check) == ("ads", "bid", "dtype('float64')")
    assert (
        failure.render()
        == "dataset 'ads', column 'bid', check 'dtype('float64')': wrong dtype: expected float64, got str"
    )
    assert "TypeError" not in str(raised.value)
    assert "failure case" not in str(raised.value)


def test_one_text_among_float_bids_names_its_row(world: Tables) -> None:
    world["ads"]["bid"] = world["ads"]["bid"].astype(object)
    world["ads"].loc[2, "bid"] = "cheap"
    (failure,) = outcome_of(world).failures
    assert failure.render() == (
        "dataset 'ads', column 'bid', check 'dtype('float64')': wrong dtype: expected float64, got object; "
        "1 failure case(s), first 1:\n      row 2: {'ad_id': 3, 'advertiser_id': 2, 'bid': 'cheap'}"
    )


def test_nan_click_is_a_null_click_and_nothing_derived(world: Tables) -> None:
    nan_click(world)
    outcome = outcome_of(world)
    checks = [(failure.dataset, failure.column, failure.check) for failure in outcome.failures]
    assert checks == [("impressions", "click", "not_nullable"), ("impressions", "click", "dtype('int8')")]
    assert outcome.failures[0].examples == (
        "row 7: {'impression_id': 8, 'request_id': 3, 'ad_id': 3, 'user_id': 4, 'click': nan}",
    )
    assert outcome.failures[1].verdict == (
        "wrong dtype: expected int8, got float64 (the nulls turn an integer column to float)"
    )
    assert outcome.failures[1].examples == ()
    assert skipped_checks(outcome)["impressions check 'conversion_at_most_click'"] == ("impressions",)


def test_a_value_check_on_a_mistyped_column_is_not_reported(world: Tables) -> None:
    """Comparing text with a number fails on every row or crashes: the dtype is the one cause."""
    world["impressions"]["position"] = world["impressions"]["position"].astype(str)
    failures = raw_table_failures(world, WINDOW, max_examples=5)
    assert [(failure.column, failure.check) for failure in failures] == [("position", "dtype('int64')")]


def test_table_wide_rules_run_once_every_column_keeps_its_contract(world: Tables) -> None:
    conversion_without_click(world)
    zero_position(world)
    checks = {failure.check for failure in raw_table_failures(world, WINDOW, max_examples=5)}
    assert checks == {"greater_than_or_equal_to(1)"}
    world["impressions"].loc[3, "position"] = 1
    checks = {failure.check for failure in raw_table_failures(world, WINDOW, max_examples=5)}
    assert "conversion_at_most_click" in checks
