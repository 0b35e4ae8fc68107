"""The zoo's registry: folders are models, names in configuration resolve or fail with a suggestion."""

from __future__ import annotations

import importlib
from typing import get_args

import pytest

from adrank_pipelines.models.calibration import CalibrationChoice
from adrank_pipelines.models.zoo import (
    UnknownModelError,
    model_params,
    scoring_closure,
    training_order,
    zoo_model,
    zoo_names,
)
from adrank_pipelines.models.zoo.hybrid.blend import HybridRanker
from adrank_pipelines.models.zoo.interface import TrainedModel, ZooParams
from adrank_pipelines.ranking.scoring import scoring_order
from tests.conftest import project_parameters

# The models the pipelines' defaults name; a new folder joins the zoo without a change here.
DEFAULT_MODELS = {"baseline", "deepfm", "field_attention", "hybrid", "lightgbm", "transformer"}


def test_every_folder_is_a_model_named_after_it_with_strict_default_parameters() -> None:
    assert set(zoo_names()) >= DEFAULT_MODELS and zoo_names() == sorted(zoo_names())
    for name in zoo_names():
        model = zoo_model(name)
        assert model.name == name
        assert issubclass(model.params_type, ZooParams) and model.params_type().calibration in get_args(
            CalibrationChoice
        )
        assert importlib.import_module(f"adrank_pipelines.models.zoo.{name}").__doc__, f"{name} has no docstring"
        with pytest.raises(ValueError, match=rf"ctr_models\.{name}\.not_a_key: not a known setting"):
            model_params(name, {"not_a_key": 1})
    with pytest.raises(
        ValueError, match=r"ctr_models\.lightgbm\.num_leave: not a known setting; did you mean 'num_leaves'"
    ):
        model_params("lightgbm", {"num_leave": 8})
    with pytest.raises(ValueError, match=r"ctr_models\.deepfm\.training\.batch_sise: .*did you mean 'batch_size'"):
        model_params("deepfm", {"training": {"batch_sise": 8}})


@pytest.mark.parametrize("env", ["base", "test", "gpu", "avazu", "criteo"])
def test_every_model_block_of_every_environment_validates(env: str) -> None:
    blocks = project_parameters(env)["ctr_models"]
    assert set(blocks) <= set(zoo_names())
    for name, block in blocks.items():
        assert model_params(name, block).calibration == block["calibration"]


def test_an_unknown_name_fails_with_the_closest_model() -> None:
    with pytest.raises(UnknownModelError, match=r"no model 'deepfn' in the zoo; did you mean 'deepfm'\?"):
        zoo_model("deepfn")
    with pytest.raises(UnknownModelError, match="The zoo holds: baseline, "):
        zoo_model("xgboost")


def test_a_model_comes_after_the_models_it_reads() -> None:
    # The hybrid's upstream models first, in the order its parameters list them.
    assert training_order(["hybrid", "transformer", "lightgbm"], {}) == ["lightgbm", "transformer", "hybrid"]
    blend = {"hybrid": {"models": ["deepfm", "lightgbm"]}}
    assert training_order(["hybrid", "lightgbm", "deepfm"], blend) == ["deepfm", "lightgbm", "hybrid"]
    assert training_order(["deepfm", "baseline"], {}) == ["deepfm", "baseline"]
    assert training_order([], {}) == []


def test_an_unlisted_upstream_model_or_a_cycle_fails_naming_the_models() -> None:
    with pytest.raises(ValueError, match=r"ctr_models\.hybrid reads model 'transformer', which is not listed"):
        training_order(["lightgbm", "hybrid"], {})
    with pytest.raises(ValueError, match="in a cycle: hybrid -> hybrid"):
        training_order(["hybrid"], {"hybrid": {"models": ["hybrid"]}})


def test_scoring_a_hybrid_needs_the_models_it_reads_first() -> None:
    assert scoring_closure(["hybrid"], {}) == ["lightgbm", "transformer", "hybrid"]
    assert scoring_closure(["deepfm", "lightgbm"], {}) == ["deepfm", "lightgbm"]


def test_trained_models_are_scored_after_the_models_they_read() -> None:
    hybrid = TrainedModel("hybrid", HybridRanker("blend", ("lightgbm", "transformer")))
    trained = {
        "hybrid": hybrid,
        "transformer": TrainedModel("transformer", None),
        "lightgbm": TrainedModel("lightgbm", None),
    }
    assert scoring_order(trained) == ["lightgbm", "transformer", "hybrid"]
    with pytest.raises(ValueError, match="'hybrid' reads the pCTR of 'transformer', which ranking was not given"):
        scoring_order({"hybrid": hybrid, "lightgbm": trained["lightgbm"]})
