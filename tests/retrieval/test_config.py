"""Indexing parameters: the project's files validate, typos and bad values fail naming the parameter."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adrank_pipelines.retrieval.config import IndexingParams
from tests.conftest import project_parameters


@pytest.mark.parametrize("env", ["base", "test"])
def test_project_parameters_validate(env: str):
    params = IndexingParams.model_validate(project_parameters(env)["indexing"])
    assert params.evaluation.index_types[0].factory == "Flat"  # the exact reference comes first
    assert params.top_k == (500 if env == "base" else 50)


def test_a_misspelt_key_fails_naming_it():
    raw = project_parameters("test")["indexing"]
    with pytest.raises(ValidationError, match="n_probe"):
        IndexingParams.model_validate({**raw, "index": {"factory": "IVF8,Flat", "n_probe": 2}})


def test_out_of_range_values_fail_naming_them():
    raw = project_parameters("test")["indexing"]
    with pytest.raises(ValidationError, match="top_k"):
        IndexingParams.model_validate({**raw, "top_k": 0})
    with pytest.raises(ValidationError, match="metric"):
        IndexingParams.model_validate({**raw, "metric": "l2"})
