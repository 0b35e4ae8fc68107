"""The parsed log's contract: the core every log holds, plus the types of the mapped columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pandera.pandas as pandera
import pytest

from adrank_pipelines.clicklogs.config import ColumnMapping
from adrank_pipelines.clicklogs.contract import ClickLogCoreSchema, click_log_failures

MAPPING = ColumnMapping(
    label="click", time={"column": "hour", "format": "%y%m%d%H"}, categorical=["site-id"], numeric=["I1"]
)


def _events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "impression_id": np.array([2, 3, 4, 5], dtype=np.int64),
            "event_time": pd.to_datetime(
                ["2014-10-21 00:00", "2014-10-21 01:00", "2014-10-21 01:00", "2014-10-22 00:00"]
            ),
            "click": np.array([0, 1, 0, 0], dtype=np.int64),
            "site-id": pd.Categorical(["a", None, "b", "a"]),
            "I1": [1.0, np.nan, 3.0, 4.0],
        }
    )


def _failures(events: pd.DataFrame) -> dict[tuple[str, str], list[str]]:
    return {(f.column, f.check): list(f.examples) for f in click_log_failures(events, MAPPING, max_examples=3)}


def test_a_well_formed_log_holds_its_contract_with_missing_values_allowed_in_features():
    assert click_log_failures(_events(), MAPPING, max_examples=3) == []


def test_labels_other_than_0_and_1_are_named_by_the_rows_line_and_reported_once():
    events = _events()
    events.loc[2, "click"] = 2
    failures = _failures(events)
    # "row" is the file's line (impression_id), not the position from zero.
    assert failures == {("click", "isin((0, 1))"): ["row 4: {'impression_id': 4, 'click': 2}"]}


def test_a_log_without_clicks_cannot_train_a_model():
    assert ("click", "click_has_both_classes") in _failures(_events().assign(click=0))


def test_mapped_columns_must_be_there_with_their_types():
    events = _events().drop(columns="event_time")
    events = events.assign(**{"site-id": ["a", "b", "c", "d"], "I1": ["1", "2", "3", "4"]})
    failures = _failures(events)
    assert ("event_time", "column_in_dataframe") in failures
    assert ("site-id", "dtype('category')") in failures
    assert ("I1", "dtype('float64')") in failures


def test_line_ids_are_unique_and_positive():
    events = _events().assign(impression_id=np.array([2, 2, 0, 5], dtype=np.int64))
    checks = {check for column, check in _failures(events) if column == "impression_id"}
    assert checks == {"field_uniqueness", "greater_than_or_equal_to(1)"}


def test_the_core_contract_checks_any_mapping_s_log():
    ClickLogCoreSchema.validate(_events())
    with pytest.raises(Exception, match="click"):
        ClickLogCoreSchema.validate(_events().assign(click=3))
    # Both classes are there: a stray label is isin's to report, not a missing class as well.
    with pytest.raises(pandera.errors.SchemaErrors) as error:
        ClickLogCoreSchema.validate(_events().assign(click=[0, 1, 2, 0]), lazy=True)
    assert set(error.value.failure_cases["check"].astype(str)) == {"isin((0, 1))"}
