"""Typed parameters: the shipped config loads, and a typo or a bad value fails naming the parameter."""

import pytest
from pydantic import ValidationError

from adrank_pipelines.auction.config import AbTestParams, AuctionEvalParams, AuctionRules, MechanismSpec
from tests.conftest import project_parameters


@pytest.mark.parametrize("env", ["base", "test"])
def test_shipped_parameters_validate(env):
    params = project_parameters(env)
    auction = AuctionEvalParams.model_validate(params["auction_eval"])
    ab = AbTestParams.model_validate(params["ab_test"])
    assert ab.mechanism in auction.mechanisms
    assert auction.mechanisms["second_price"].slot_limit == 1


def _base() -> dict:
    return project_parameters("base")["auction_eval"]


def test_a_misspelt_key_fails_with_its_name():
    with pytest.raises(ValidationError, match="reserve_prise"):
        AuctionEvalParams.model_validate({**_base(), "rules": {"reserve_prise": 0.1}})


def test_reference_mechanism_must_be_in_the_grid():
    with pytest.raises(ValidationError, match="reference_mechanism 'gsp2'"):
        AuctionEvalParams.model_validate({**_base(), "reference_mechanism": "gsp2"})


def test_position_discounts_must_fall_from_one():
    with pytest.raises(ValidationError, match="position_discounts"):
        AuctionRules(position_discounts=[1.0, 0.5, 0.7])
    with pytest.raises(ValidationError, match="position_discounts"):
        AuctionRules(position_discounts=[0.9, 0.5])


def test_shading_is_for_first_price_only():
    with pytest.raises(ValidationError, match="shading applies to first_price only"):
        MechanismSpec(kind="gsp", shading={"kind": "factor", "factor": 0.7})
    with pytest.raises(ValidationError, match="grid values must lie in"):
        MechanismSpec(kind="first_price", shading={"kind": "learned", "grid": [0.5, 1.5]})


@pytest.mark.parametrize(
    ("model", "section", "key"),
    [(AuctionEvalParams, "auction_eval", "draw_seeds"), (AbTestParams, "ab_test", "truth_draw_seeds")],
)
def test_fewer_than_one_draw_seed_fails_with_the_parameters_name(model, section, key):
    with pytest.raises(ValidationError, match=key):
        model.model_validate({**project_parameters("base")[section], key: 0})
