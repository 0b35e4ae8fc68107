"""The A/B experiment on the test world: the split, the budget-split arms, the true lift over
click-draw seeds and the readout."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adrank_pipelines.auction.experiment import (
    assign_arms,
    lift_over_draws,
    readout,
    readout_metrics,
    run_arms,
    true_lift,
)
from adrank_pipelines.auction.grid import replay
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


def _expected_totals(day, auction_params, ab_params, model, seed):
    """Expected clicks and revenue of one full-traffic replay, computed here without the module's helpers."""
    log = replay(day, day.book(model), auction_params.mechanisms[ab_params.mechanism], auction_params, seed)
    return np.array([log.true_pctr.sum(), (log.true_pctr * log.price).sum()])


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
    assert clicks["true_lift"] == truth["clicks"].lift
    assert clicks["true_lift_spread"] == truth["clicks"].spread()
    assert clicks["true_lift_spread"]["draw_seeds"] == ab_params.truth_draw_seeds
    assert "true_lift_undefined" not in clicks
    covers = clicks["ci_low"] <= truth["clicks"].lift <= clicks["ci_high"]
    assert clicks["interval_covers_true_lift"] == covers
    assert "cuped" in clicks and "theta" in clicks["cuped"]
    assert result["design"]["users"]["control"] + result["design"]["users"]["treatment"] == len(totals.user_id)
    metrics = readout_metrics(result)
    assert metrics["clicks_per_user.true_lift"]["value"] == truth["clicks"].lift
    assert metrics["clicks_per_user.true_lift_std"]["value"] == clicks["true_lift_spread"]["std"]


def test_true_lift_of_a_model_against_itself_is_zero_and_a_better_model_wins(auction_world, auction_params, ab_params):
    day = _day(auction_world, auction_params)
    same = ab_params.model_copy(update={"treatment_model": ab_params.control_model, "truth_draw_seeds": 3})
    for truth in true_lift(day, auction_params, same).values():
        assert truth.lift == 0.0 and np.array_equal(truth.per_seed, np.zeros(3))
        assert truth.spread() == {"draw_seeds": 3, "std": 0.0, "min": 0.0, "max": 0.0}
    oracle = ab_params.model_copy(update={"treatment_model": "oracle", "truth_draw_seeds": 3})
    assert true_lift(day, auction_params, oracle)["clicks"].lift > 0.0


def test_the_true_lift_is_the_lift_of_the_totals_averaged_over_the_draw_seeds(auction_world, auction_params, ab_params):
    day = _day(auction_world, auction_params)
    ab = ab_params.model_copy(update={"truth_draw_seeds": 4})
    seeds = range(auction_params.seed, auction_params.seed + 4)
    control, treatment = (
        np.array([_expected_totals(day, auction_params, ab, model, seed) for seed in seeds])
        for model in (ab.control_model, ab.treatment_model)
    )
    truth = true_lift(day, auction_params, ab)
    for column, metric in enumerate(("clicks", "revenue")):
        single = treatment[:, column] / control[:, column] - 1.0
        assert len(set(single)) == 4, "each seed draws its own clicks, so its own lift"
        assert truth[metric].lift == pytest.approx(treatment[:, column].mean() / control[:, column].mean() - 1.0)
        np.testing.assert_allclose(truth[metric].per_seed, single)
        spread = truth[metric].spread()
        assert spread["std"] == pytest.approx(single.std(ddof=1))
        assert (spread["min"], spread["max"]) == pytest.approx((single.min(), single.max()))
        # A ratio of means, not a mean of ratios: the two differ when the control total varies.
        assert truth[metric].lift != pytest.approx(single.mean(), rel=1e-9, abs=0)


def test_one_draw_seed_gives_the_single_replay_lift_and_no_deviation(auction_world, auction_params, ab_params):
    day = _day(auction_world, auction_params)
    ab = ab_params.model_copy(update={"truth_draw_seeds": 1})
    control, treatment = (
        _expected_totals(day, auction_params, ab, model, auction_params.seed)
        for model in (ab.control_model, ab.treatment_model)
    )
    truth = true_lift(day, auction_params, ab)
    for column, metric in enumerate(("clicks", "revenue")):
        assert truth[metric].lift == pytest.approx(treatment[column] / control[column] - 1.0)
        assert truth[metric].spread() == {
            "draw_seeds": 1,
            "std": None,
            "min": truth[metric].lift,
            "max": truth[metric].lift,
        }


def test_nothing_sold_leaves_the_true_lift_and_its_spread_undefined_with_a_reason(
    auction_world, auction_params, ab_params
):
    rules = auction_params.rules.model_copy(update={"reserve_price": 1000.0})
    quiet = auction_params.model_copy(update={"rules": rules})
    day = _day(auction_world, quiet)
    ab = ab_params.model_copy(update={"truth_draw_seeds": 2})
    truth = true_lift(day, quiet, ab)
    assert all(
        t.lift is None and t.spread() == {"draw_seeds": 2, "std": None, "min": None, "max": None}
        for t in truth.values()
    )
    result = readout(run_arms(day, quiet, ab, seed=3), truth, ab, covariate=None)
    for metric in ("clicks", "revenue"):
        entry = result["metrics"][f"{metric}_per_user"]
        assert entry["true_lift"] is None and entry["interval_covers_true_lift"] is None
        assert entry["true_lift_undefined"].startswith(f"the control model earns no expected {metric} in any of its 2")
    assert not any("true_lift" in name for name in readout_metrics(result))


# Expected totals of a replay: nothing sold (0), or at least a fraction of a click.
_TOTAL = st.one_of(st.just(0.0), st.floats(1e-3, 1e4))


@pytest.mark.filterwarnings("error::RuntimeWarning")
@settings(max_examples=80, deadline=None)
@given(st.lists(_TOTAL, min_size=1, max_size=8), st.data())
def test_lift_over_draws_on_any_totals(control: list[float], data: st.DataObject):
    treatment = data.draw(st.lists(_TOTAL, min_size=len(control), max_size=len(control)))
    c, t = np.array(control), np.array(treatment)
    truth = lift_over_draws(c, t)
    if c.mean() > 0:
        assert truth.lift == pytest.approx(t.mean() / c.mean() - 1.0)
    else:
        assert truth.lift is None
    defined = c > 0
    assert np.array_equal(np.isnan(truth.per_seed), ~defined)
    np.testing.assert_allclose(truth.per_seed[defined], t[defined] / c[defined] - 1.0)
    spread = truth.spread()
    assert spread["draw_seeds"] == len(c)
    assert (spread["std"] is None) == (defined.sum() < 2)
    assert (spread["min"] is None) == (not defined.any())
    if len(c) == 1 and defined.all():
        assert spread["min"] == spread["max"] == pytest.approx(truth.lift)
