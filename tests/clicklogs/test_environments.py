"""conf/avazu and conf/criteo describe the public formats and pass their own typed checks."""

from __future__ import annotations

import pytest

from adrank_pipelines.clicklogs.config import check_feature_columns
from adrank_pipelines.clicklogs.synthetic import AVAZU_COLUMNS, CRITEO_COLUMNS
from adrank_pipelines.models.config import CtrTransformerParams
from adrank_pipelines.models.ranker_config import CtrLightGBMParams
from tests.clicklogs.environments import ENVIRONMENTS, clicklog_file_entry, column_mapping, feature_params, file_layout
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
    transformer = CtrTransformerParams.model_validate(parameters["ctr_transformer"])
    CtrLightGBMParams.model_validate(parameters["ctr_lightgbm"])
    assert transformer.training.conversion_loss_weight == 0.0, "click logs carry no conversions"


def test_the_input_path_comes_from_a_runtime_parameter_with_a_default_under_data():
    assert clicklog_file_entry("avazu")["filepath"] == "data/01_raw/avazu/train.gz"
    assert clicklog_file_entry("criteo")["filepath"] == "data/01_raw/criteo/train.txt"
    assert clicklog_file_entry("avazu")["max_rows"] is None
