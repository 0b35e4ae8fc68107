"""DCN-v2 network: the cross layer's arithmetic, both ranks and structures, learning, and rebuilding."""

from __future__ import annotations

import json

import pydantic
import pytest
import torch

from adrank_pipelines.models.zoo.dcn_v2.network import MODEL_CLASS, CrossLayer, DcnV2CtrModel, DcnV2Params
from tests.models.zoo.network_fixtures import (
    assert_rebuilds_identically,
    batch_of,
    mixed_frame,
    mixed_layout,
    parameters_without_gradient,
    parity_problem,
    train_and_score,
)

VARIANTS = [("stacked", 0), ("stacked", 3), ("parallel", 0), ("parallel", 3)]


def _tiny_params(**overrides: object) -> DcnV2Params:
    base = {"embedding_dim": 4, "mlp_hidden": [16, 8], "dropout": 0.0, "cross_layers": 2}
    return DcnV2Params.model_validate(base | overrides)


def _vectors(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("rank", [0, 2])
def test_a_cross_layer_with_zero_weights_is_the_identity(rank: int) -> None:
    layer = CrossLayer(6, rank)
    for parameter in layer.parameters():
        torch.nn.init.zeros_(parameter)
    x0, x = _vectors(2, 4, 6).unbind(0)
    assert torch.equal(layer(x0, x), x)


def test_a_full_rank_cross_layer_computes_x0_times_wx_plus_b_plus_x() -> None:
    layer = CrossLayer(3, rank=0)
    with torch.no_grad():
        layer.transform.weight.copy_(torch.tensor([[1.0, 0.0, 2.0], [0.0, -1.0, 0.0], [0.5, 0.5, 0.5]]))
        layer.transform.bias.copy_(torch.tensor([0.0, 1.0, -1.0]))
    x0, x = torch.tensor([[2.0, 3.0, -1.0]]), torch.tensor([[1.0, 2.0, 4.0]])
    # W x + b = (9, -1, 2.5); x0 * that = (18, -3, -2.5); plus x.
    assert layer(x0, x).tolist() == [[19.0, -1.0, 1.5]]


def test_a_low_rank_cross_layer_factorises_w_as_u_v_transposed() -> None:
    width, rank = 8, 2
    layer = CrossLayer(width, rank)
    down, up = layer.transform[0], layer.transform[1]
    assert sum(p.numel() for p in layer.parameters()) == 2 * width * rank + width
    x0, x = _vectors(2, 5, width).unbind(0)
    full_rank_weight = up.weight @ down.weight
    assert torch.linalg.matrix_rank(full_rank_weight) == rank
    torch.testing.assert_close(layer(x0, x), x0 * (x @ full_rank_weight.T + up.bias) + x)


@pytest.mark.parametrize(("structure", "rank"), VARIANTS)
def test_outputs_have_one_logit_per_impression(structure: str, rank: int) -> None:
    layout = mixed_layout()
    model = DcnV2CtrModel(layout, _tiny_params(structure=structure, cross_rank=rank)).eval()
    with torch.no_grad():
        outputs = model(batch_of(mixed_frame(10), layout))
    assert outputs.ctr_logit.shape == (10,) and outputs.cvr_logit.shape == (10,)
    assert torch.isfinite(outputs.ctr_logit).all() and torch.isfinite(outputs.cvr_logit).all()
    assert len(model.cross) == 2
    # x0 holds five fields of width 4; in parallel the heads also read the MLP's last 8 units.
    assert model.heads.shared[0].in_features == 20 + (8 if structure == "parallel" else 0)


@pytest.mark.parametrize(("structure", "rank"), [("stacked", 0), ("parallel", 3)])
def test_it_learns_a_pairwise_interaction_of_two_categorical_fields(structure: str, rank: int) -> None:
    problem = parity_problem()
    torch.manual_seed(0)
    model = DcnV2CtrModel(problem.layout, _tiny_params(structure=structure, cross_rank=rank))
    assert train_and_score(model, problem) > 0.85


@pytest.mark.parametrize(("structure", "rank"), VARIANTS)
def test_every_parameter_gets_a_gradient(structure: str, rank: int) -> None:
    layout = mixed_layout()
    torch.manual_seed(0)
    model = DcnV2CtrModel(layout, _tiny_params(structure=structure, cross_rank=rank))
    assert parameters_without_gradient(model, mixed_frame(64), layout) == []


def test_the_constructor_config_is_json_ready_architecture_only_and_rebuilds_the_model() -> None:
    layout = mixed_layout()
    params = _tiny_params(structure="parallel", cross_rank=3, training={"learning_rate": 0.5})
    model = DcnV2CtrModel(layout, params).eval()
    config = model.constructor_config()
    json.dumps(config)
    assert config["model_class"] == MODEL_CLASS == "dcn_v2"
    assert "training" not in config["params"]
    assert (config["params"]["structure"], config["params"]["cross_rank"]) == ("parallel", 3)
    assert_rebuilds_identically(model, DcnV2CtrModel, DcnV2Params, layout)


def test_params_have_cpu_sized_defaults_and_reject_bad_values() -> None:
    params = DcnV2Params()
    assert (params.embedding_dim, params.mlp_hidden, params.dropout) == (16, [128, 64], 0.1)
    assert (params.cross_layers, params.cross_rank, params.structure) == (3, 0, "stacked")
    for bad in ({"structure": "interleaved"}, {"cross_layers": 0}, {"cross_rank": -1}, {"mlp_hidden": []}):
        with pytest.raises(pydantic.ValidationError):
            DcnV2Params.model_validate(bad)
