"""The A/B experiment on the test world: the split, the budget-split arms and the readout."""

import numpy as np
import pytest

from adrank_pipelines.auction.experiment import assign_arms, readout, run_arms, true_lift
from adrank_pipelines.auction.prepare import replay_inputs


def _day(auction_world, auction_params):
    world = auction_world.world
    return replay_inputs(
        auction_world.ranked,
        auction_world.candidate_truth,
        auction_world.shifts,
        world.requests,
        world.ads,
        world.advertisers,
        auction_params,
    )[0]


def test_users_split_at_random_at_the_treatment_share():
    arms = assign_arms(np.repeat(np.arange(20_000), 2), 0.3, seed=4)
    assert len(arms) == 20_000 and arms.mean() == pytest.approx(0.3, abs=0.01)
    assert arms.equals(assign_arms(np.arange(20_000), 0.3, seed=4)), "the split depends on the seed only"


def test_each_user_sees_only_its_arm_and_the_readout_holds_together(auction_world, auction_params, ab_params):
    day = _day(auction_world, auction_params)
    totals = run_arms(day, auction_params, ab_params, seed=3)
    assert set(totals.user_id) == set(day.requests["user_id"])
    assert totals.clicks.sum() > 0 and np.all(totals.clicks <= totals.impressions)
    truth = true_lift(day, auction_params, ab_params)
    result = readout(totals, truth, ab_params, covariate=(np.arange(len(totals.user_id)) % 3).astype(float))
    clicks = result["metrics"]["clicks_per_user"]
    control = totals.clicks[totals.arm == 0]
    assert clicks["control_mean"] == pytest.approx(control.mean())
    assert clicks["ci_low"] <= clicks["lift"] <= clicks["ci_high"]
    assert clicks["true_lift"] == truth["clicks"]
    assert clicks["interval_covers_true_lift"] == (clicks["ci_low"] <= truth["clicks"] <= clicks["ci_high"])
    assert "cuped" in clicks and "theta" in clicks["cuped"]
    assert result["design"]["users"]["control"] + result["design"]["users"]["treatment"] == len(totals.user_id)


def test_true_lift_of_a_model_against_itself_is_zero_and_a_better_model_wins(auction_world, auction_params, ab_params):
    day = _day(auction_world, auction_params)
    same = ab_params.model_copy(update={"treatment_model": ab_params.control_model})
    assert true_lift(day, auction_params, same) == {"clicks": 0.0, "revenue": 0.0}
    oracle = ab_params.model_copy(update={"treatment_model": "oracle"})
    assert true_lift(day, auction_params, oracle)["clicks"] > 0.0
