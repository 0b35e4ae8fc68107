"""The budget ledger on both backends: accept while below the budget, atomic across processes, durable."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable

import pytest

from adrank_pipelines.serving.budget_ledger import ChargeResult
from adrank_pipelines.serving.state import OnlineState, open_state
from adrank_pipelines.serving.state_params import OnlineStateParams
from tests.serving._workers import charge_repeatedly, open_fresh_ledgers


def test_charges_are_accepted_until_the_spend_reaches_the_budget(open_test_state: Callable[[], OnlineState]):
    ledger = open_test_state().budget
    results = [ledger.charge(7, 3.0, 10.0) for _ in range(6)]

    assert [result.accepted for result in results] == [True, True, True, True, False, False]
    assert [result.spend for result in results] == [3.0, 6.0, 9.0, 12.0, 12.0, 12.0]
    # The overshoot is at most one click's price.
    assert ledger.spend(7) == 12.0 <= 10.0 + 3.0


def test_a_charge_landing_exactly_on_the_budget_closes_it(open_test_state: Callable[[], OnlineState]):
    ledger = open_test_state().budget
    assert ledger.charge(1, 0.5, 1.0) == ChargeResult(accepted=True, spend=0.5)
    assert ledger.charge(1, 0.5, 1.0) == ChargeResult(accepted=True, spend=1.0)
    assert ledger.charge(1, 0.5, 1.0) == ChargeResult(accepted=False, spend=1.0)


def test_a_zero_budget_accepts_nothing(open_test_state: Callable[[], OnlineState]):
    ledger = open_test_state().budget
    assert ledger.charge(3, 0.25, 0.0) == ChargeResult(accepted=False, spend=0.0)
    assert ledger.spend(3) == 0.0
    assert ledger.spends() == {}


def test_advertisers_are_charged_separately_and_a_later_day_forgets_every_spend(
    open_test_state: Callable[[], OnlineState],
):
    ledger = open_test_state().budget
    assert ledger.spend(1) == 0.0 and ledger.spends() == {}
    ledger.charge(1, 1.5, 100.0)
    assert ledger.start_day(20_000) is False  # the first day recorded: nothing earlier to forget
    ledger.charge(2, 0.25, 100.0)
    ledger.charge(1, 1.5, 100.0)
    assert ledger.spends() == {1: 3.0, 2: 0.25}

    assert ledger.start_day(20_000) is False and ledger.start_day(19_999) is False
    assert ledger.spends() == {1: 3.0, 2: 0.25}
    assert ledger.start_day(20_001) is True
    assert ledger.spends() == {}
    assert ledger.start_day(20_001) is False  # a second worker seeing the same new day clears nothing
    assert ledger.charge(1, 1.5, 2.0) == ChargeResult(accepted=True, spend=1.5)
    assert ledger.start_day(20_001) is False and ledger.spends() == {1: 1.5}


@pytest.mark.parametrize(("price", "budget"), [(-1.0, 10.0), (float("nan"), 10.0), (1.0, float("inf")), (1.0, -1.0)])
def test_invalid_prices_and_budgets_are_refused(open_test_state: Callable[[], OnlineState], price, budget):
    ledger = open_test_state().budget
    with pytest.raises(ValueError, match="must be a finite number"):
        ledger.charge(1, price, budget)
    assert ledger.spends() == {}


def test_a_restart_keeps_every_recorded_spend_and_the_budget_day(open_test_state: Callable[[], OnlineState]):
    first = open_test_state()
    first.budget.start_day(20_000)
    first.budget.charge(5, 2.5, 10.0)
    first.budget.charge(6, 1.0, 10.0)
    first.close()

    # A new process would open the same SQLite file / connect a new Redis client.
    second = open_test_state()
    assert second.budget.start_day(20_000) is False
    assert second.budget.spends() == {5: 2.5, 6: 1.0}
    assert second.budget.charge(5, 2.5, 10.0).spend == 5.0
    assert second.budget.start_day(20_001) is True and second.budget.spends() == {}


def test_concurrent_processes_overshoot_by_at_most_one_click_each(state_params: OnlineStateParams):
    n_workers, n_charges, price, budget = 2, 300, 1.0, 100.0
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(n_workers)
    accepted_counts = context.Queue()
    workers = [
        context.Process(
            target=charge_repeatedly, args=(state_params, 42, n_charges, price, budget, start, accepted_counts)
        )
        for _ in range(n_workers)
    ]
    began = time.monotonic()
    for worker in workers:
        worker.start()
    accepted = [accepted_counts.get(timeout=60) for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    elapsed = time.monotonic() - began

    with open_state(state_params) as state:
        spend = state.budget.spend(42)
    assert budget <= spend <= budget + n_workers * price
    assert sum(accepted) * price == spend
    assert elapsed < 10.0, f"the concurrency test took {elapsed:.1f} s"


def test_workers_opening_a_new_ledger_file_at_the_same_moment_all_succeed(tmp_path):
    # Several service workers start together on a file none of them has created yet; the switch to WAL
    # needs an exclusive lock that SQLite refuses at once instead of waiting for it.
    n_workers, n_files = 4, 15
    paths = [str(tmp_path / f"ledger_{index}.sqlite") for index in range(n_files)]
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(n_workers)
    failures = context.Queue()
    workers = [context.Process(target=open_fresh_ledgers, args=(paths, start, failures)) for _ in range(n_workers)]
    for worker in workers:
        worker.start()
    errors = [error for _ in workers for error in failures.get(timeout=120)]
    for worker in workers:
        worker.join(timeout=30)
        assert worker.exitcode == 0
    assert errors == []
