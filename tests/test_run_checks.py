"""Start-up checks name the bad input and the closest valid one; a failed run is reported in a few lines."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest
from kedro.pipeline import Pipeline, node
from kedro.validation import ParameterValidationError

from adrank_pipelines.cli import failure_report
from adrank_pipelines.marketplace import MarketplaceConfig
from adrank_pipelines.mlflow_store import sqlite_store_path, store_lock
from adrank_pipelines.pipeline_registry import pipeline_names
from adrank_pipelines.run_checks import (
    InvalidParameterError,
    UnknownEnvironmentError,
    UnknownPipelineError,
    check_environment,
    check_parameters,
    check_pipeline_names,
    typed_parameter_problems,
)
from tests.conftest import PROJECT_ROOT, project_parameters


def _simulate(config: MarketplaceConfig) -> int:
    return config.seed


MARKETPLACE_PIPELINE = {"ingest": Pipeline([node(_simulate, "params:marketplace", "seed")])}


def test_an_unknown_environment_is_named_with_the_environments_and_the_closest_one():
    with pytest.raises(UnknownEnvironmentError) as error:
        check_environment(PROJECT_ROOT / "conf", "tset", "base")
    message = str(error.value)
    assert message.startswith("no configuration environment 'tset' in ")
    assert "are avazu, criteo, dask, gpu, local, test" in message
    assert message.endswith("did you mean 'test'?")
    with pytest.raises(UnknownEnvironmentError, match=r"'nosuch'.*are avazu, criteo, dask, gpu, local, test$"):
        check_environment(PROJECT_ROOT / "conf", "nosuch", "base")


def test_existing_environments_and_sources_that_are_not_folders_pass(tmp_path: Path):
    check_environment(PROJECT_ROOT / "conf", "test", "base")
    check_environment(tmp_path / "conf.tar.gz", "nosuch", "base")


def test_an_unknown_pipeline_is_named_with_the_closest_one_and_the_list():
    names = pipeline_names()
    assert {"__default__", "ingest", "features", "ctr"} <= set(names)
    check_pipeline_names(["features", "__default__"], names)
    with pytest.raises(UnknownPipelineError) as error:
        check_pipeline_names(["featurs"], names)
    assert str(error.value).startswith(
        "no pipeline 'featurs'; did you mean 'features'? The pipelines are: __default__,"
    )


def test_a_typed_parameter_breaking_its_rule_is_named_by_its_dotted_key():
    parameters = {"marketplace": project_parameters("test")["marketplace"]}
    assert typed_parameter_problems(parameters, MARKETPLACE_PIPELINE) == []
    parameters["marketplace"]["seed"] = -1
    parameters["marketplace"]["drift"]["n_dayz"] = 2
    with pytest.raises(InvalidParameterError) as error:
        check_parameters(parameters, MARKETPLACE_PIPELINE)
    assert isinstance(error.value, ParameterValidationError)
    assert str(error.value).splitlines() == [
        "2 invalid parameter(s):",
        "  marketplace.seed = -1: Input should be greater than or equal to 0",
        "  marketplace.drift.n_dayz: not a known setting; did you mean 'n_days'?",
    ]


def test_parameters_no_node_asks_for_are_not_checked():
    assert typed_parameter_problems({"marketplace": {"seed": -1}}, {"empty": Pipeline([])}) == []


def test_the_failure_report_gives_the_message_the_node_and_the_causes_in_a_few_lines():
    try:
        try:
            raise FileNotFoundError("data/01_raw/users.parquet")
        except FileNotFoundError as missing:
            raise ValueError("users: Failed while loading data from dataset\ndata/01_raw/users.parquet") from missing
    except ValueError as error:
        error.add_note("in node 'summarise_marketplace'")
        report = failure_report(error, "/tmp/kedro-run-x.traceback.txt").splitlines()
    assert report == [
        "kedro run failed: ValueError: users: Failed while loading data from dataset",
        "data/01_raw/users.parquet",
        "  in node 'summarise_marketplace'",
        "  caused by FileNotFoundError",
        "Full traceback: written to /tmp/kedro-run-x.traceback.txt; rerun with --verbose (or KEDRO_TRACEBACK=1) to print it.",
    ]


def test_a_cause_with_its_own_message_is_shown_on_one_line():
    error = RuntimeError("node failed")
    error.__cause__ = LookupError("no column 'bid'\nin table ads")
    assert failure_report(error, None).splitlines()[1] == "  caused by LookupError: no column 'bid'"


@pytest.mark.parametrize(
    ("uri", "path"),
    [
        ("sqlite:///mlflow.db", Path("mlflow.db")),
        ("sqlite:////tmp/x/mlflow.db?timeout=5", Path("/tmp/x/mlflow.db")),
        ("sqlite:///:memory:", None),
        ("http://localhost:5000", None),
        (None, None),
    ],
)
def test_only_a_sqlite_file_store_is_locked(uri, path):
    assert sqlite_store_path(uri) == path


def test_the_store_lock_excludes_every_other_holder_until_released(tmp_path: Path):
    other = os.open(tmp_path, os.O_RDONLY)
    try:
        with store_lock(tmp_path / "mlflow.db"), pytest.raises(BlockingIOError):
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
    finally:
        os.close(other)
