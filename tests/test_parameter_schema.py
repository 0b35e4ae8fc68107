"""Every parameter key must be one a node takes, below one, or above one; anything else is named at start-up."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from kedro.pipeline import Pipeline, node
from kedro.validation import TypeExtractor
from pydantic import BaseModel, ConfigDict

from adrank_pipelines.graph_config import graph_keys
from adrank_pipelines.pipeline_registry import all_pipelines
from adrank_pipelines.run_checks import (
    InvalidParameterError,
    check_parameters,
    model_class,
    parameter_schema,
    runtime_parameter_keys,
    unknown_parameter_problems,
)
from tests.conftest import PROJECT_ROOT, project_parameters


class _Objective(BaseModel):
    model_config = ConfigDict(extra="forbid")

    alpha: float = 0.5


def _rank(objective: _Objective, options: dict[str, Any], max_per_request: int) -> int:
    return max_per_request


def _threshold(threshold: float, seed: int) -> float:
    return threshold


def _everything(parameters: dict[str, Any]) -> int:
    return len(parameters)


# ranking.objective typed, ranking.options a free-form dict, ranking.max_per_request untyped; the drift
# namespace qualifies its own `threshold` but not `seed`, which it leaves global.
PIPELINES = {
    "ranking": Pipeline(
        [node(_rank, ["params:ranking.objective", "params:ranking.options", "params:ranking.max_per_request"], "r")]
    ),
    "drift": Pipeline(
        [node(_threshold, ["params:threshold", "params:seed"], "d")], namespace="drift", parameters={"params:seed"}
    ),
}


def _problems(parameters: dict[str, Any]) -> list[str]:
    return unknown_parameter_problems(parameters, parameter_schema(PIPELINES))


def test_the_schema_is_the_tree_of_the_keys_nodes_take_with_namespaces_qualified():
    assert parameter_schema(PIPELINES) == {
        "ranking": {"objective": None, "options": None, "max_per_request": None},
        "drift": {"threshold": None},
        "seed": None,
    }


def test_a_misspelt_top_level_key_is_named_with_the_closest_top_level_name():
    assert _problems({"rankng": {"objective": {"alpha": 0.9}}, "seed": 1}) == [
        "rankng: not a known parameter; did you mean 'ranking'?"
    ]


def test_an_unknown_key_under_an_untyped_ancestor_is_named_in_full_with_its_closest_sibling_or_the_siblings():
    assert _problems({"ranking": {"objectve": {"alpha": 0.9}, "alpah": 0.5}, "drift": {"treshold": 0.1}}) == [
        "ranking.objectve: not a known parameter; did you mean 'ranking.objective'?",
        "ranking.alpah: not a known parameter; the keys under 'ranking' are max_per_request, objective, options",
        "drift.treshold: not a known parameter; did you mean 'drift.threshold'?",
    ]
    assert _problems({"nosuch": 1}) == [
        "nosuch: not a known parameter; the keys at the top level are drift, ranking, seed"
    ]


def test_known_keys_their_ancestors_and_anything_below_a_free_form_key_pass():
    parameters = {
        "ranking": {"objective": {"alpha": 0.9}, "options": {"anything": {"deep": [1, 2]}}, "max_per_request": 5},
        "drift": {"threshold": 0.1},
        "seed": {"even": "a mapping"},
    }
    assert _problems(parameters) == []
    check_parameters(parameters, PIPELINES)


def test_an_empty_tree_and_a_node_taking_all_parameters_pass():
    assert _problems({}) == []
    check_parameters({}, PIPELINES)
    everything = {"all": Pipeline([node(_everything, "parameters", "n")])}
    assert parameter_schema(everything) is None
    assert unknown_parameter_problems({"nosuch": {"key": 1}}, parameter_schema(everything)) == []


def test_a_key_inside_a_typed_block_is_left_to_its_model_and_every_problem_is_raised_at_once():
    parameters = {"ranking": {"objective": {"alpah": 0.9}, "alpah": 0.5}, "sed": 1}
    assert _problems(parameters) == [
        "ranking.alpah: not a known parameter; the keys under 'ranking' are max_per_request, objective, options",
        "sed: not a known parameter; did you mean 'seed'?",
    ]
    with pytest.raises(InvalidParameterError) as error:
        check_parameters(parameters, PIPELINES)
    assert str(error.value).splitlines()[0] == "3 invalid parameter(s):"
    assert str(error.value).splitlines()[-1] == "  ranking.objective.alpah: not a known setting; did you mean 'alpha'?"


def test_keys_the_configuration_reads_from_runtime_params_are_known(tmp_path: Path):
    (tmp_path / "base").mkdir()
    (tmp_path / "base" / "catalog.yml").write_text("log:\n  filepath: ${runtime_params:clicklog_path, a.csv}\n")
    (tmp_path / "avazu" / "nested").mkdir(parents=True)
    (tmp_path / "avazu" / "nested" / "catalog.yaml").write_text("n: ${runtime_params: log.max_rows}\n")
    assert runtime_parameter_keys(tmp_path, ["base", "avazu"], {}) == {"clicklog_path", "log.max_rows"}
    assert runtime_parameter_keys(tmp_path, ["base", "local"], {}) == {"clicklog_path"}
    schema = parameter_schema(PIPELINES, ["clicklog_path"])
    assert unknown_parameter_problems({"clicklog_path": "x.csv", "seed": 1}, schema) == []


def test_a_configuration_source_that_is_not_a_folder_takes_every_runtime_key_as_read(tmp_path: Path):
    runtime = {"clicklog_path": "x.csv", "ranking": {"alpah": 0.5}}
    keys = runtime_parameter_keys(tmp_path / "conf.tar.gz", ["base", "local"], runtime)
    assert keys == {"clicklog_path", "ranking.alpah"}


@pytest.mark.parametrize("env", ["base", "local", "test", "avazu", "criteo", "gpu", "dask"])
def test_the_project_configuration_of_every_environment_passes(project_pipelines: dict[str, Pipeline], env: str):
    # As the start-up hook does: keys the catalog reads from `--params`, and those the pipeline builders read.
    read_elsewhere = runtime_parameter_keys(PROJECT_ROOT / "conf", ["base", env], {}) | graph_keys()
    check_parameters(project_parameters(env), project_pipelines, read_elsewhere)


def _models_in(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        for field in annotation.model_fields.values():
            yield from _models_in(field.annotation)
    else:
        for argument in get_args(annotation):  # X | None, list[X], dict[str, X]
            yield from _models_in(argument)


def test_every_typed_parameter_model_refuses_unknown_keys(project_pipelines: dict[str, Pipeline]):
    # The schema leaves a typed key's subtree to its model: one ignoring unknown keys would let a typo through.
    requirements = TypeExtractor(project_pipelines).extract_types_from_pipelines()
    models = {model for expected in requirements.values() for model in _models_in(model_class(expected))}
    assert len(models) > 10
    assert sorted(model.__qualname__ for model in models if model.model_config.get("extra") != "forbid") == []


@pytest.fixture(scope="module")
def project_pipelines() -> dict[str, Pipeline]:
    return all_pipelines()
