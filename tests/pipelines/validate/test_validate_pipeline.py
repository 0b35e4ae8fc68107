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
