"""The validate pipeline on an in-memory catalog: good data flows through, bad data stops the run
before any validated table is saved, while the expectation report is still written."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner
from kedro.validation import ParameterValidator

from adrank_pipelines.pipelines.validate.pipeline import RAW_TABLES, create_pipeline
from adrank_pipelines.schemas.failures import DataContractError
from adrank_pipelines.schemas.settings import ContractReportSettings, ImpressionSuiteThresholds
from tests.schemas.contract_world import TINY_WORLD_THRESHOLDS, WINDOW, make_world

VALIDATED = [f"validated_{table}" for table in RAW_TABLES]
REPORTS = ["impression_suite_summary", "impression_suite_data_docs", "ground_truth_contract_summary"]


def _catalog(world: dict[str, pd.DataFrame]) -> DataCatalog:
    parameters = {
        "params:marketplace.start_date": WINDOW.start.date().isoformat(),
        "params:marketplace.n_days": WINDOW.n_days,
        "params:marketplace.drift.enabled": False,
        "params:marketplace.drift.n_days": 1,
        # Kedro turns these into the typed models before a run; the runner alone does not.
        "params:validate.impression_suite": TINY_WORLD_THRESHOLDS,
        "params:validate.report": ContractReportSettings(max_offending_rows=5),
    }
    inputs = {name: MemoryDataset(value) for name, value in {**world, **parameters}.items()}
    outputs = {name: MemoryDataset() for name in [*VALIDATED, *REPORTS]}
    return DataCatalog(datasets={**inputs, **outputs})


def test_valid_world_produces_every_validated_table() -> None:
    world = make_world()
    catalog = _catalog(world)
    SequentialRunner().run(create_pipeline(), catalog)
    for table in RAW_TABLES:
        pd.testing.assert_frame_equal(catalog.load(f"validated_{table}"), world[table])
    assert "index.html" in catalog.load("impression_suite_data_docs")
    assert catalog.load("ground_truth_contract_summary")["truth_users"] == {"rows": 4}


def negative_bid(world: dict[str, pd.DataFrame]) -> None:
    world["ads"].loc[2, "bid"] = -1.5


def missing_click_column(world: dict[str, pd.DataFrame]) -> None:
    world["impressions"] = world["impressions"].drop(columns="click")


@pytest.mark.parametrize(
    ("corrupt", "reported"),
    [
        (negative_bid, r"dataset 'ads', column 'bid', check 'greater_than\(0\)'"),
        (missing_click_column, r"dataset 'impressions', column 'click', check 'column_in_dataframe'"),
    ],
    ids=["negative_bid", "missing_click_column"],
)
def test_corrupted_table_stops_the_run_before_any_validated_table_is_saved(
    corrupt: Callable[[dict[str, pd.DataFrame]], None], reported: str
) -> None:
    world = make_world()
    corrupt(world)
    catalog = _catalog(world)
    with pytest.raises(DataContractError, match=reported):
        SequentialRunner().run(create_pipeline(), catalog)
    assert not any(catalog.exists(name) for name in VALIDATED)
    # The expectation report is written first, so a person can read it after the failure.
    assert catalog.exists("impression_suite_data_docs")


def duplicate_impression_id(world: dict[str, pd.DataFrame]) -> None:
    world["impressions"].loc[5, "impression_id"] = world["impressions"].loc[4, "impression_id"]


def empty_ads(world: dict[str, pd.DataFrame]) -> None:
    world["ads"] = world["ads"].iloc[:0]


def text_bids(world: dict[str, pd.DataFrame]) -> None:
    world["ads"]["bid"] = world["ads"]["bid"].astype(str)


def nan_click(world: dict[str, pd.DataFrame]) -> None:
    world["impressions"]["click"] = world["impressions"]["click"].astype(np.float64)
    world["impressions"].loc[7, "click"] = np.nan


# Each corruption, the failure that must come first, and what it once came with or behind.
FIRST_CAUSE = [
    (
        duplicate_impression_id,
        "dataset 'impressions', column 'impression_id', check 'field_uniqueness': 2 failure case(s)",
        ["truth_impressions"],
    ),
    (
        empty_ads,
        "dataset 'ads', column '(whole table)', check 'has_at_least_one_row': dataset 'ads' is empty (0 rows)",
        ["truth_ads", "exists in ads.ad_id"],
    ),
    (
        text_bids,
        "dataset 'ads', column 'bid', check 'dtype('float64')': wrong dtype: expected float64, got str",
        ["TypeError", "greater_than(0)", "failure case"],
    ),
    (
        nan_click,
        "dataset 'impressions', column 'click', check 'not_nullable': 1 failure case(s)",
        ["check 'conversion_at_most_click'", "expect_column_values_to_not_be_null"],
    ),
]


@pytest.mark.parametrize(("corrupt", "first", "spurious"), FIRST_CAUSE, ids=[case[0].__name__ for case in FIRST_CAUSE])
def test_the_first_failure_names_the_real_cause(
    corrupt: Callable[[dict[str, pd.DataFrame]], None], first: str, spurious: list[str]
) -> None:
    world = make_world()
    corrupt(world)
    catalog = _catalog(world)
    with pytest.raises(DataContractError) as raised:
        SequentialRunner().run(create_pipeline(), catalog)
    message = str(raised.value)
    assert message.splitlines()[1].startswith(f"  [1] {first}"), message
    reported = message.split("  skipped:")[0]
    assert not [text for text in spurious if text in reported], message
    broken = raised.value.failures[0].dataset
    assert f"  skipped: {broken} failed its own contract; not run:" in message
    assert not any(catalog.exists(name) for name in VALIDATED)


def test_failed_expectation_alone_stops_the_run() -> None:
    world = make_world()
    world["impressions"]["click"] = np.int8(1)
    world["impressions"]["conversion"] = np.int8(0)
    catalog = _catalog(world)
    with pytest.raises(DataContractError, match=r"column 'click', check 'expect_column_mean_to_be_between"):
        SequentialRunner().run(create_pipeline(), catalog)
    assert not any(catalog.exists(name) for name in VALIDATED)


def test_kedro_types_the_validate_parameters() -> None:
    raw = {"validate": {"impression_suite": TINY_WORLD_THRESHOLDS.model_dump(), "report": {"max_offending_rows": 5}}}
    typed = ParameterValidator({"validate": create_pipeline()}).validate_raw_params(raw)
    assert isinstance(typed["validate"]["impression_suite"], ImpressionSuiteThresholds)
    assert isinstance(typed["validate"]["report"], ContractReportSettings)


def test_out_of_range_parameter_fails_naming_it() -> None:
    raw = {"validate": {"impression_suite": TINY_WORLD_THRESHOLDS.model_dump(), "report": {"max_offending_rows": 0}}}
    with pytest.raises(Exception, match=r"validate\.report"):
        ParameterValidator({"validate": create_pipeline()}).validate_raw_params(raw)
