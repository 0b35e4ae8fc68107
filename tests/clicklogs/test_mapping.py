"""The column mapping: file columns -> the parsed log's names and types, bad values named by line."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from adrank_pipelines.clicklogs.config import ColumnMapping
from adrank_pipelines.clicklogs.mapping import click_events
from adrank_pipelines.clicklogs.reader import FileLayout, read_click_log
from adrank_pipelines.clicklogs.synthetic import avazu_like, criteo_like
from tests.clicklogs.environments import column_mapping, file_layout


def _read(tmp_path: Path, text: str, integer_columns: list[str]) -> pd.DataFrame:
    path = tmp_path / "log.csv"
    path.write_text(text)
    return read_click_log(path, FileLayout(integer_columns=integer_columns))


def test_avazu_rows_get_line_ids_parsed_hours_labels_and_text_categories(tmp_path: Path):
    log = avazu_like(200, seed=5)
    raw = read_click_log(log.write(tmp_path / "avazu.csv"), file_layout("avazu"))
    mapping = column_mapping("avazu")
    events = click_events(raw, mapping)

    assert list(events.columns) == ["impression_id", "event_time", "click", *mapping.categorical]
    assert events["impression_id"].tolist() == list(range(2, 202))
    assert events["click"].tolist() == log.frame["click"].tolist()
    assert events["event_time"].iloc[0] == pd.Timestamp("2014-10-21 00:00")
    hours = pd.to_datetime(log.frame["hour"].astype(str), format="%y%m%d%H")
    assert (events["event_time"].to_numpy() == hours.to_numpy()).all()
    banner = events["banner_pos"]
    assert isinstance(banner.dtype, pd.CategoricalDtype)
    # Integer-coded categories become text, in numeric order.
    assert banner.cat.categories.tolist() == sorted(banner.cat.categories, key=int)
    assert banner.astype(str).tolist() == log.frame["banner_pos"].astype(str).tolist()


def test_criteo_numeric_fields_are_floats_with_missing_values_kept(tmp_path: Path):
    log = criteo_like(200, seed=5)
    raw = read_click_log(log.write(tmp_path / "c.txt"), file_layout("criteo"))
    events = click_events(raw, column_mapping("criteo"))
    assert "event_time" not in events.columns
    assert events["I2"].dtype == np.float64
    assert np.isnan(events["I1"]).sum() == log.frame["I1"].isna().sum() > 0
    assert events["click"].tolist() == log.frame["label"].tolist()


def test_a_time_that_does_not_parse_names_the_parameter_column_and_line(tmp_path: Path):
    raw = _read(tmp_path, "click,hour,site\n0,14102100,a\n1,14109999,b\n", ["click", "hour"])
    mapping = ColumnMapping(label="click", time={"column": "hour", "format": "%y%m%d%H"}, categorical=["site"])
    with pytest.raises(
        ValueError,
        match=r"log\.csv, line 3: column 'hour' has no time in format '%y%m%d%H', got '14109999' \(clicklog_columns.time\)",
    ):
        click_events(raw, mapping)


def test_epoch_times_are_read_in_their_unit(tmp_path: Path):
    raw = _read(tmp_path, "click,ts,site\n0,1700000000,a\n1,1700003600,b\n", ["click", "ts"])
    mapping = ColumnMapping(label="click", time={"column": "ts", "epoch_unit": "s"}, categorical=["site"])
    events = click_events(raw, mapping)
    assert events["event_time"].tolist() == [pd.Timestamp(1700000000, unit="s"), pd.Timestamp(1700003600, unit="s")]


def test_an_empty_label_and_a_non_numeric_feature_are_named_by_line(tmp_path: Path):
    raw = _read(tmp_path, "click,price,site\n0,1.5,a\n,2.0,b\n1,cheap,c\n", ["click"])
    with pytest.raises(
        ValueError, match=r"line 3: column 'click' must be 0 or 1, got an empty field \(clicklog_columns.label\)"
    ):
        click_events(raw, ColumnMapping(label="click", categorical=["site"]))
    complete = raw.dropna(subset=["click"])
    with pytest.raises(
        ValueError, match=r"log\.csv, line 4: column 'price' is not numeric, got 'cheap' \(clicklog_columns.numeric\)"
    ):
        click_events(complete, ColumnMapping(label="click", categorical=["site"], numeric=["price"]))


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz"])
def test_a_label_other_than_0_or_1_stops_the_parse_naming_file_line_and_value(tmp_path: Path, suffix: str):
    lines = ["click,site", "0,a", "1,b", "2,c", "0,d"]  # the header is line 1, so the 2 is on line 4
    path = tmp_path / f"log{suffix}"
    text = "".join(f"{line}\n" for line in lines).encode()
    path.write_bytes(gzip.compress(text) if suffix == ".csv.gz" else text)
    raw = read_click_log(path, FileLayout(integer_columns=["click"]))
    with pytest.raises(ValueError) as error:
        click_events(raw, ColumnMapping(label="click", categorical=["site"]))
    assert str(error.value) == f"{path}, line 4: column 'click' must be 0 or 1, got 2 (clicklog_columns.label)"


def test_every_label_that_is_not_0_or_1_counts_and_none_is_cast_away(tmp_path: Path):
    # A text label column: 0.5 must not become 0 by a cast, nor -1 pass as a class.
    raw = _read(tmp_path, "click,site\n1,a\n0.5,b\n0,c\n-1,d\n1.0,e\n", [])
    with pytest.raises(
        ValueError,
        match=r"line 3: column 'click' must be 0 or 1, got 0\.5 .*2 lines in all, first line 3: 0\.5, line 5: -1\)",
    ):
        click_events(raw, ColumnMapping(label="click", categorical=["site"]))
    events = click_events(raw.drop(index=[3, 5]), ColumnMapping(label="click", categorical=["site"]))
    assert events["click"].tolist() == [1, 0, 1]


def test_a_mapped_column_the_file_lacks_is_named_with_the_columns_it_has(tmp_path: Path):
    raw = _read(tmp_path, "click,site\n0,a\n1,b\n", ["click"])
    with pytest.raises(
        ValueError, match=r"clicklog_columns names \['device'\], which .*log\.csv lacks.*\['click', 'site'\]"
    ):
        click_events(raw, ColumnMapping(label="click", categorical=["site", "device"]))


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"label": "click"}, "at least one categorical or numeric column"),
        ({"label": "click", "categorical": ["a"], "numeric": ["a"]}, r"names \['a'\] more than once"),
        ({"label": "y", "categorical": ["split"]}, "names the parsed log keeps for itself"),
        ({"label": "y", "categorical": ["a"], "time": {"column": "t", "format": "%Y", "epoch_unit": "s"}}, "not both"),
        ({"label": "y", "categorical": ["a"], "numerics": ["b"]}, "numerics"),
    ],
)
def test_a_bad_mapping_fails_naming_the_problem(mapping: dict, message: str):
    with pytest.raises(ValidationError, match=message):
        ColumnMapping.model_validate(mapping)
