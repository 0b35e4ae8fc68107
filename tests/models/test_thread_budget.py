"""Torch threads kept to the cores other processes leave free."""

import time

import pytest
import torch

from adrank_pipelines.models.thread_budget import ThreadBudget, machine_cpu_seconds, threads_beside


@pytest.mark.parametrize(
    ("configured", "cores", "others", "threads"),
    [(2, 2, 0.0, 2), (2, 2, 0.4, 2), (2, 2, 0.6, 1), (2, 2, 1.0, 1), (2, 2, 2.0, 1), (4, 8, 1.0, 4), (8, 8, 3.0, 5)],
)
def test_threads_are_the_free_cores_between_one_and_the_configured_count(configured, cores, others, threads):
    assert threads_beside(configured, cores, others) == threads


class _Machine:
    """A machine whose other processes use ``busy_cores`` cores on top of this process's own CPU time."""

    def __init__(self, busy_cores: float) -> None:
        self.busy_cores, self.calls = busy_cores, 0

    def __call__(self) -> float:
        self.calls += 1
        return time.process_time() + self.busy_cores * time.monotonic()


def test_a_busy_neighbour_takes_a_thread_away_and_gives_it_back_when_it_stops():
    before = torch.get_num_threads()
    machine = _Machine(busy_cores=1.0)
    try:
        budget = ThreadBudget(2, interval_seconds=0.0, machine_seconds=machine, cores=2)
        assert budget.threads == 2 and torch.get_num_threads() == 2
        assert budget.update() == 1 and torch.get_num_threads() == 1
        machine.busy_cores = 0.0
        assert budget.update() == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_readings_are_spaced_and_a_fixed_budget_never_reads():
    before = torch.get_num_threads()
    machine = _Machine(busy_cores=1.0)
    try:
        spaced = ThreadBudget(2, interval_seconds=3600.0, machine_seconds=machine, cores=2)
        assert [spaced.update() for _ in range(5)] == [2] * 5 and machine.calls == 1  # the first reading only
        fixed = ThreadBudget(2, adapt=False, interval_seconds=0.0, machine_seconds=machine, cores=2)
        assert fixed.update() == 2 and machine.calls == 2
    finally:
        torch.set_num_threads(before)


def test_without_a_reading_of_the_machine_the_configured_threads_stay():
    before = torch.get_num_threads()
    try:
        budget = ThreadBudget(2, interval_seconds=0.0, machine_seconds=lambda: None, cores=2)
        assert budget.update() == 2
    finally:
        torch.set_num_threads(before)


def test_this_machine_reports_its_busy_cpu_seconds_rising():
    first = machine_cpu_seconds()
    if first is None:
        pytest.skip("no /proc/stat here")
    sum(range(2_000_000))
    second = machine_cpu_seconds()
    assert second is not None and second > first
