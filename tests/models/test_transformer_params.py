"""The transformer's parameters (ctr_models.transformer) of every config environment validate, and typos fail loudly."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from adrank_pipelines.models.config import CtrTransformerParams
from tests.conftest import project_parameters


@pytest.mark.parametrize("env", ["base", "test", "gpu"])
def test_every_environment_validates(env: str) -> None:
    params = CtrTransformerParams.model_validate(project_parameters(env)["ctr_models"]["transformer"])
    expected = {"base": ("pretrained", 0, "cpu"), "test": ("random", 0, "cpu"), "gpu": ("pretrained", 2, "cuda")}[env]
    assert (params.text_encoder.kind, params.text_encoder.finetune_layers, params.training.device) == expected
    assert params.training.bf16 is (env == "gpu")


def test_misspelt_keys_fail_with_their_name() -> None:
    with pytest.raises(ValidationError, match="n_head"):
        CtrTransformerParams.model_validate({"n_head": 4})
    with pytest.raises(ValidationError, match="device"):
        CtrTransformerParams.model_validate({"training": {"device": "tpu"}})
