"""conf/avazu and conf/criteo describe the public formats and pass their own typed checks."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError

from adrank_pipelines.clicklogs.config import ClickLogFeatureParams, RandomSplit, TimeSplit, check_feature_columns
from adrank_pipelines.clicklogs.mapping import click_events
from adrank_pipelines.clicklogs.reader import read_click_log
from adrank_pipelines.clicklogs.splits import split_click_events
from adrank_pipelines.clicklogs.synthetic import AVAZU_COLUMNS, CRITEO_COLUMNS, avazu_like
from adrank_pipelines.models.config import TorchCtrParams
from adrank_pipelines.models.zoo import model_params
from tests.clicklogs.environments import (
    ENVIRONMENTS,
    clicklog_file_entry,
    column_mapping,
    feature_params,
    file_layout,
    parameters_with_cli_params,
)
from tests.conftest import project_parameters

# The header of Avazu's train file, and the documented field order of Criteo's (it has no header).
FORMAT_COLUMNS = {"avazu": AVAZU_COLUMNS, "criteo": CRITEO_COLUMNS}


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_the_layout_names_the_public_format_columns_and_the_mapping_reads_all_but_the_row_id(env: str):
    layout, mapping = file_layout(env), column_mapping(env)
    assert tuple(layout.column_names) == FORMAT_COLUMNS[env]
    skipped = set(clicklog_file_entry(env).get("skip_columns", []))
    assert set(mapping.source_columns) | skipped == set(FORMAT_COLUMNS[env])
    # Every mapped numeric column is read as integers, so a non-number stops the read with its line.
    assert set(mapping.numeric) <= set(layout.integer_columns)


def test_avazu_reads_time_from_its_hour_column_and_criteo_has_none():
    assert column_mapping("avazu").time.column == "hour"
    assert column_mapping("avazu").time.format == "%y%m%d%H"
    assert feature_params("avazu").splits.method == "time"
    assert column_mapping("criteo").time is None
    assert feature_params("criteo").splits.method == "random"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_parameter_of_the_environment_validates(env: str):
    check_feature_columns(column_mapping(env), feature_params(env))
    parameters = project_parameters(env)
    models = parameters["clicklog_training"]["models"]
    typed = {name: model_params(name, parameters["ctr_models"].get(name)) for name in models}
    torch_models = [params for params in typed.values() if isinstance(params, TorchCtrParams)]
    assert torch_models, f"{env}: no torch model among {models}"
    for params in torch_models:
        assert params.training.conversion_loss_weight == 0.0, "click logs carry no conversions"


def test_the_input_path_comes_from_a_runtime_parameter_with_a_default_under_data():
    assert clicklog_file_entry("avazu")["filepath"] == "data/01_raw/avazu/train.gz"
    assert clicklog_file_entry("criteo")["filepath"] == "data/01_raw/criteo/train.txt"
    assert clicklog_file_entry("avazu")["max_rows"] is None


def test_the_advice_of_a_too_short_avazu_log_can_be_followed_from_the_command_line(tmp_path: Path):
    # Two days cannot give one each to train, valid and test.
    path = avazu_like(300, seed=1, n_days=2).write(tmp_path / "train.gz")
    events = click_events(read_click_log(path, file_layout("avazu"), skip_columns=["id"]), column_mapping("avazu"))
    with pytest.raises(ValueError, match="spans 2") as error:
        split_click_events(events, feature_params("avazu").splits)
    advice = re.search(r"--params (\S+)", str(error.value))
    assert advice is not None, str(error.value)

    # The environment's valid_days / test_days stay merged in; the random split ignores them.
    parameters = parameters_with_cli_params("avazu", advice[1])
    assert parameters["clicklog_features"]["splits"]["valid_days"] == 1
    features = ClickLogFeatureParams.model_validate(parameters["clicklog_features"])
    assert features.splits == RandomSplit(method="random")
    check_feature_columns(column_mapping("avazu"), features)
    split = split_click_events(events, features.splits)
    assert set(split["split"]) == {"train", "valid", "test"}


def test_switching_the_split_method_drops_only_the_other_method_s_keys():
    features = feature_params("avazu").model_dump()
    to_time = {**features, "splits": {"method": "time", "valid_days": 2, "valid_fraction": 0.2, "seed": 1}}
    assert ClickLogFeatureParams.model_validate(to_time).splits == TimeSplit(method="time", valid_days=2)
    misspelt = {**features, "splits": {"method": "random", "valid_fractoin": 0.2}}
    with pytest.raises(ValidationError, match="valid_fractoin"):
        ClickLogFeatureParams.model_validate(misspelt)
    with pytest.raises(ValidationError, match="splits"):
        ClickLogFeatureParams.model_validate({**features, "splits": {"method": "hourly", "valid_days": 1}})
