"""The rules that size a fit to its data: batch size, epochs, early stopping (ADR 0020)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from adrank_pipelines.models.config import BatchRule, TorchCtrParams, TrainingParams
from adrank_pipelines.models.training_plan import (
    TrainingPlan,
    auto_batch_size,
    best_epoch,
    epoch_cap,
    is_better,
    plan_training,
)
from adrank_pipelines.models.zoo import model_params
from tests.conftest import project_parameters

# Training rows of the default simulated world: measured by its features stage (ADR 0020), and
# +-30% around it, so a change of the world's size that large still gives the settings below.
DEFAULT_WORLD_TRAIN_ROWS = 696_697
# What the default world trained with before the batch size and epochs followed the data:
# (batch size, most epochs) per torch model of conf/base.
DEFAULT_WORLD_SETTINGS = {
    "transformer": (2048, 5),
    "deepfm": (2048, 4),
    "dcn_v2": (2048, 4),
    "field_attention": (2048, 4),
}


def _typed_training(env: str, name: str) -> TrainingParams:
    parameters = project_parameters(env)
    typed = model_params(name, parameters["ctr_models"].get(name))
    assert isinstance(typed, TorchCtrParams)
    return typed.training


@pytest.mark.parametrize("name", sorted(DEFAULT_WORLD_SETTINGS))
@pytest.mark.parametrize("scale", [0.7, 1.0, 1.3])
def test_the_default_world_keeps_the_batch_size_and_epochs_it_had(name: str, scale: float):
    training = _typed_training("base", name)
    assert training.batch_size == "auto", "the rule must be what sets them"
    plan = plan_training(training, round(scale * DEFAULT_WORLD_TRAIN_ROWS))
    assert (plan.batch_size, plan.max_epochs) == DEFAULT_WORLD_SETTINGS[name]
    assert (training.early_stopping_metric, training.plateau_factor, training.patience) == ("logloss", 1.0, 1)


def test_every_torch_model_of_the_default_world_is_checked_above():
    parameters = project_parameters("base")
    torch_models = {
        name
        for name in parameters["ctr_training"]["models"]
        if isinstance(model_params(name, parameters["ctr_models"].get(name)), TorchCtrParams)
    }
    assert torch_models <= set(DEFAULT_WORLD_SETTINGS)


@pytest.mark.parametrize("env", ["avazu", "criteo"])
@pytest.mark.parametrize("rows", [2_000, 5_000, 8_000])
def test_a_small_click_log_gets_small_batches_and_enough_steps(env: str, rows: int):
    parameters = project_parameters(env)
    for name in parameters["clicklog_training"]["models"]:
        typed = model_params(name, parameters["ctr_models"].get(name))
        if not isinstance(typed, TorchCtrParams):
            continue
        plan, rule = plan_training(typed.training, rows), typed.training.batch_rule
        # The environments trained in batches of 4096 before: a 8,000-row sample got 2 steps an epoch.
        assert plan.batch_size <= max(rule.min_size, rows // rule.steps_per_epoch), f"{env} {name}"
        assert plan.steps_per_epoch >= rule.steps_per_epoch
        assert plan.steps_per_epoch * plan.max_epochs >= typed.training.min_steps
        assert typed.training.early_stopping_metric == "auc"


@given(n_rows=st.integers(min_value=0, max_value=10**9))
def test_the_auto_batch_is_a_bounded_power_of_two_with_the_target_steps(n_rows: int):
    rule = BatchRule(steps_per_epoch=8, min_size=64, max_size=4096)
    batch = auto_batch_size(n_rows, rule)
    assert rule.min_size <= batch <= rule.max_size
    assert batch & (batch - 1) == 0
    if rule.min_size < batch < rule.max_size:
        # The largest power of two of which an epoch holds steps_per_epoch full batches.
        assert batch * rule.steps_per_epoch <= n_rows < 2 * batch * rule.steps_per_epoch


def test_a_number_is_taken_as_it_is_and_the_epochs_rise_only_below_min_steps():
    fixed = TrainingParams(batch_size=100, max_epochs=3, min_steps=50)
    assert plan_training(fixed, 1_000) == TrainingPlan(batch_size=100, steps_per_epoch=10, max_epochs=5)
    assert plan_training(fixed, 10_000).max_epochs == 3
    assert epoch_cap(steps_per_epoch=7, max_epochs=2, min_steps=0) == 2
    assert epoch_cap(steps_per_epoch=7, max_epochs=2, min_steps=50) == 8
    assert plan_training(TrainingParams(), 0).steps_per_epoch == 1  # an empty split still plans one step


def test_misspelt_or_inconsistent_rule_parameters_fail_naming_them():
    with pytest.raises(ValidationError, match="batch_size"):
        TrainingParams.model_validate({"batch_size": "atuo"})
    with pytest.raises(ValidationError, match="steps_per_epcoh"):
        TrainingParams.model_validate({"batch_rule": {"steps_per_epcoh": 10}})
    with pytest.raises(ValidationError, match="min_size"):
        BatchRule(min_size=512, max_size=256)
    with pytest.raises(ValidationError, match="early_stopping_metric"):
        TrainingParams.model_validate({"early_stopping_metric": "accuracy"})
    with pytest.raises(ValidationError, match="plateau_factor"):
        TrainingParams.model_validate({"plateau_factor": 0.0})


def test_the_best_epoch_follows_the_stopping_metric():
    history = [
        {"epoch": 1, "valid_logloss": 0.50, "valid_auc": 0.60},
        {"epoch": 2, "valid_logloss": 0.45, "valid_auc": 0.62},
        {"epoch": 3, "valid_logloss": 0.47, "valid_auc": 0.64},
        {"epoch": 4, "valid_logloss": 0.45, "valid_auc": 0.63},
    ]
    assert best_epoch(history, "logloss") == 2  # a tie is no gain: the first keeps it
    assert best_epoch(history, "auc") == 3
    no_auc = [{"epoch": epoch, "valid_auc": math.nan, "valid_logloss": 0.5} for epoch in (1, 2)]
    assert best_epoch(no_auc, "auc") == 2  # one class in validation: the latest weights stay
    assert not is_better("auc", math.nan, None)
    assert is_better("logloss", 0.4, None) and not is_better("logloss", 0.4, 0.4)
