"""DeepFM network: the FM term's arithmetic, how the logits are composed, learning, and rebuilding."""

from __future__ import annotations

import itertools
import json

import pydantic
import pytest
import torch

from adrank_pipelines.models.zoo.deepfm.network import MODEL_CLASS, DeepFMCtrModel, DeepFMParams, fm_second_order
from tests.models.zoo.network_fixtures import (
    assert_rebuilds_identically,
    batch_of,
    mixed_frame,
    mixed_layout,
    parameters_without_gradient,
    parity_problem,
    train_and_score,
)


def _tiny_params(**overrides: object) -> DeepFMParams:
    return DeepFMParams.model_validate({"embedding_dim": 4, "mlp_hidden": [16, 8], "dropout": 0.0, **overrides})


def test_the_second_order_term_is_the_sum_of_dot_products_over_field_pairs() -> None:
    fields = torch.randn(3, 5, 4, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    brute_force = sum(
        (fields[:, i] * fields[:, j]).sum(dim=-1) for i, j in itertools.combinations(range(fields.shape[1]), 2)
    )
    torch.testing.assert_close(fm_second_order(fields), brute_force)


def test_the_second_order_term_on_hand_made_vectors() -> None:
    # Pairs: <(1,2),(3,0)> = 3, <(1,2),(0,-1)> = -2, <(3,0),(0,-1)> = 0.
    fields = torch.tensor([[[1.0, 2.0], [3.0, 0.0], [0.0, -1.0]]])
    assert fm_second_order(fields).tolist() == [1.0]


def test_outputs_have_one_logit_per_impression() -> None:
    layout = mixed_layout()
    model = DeepFMCtrModel(layout, _tiny_params()).eval()
    with torch.no_grad():
        outputs = model(batch_of(mixed_frame(10), layout))
    assert outputs.ctr_logit.shape == (10,) and outputs.cvr_logit.shape == (10,)
    assert torch.isfinite(outputs.ctr_logit).all() and torch.isfinite(outputs.cvr_logit).all()
    # Five fields of width 4 feed the deep MLP.
    assert model.heads.shared[0].in_features == 5 * 4


def test_the_fm_logit_adds_to_the_click_logit_only() -> None:
    layout = mixed_layout()
    model = DeepFMCtrModel(layout, _tiny_params()).eval()
    batch = batch_of(mixed_frame(10), layout)
    impressions = batch.impressions
    with torch.no_grad():
        outputs = model(batch)
        categorical = torch.cat([impressions.user_categorical, impressions.pair_categorical], dim=1)
        numeric = torch.cat([impressions.user_numeric, impressions.pair_numeric], dim=1)
        fields = torch.cat([model.fields.categorical(categorical), model.fields.numeric(numeric)], dim=1)
        deep = model.heads(fields.flatten(1))
        first_order = model.categorical_weights.table.weight[categorical + model.categorical_weights.offsets].sum(
            dim=(1, 2)
        ) + (numeric * model.numeric_weights.weight).sum(dim=1)
        n_fields = fields.shape[1]
        brute_second_order = sum(
            (fields[:, i] * fields[:, j]).sum(-1) for i, j in itertools.combinations(range(n_fields), 2)
        )
    torch.testing.assert_close(outputs.ctr_logit, deep.ctr_logit + first_order + brute_second_order)
    torch.testing.assert_close(outputs.cvr_logit, deep.cvr_logit)


def test_it_learns_a_pairwise_interaction_of_two_categorical_fields() -> None:
    problem = parity_problem()
    torch.manual_seed(0)
    auc = train_and_score(DeepFMCtrModel(problem.layout, _tiny_params()), problem)
    assert auc > 0.85


def test_every_parameter_gets_a_gradient() -> None:
    layout = mixed_layout()
    torch.manual_seed(0)
    model = DeepFMCtrModel(layout, _tiny_params())
    assert parameters_without_gradient(model, mixed_frame(64), layout) == []


def test_the_constructor_config_is_json_ready_architecture_only_and_rebuilds_the_model() -> None:
    layout = mixed_layout()
    model = DeepFMCtrModel(layout, _tiny_params(training={"learning_rate": 0.5})).eval()
    config = model.constructor_config()
    json.dumps(config)
    assert config["model_class"] == MODEL_CLASS == "deepfm"
    assert "training" not in config["params"] and config["params"]["embedding_dim"] == 4
    assert_rebuilds_identically(model, DeepFMCtrModel, DeepFMParams, layout)


def test_params_have_cpu_sized_defaults_and_reject_bad_values() -> None:
    params = DeepFMParams()
    assert (params.embedding_dim, params.mlp_hidden, params.dropout) == (16, [128, 64], 0.1)
    for bad in ({"mlp_hidden": []}, {"embedding_dim": 0}, {"dropout": 1.0}, {"embeding_dim": 8}):
        with pytest.raises(pydantic.ValidationError):
            DeepFMParams.model_validate(bad)
