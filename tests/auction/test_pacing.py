"""Pacing: the spend target, the in-step budget cap, the controller and the replay's budget guarantee."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adrank_pipelines.auction.config import AuctionRules, MechanismSpec, PacingParams
from adrank_pipelines.auction.pacing import PacingController, cap_to_budget, cumulative_target
from adrank_pipelines.auction.replay import replay_day
from tests.auction.books import hourly_target, quarter_hour_target, random_book


def test_uniform_target_grows_linearly_to_one():
    assert cumulative_target(None, 360) == pytest.approx([0.25, 0.5, 0.75, 1.0])


def test_target_follows_the_reference_day_hourly_traffic():
    # All reference traffic at hour 1: nothing due in hour 0, half by 01:30, all by 02:00.
    target = cumulative_target(np.array([1, 1, 1, 1]), 30)
    assert target[:5] == pytest.approx([0.0, 0.0, 0.5, 1.0, 1.0])
    assert target[-1] == 1.0


def test_a_step_longer_than_what_is_left_of_the_day_ends_at_midnight():
    assert cumulative_target(np.array([23]), 1000) == pytest.approx([0.0, 1.0])


def test_cap_keeps_an_account_serving_until_a_click_reaches_its_budget():
    # Account 0 starts at 0.5 of 2.0: clicks at 0.5 -> 1.5 (kept), 1.5 -> 2.5 (kept: it crossed), then withdrawn.
    keep = cap_to_budget(
        account=np.array([0, 0, 1, 0, 0]),
        charge=np.array([1.0, 1.0, 1.0, 0.0, 1.0]),
        spend=np.array([0.5, 0.0]),
        budget=np.array([2.0, 5.0]),
    )
    assert keep.tolist() == [True, True, True, False, False]


def test_controller_slows_accounts_ahead_of_target_and_frees_those_behind():
    params = PacingParams(kind="bid_multiplier", gain=4.0, min_control=0.1)
    controller = PacingController(np.array([10.0, 10.0]), params, np.array([0.5, 1.0]))
    controller.control = np.array([0.5, 0.5])
    controller.charge(np.array([0, 1]), np.array([9.0, 1.0]))  # 90% and 10% spent, target 50%
    controller.end_step(0)
    assert controller.control[0] == pytest.approx(0.5 * np.exp(4.0 * -0.4))
    assert controller.control[1] == pytest.approx(min(1.0, 0.5 * np.exp(4.0 * 0.4)))
    assert controller.bid_multiplier(np.array([0, 1])) == pytest.approx(controller.control)


def test_throttle_enters_with_the_control_probability():
    controller = PacingController(np.array([1.0]), PacingParams(kind="throttle"), np.array([1.0]))
    controller.control = np.array([0.25])
    entered = controller.participates(np.zeros(20_000, dtype=np.int64), np.random.default_rng(0))
    assert entered.mean() == pytest.approx(0.25, abs=0.015)
    assert controller.bid_multiplier(np.array([0])) == pytest.approx([1.0])


@settings(max_examples=15, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    kind=st.sampled_from(["none", "bid_multiplier", "throttle"]),
    mechanism=st.sampled_from(["second_price", "gsp", "vcg", "first_price"]),
)
def test_no_account_ends_above_budget_by_more_than_one_click(seed, kind, mechanism):
    book = random_book(seed)
    log = replay_day(
        book,
        MechanismSpec(kind=mechanism),
        AuctionRules(min_quality=0.0),
        PacingParams(kind=kind),
        hourly_target(),
        seed,
    )
    spend = np.bincount(log.account, weights=log.click * log.price, minlength=len(book.accounts))
    assert spend == pytest.approx(log.spend_by_step[-1])
    most_per_click = np.zeros(len(book.accounts))
    np.maximum.at(most_per_click, log.account, np.where(log.click, log.price, 0.0))
    assert np.all(spend <= book.accounts.budget + most_per_click + 1e-9)
    assert (spend >= book.accounts.budget).any(), "the instance should make some budget bind"


def test_pacing_spreads_spend_through_the_day():
    """Budgets that run out by 4 am without pacing are half spent only around noon with it."""
    book = random_book(3, n_requests=2000, budget=30.0, n_steps=96)
    rules, gsp = AuctionRules(min_quality=0.0), MechanismSpec(kind="gsp")

    def hour_half_spent(kind: str) -> float:
        log = replay_day(book, gsp, rules, PacingParams(kind=kind), quarter_hour_target(), 0)
        share = log.spend_by_step.sum(axis=1) / book.accounts.budget.sum()
        assert share[-1] > 0.95, "the budgets are spent either way"
        return float(np.argmax(share >= 0.5 * share[-1])) / 4

    assert hour_half_spent("none") < 2
    assert 9 <= hour_half_spent("bid_multiplier") <= 15
    assert 9 <= hour_half_spent("throttle") <= 15
