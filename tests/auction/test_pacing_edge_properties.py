"""Edge cases of pacing on random inputs (hypothesis): budgets of zero, budgets that run out, charges
that reach a budget exactly."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adrank_pipelines.auction.config import AuctionRules, MechanismSpec, PacingParams
from adrank_pipelines.auction.outcomes import account_outcomes, outcome_metrics, pacing_curve
from adrank_pipelines.auction.pacing import PacingController, cap_to_budget
from adrank_pipelines.auction.replay import replay_day
from tests.auction.books import hourly_target, random_book

# A division by zero inside numpy must fail the test rather than pass as a warning and a NaN or inf.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

_FAST = settings(max_examples=60, deadline=None)
MECHANISMS = ["second_price", "gsp", "vcg", "first_price"]


@st.composite
def charges_in_time_order(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(account, charge, spend so far, budget): budgets of 0 and charges that tie the budget exactly."""
    n_accounts = draw(st.integers(1, 4))
    n = draw(st.integers(0, 25))
    account = np.array(draw(st.lists(st.integers(0, n_accounts - 1), min_size=n, max_size=n)), dtype=np.int64)
    charge = np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 1.0]), min_size=n, max_size=n)))
    budget = np.array(draw(st.lists(st.sampled_from([0.0, 1.0, 2.0]), min_size=n_accounts, max_size=n_accounts)))
    spend = np.minimum(
        np.array(draw(st.lists(st.sampled_from([0.0, 0.5, 2.0]), min_size=n_accounts, max_size=n_accounts))), budget
    )
    return account, charge, spend, budget


@_FAST
@given(charges_in_time_order())
def test_the_cap_serves_each_account_while_it_has_budget_left(case: tuple[np.ndarray, ...]):
    account, charge, spend, budget = case
    keep = cap_to_budget(account, charge, spend, budget)
    assert keep.shape == account.shape
    for a in range(len(budget)):
        running = spend[a]
        for served, amount in zip(keep[account == a], charge[account == a], strict=True):
            assert served == (running < budget[a]), "served exactly while the spend before it is under budget"
            running += amount if served else 0.0
        if budget[a] == 0.0:
            assert not keep[account == a].any(), "an account without budget serves nothing"
        assert running <= budget[a] + charge[account == a].max(initial=0.0), "at most one click past the budget"


@_FAST
@given(
    st.lists(st.sampled_from([0.0, 1.0, 10.0]), min_size=1, max_size=5),
    st.sampled_from(["bid_multiplier", "throttle"]),
    st.integers(0, 2**32 - 1),
)
def test_the_controller_stays_finite_in_range_with_budgets_of_zero(budgets: list[float], kind: str, seed: int):
    rng = np.random.default_rng(seed)
    budget = np.array(budgets)
    params = PacingParams(kind=kind, min_control=0.1)
    controller = PacingController(budget, params, np.linspace(0.25, 1.0, 4))
    accounts = np.arange(len(budget))
    for step in range(4):
        active = controller.active(accounts)
        assert not active[budget == 0.0].any(), "an account without budget never enters"
        controller.charge(accounts[active], rng.choice([0.0, 1.0, 5.0], int(active.sum())))
        controller.end_step(step)
        assert np.isfinite(controller.control).all()
        assert ((controller.control >= 0.1) & (controller.control <= 1.0)).all()
    assert (controller.spend[budget == 0.0] == 0.0).all()
    assert np.isfinite(controller.bid_multiplier(accounts)).all()


def test_a_behind_account_speeds_up_and_an_account_without_budget_keeps_its_control():
    controller = PacingController(np.array([0.0, 10.0]), PacingParams(kind="bid_multiplier"), np.array([0.5]))
    controller.control = np.array([0.5, 0.5])
    controller.end_step(0)
    assert controller.control[0] == 0.5
    assert controller.control[1] == pytest.approx(min(1.0, 0.5 * np.exp(4.0 * 0.5)))


@settings(max_examples=8, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["none", "bid_multiplier", "throttle"]), st.sampled_from(MECHANISMS))
def test_a_replay_with_accounts_without_budget_charges_them_nothing(seed: int, kind: str, mechanism: str):
    book = random_book(seed, n_requests=120)
    book.accounts.budget[::2] = 0.0  # a fresh book per call: mutating it here is safe
    target = hourly_target()
    log = replay_day(
        book, MechanismSpec(kind=mechanism), AuctionRules(min_quality=0.0), PacingParams(kind=kind), target, seed
    )
    broke = np.flatnonzero(book.accounts.budget == 0.0)
    assert not np.isin(log.account, broke).any(), "no impression is served for an account without budget"
    assert (log.spend_by_step[:, broke] == 0.0).all()
    spend = log.spend_by_step[-1]
    most_per_click = np.zeros(len(spend))
    np.maximum.at(most_per_click, log.account, np.where(log.click, log.price, 0.0))
    assert np.all(spend <= book.accounts.budget + most_per_click + 1e-9), "budgets run out, by one click at most"

    outcomes = account_outcomes(log, book)
    assert outcomes.loc[outcomes["budget"] == 0.0, "utilisation"].isna().all()
    curve = pacing_curve(log, book, target, min_utilisation=0.9)
    assert np.isfinite(curve["spend_share"]).all()
    realised = outcome_metrics(log, book, target, min_utilisation=0.9)["realised"]
    assert np.isfinite(realised["revenue"]) and np.isfinite(realised["budget_utilisation"])
