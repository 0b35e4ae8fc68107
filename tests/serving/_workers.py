"""Worker processes of the concurrency test (a module of its own: spawn imports it in each child)."""

from __future__ import annotations

from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier

from adrank_pipelines.serving.budget_ledger import SqliteBudgetLedger
from adrank_pipelines.serving.state import open_state
from adrank_pipelines.serving.state_params import OnlineStateParams


def charge_repeatedly(
    params: OnlineStateParams,
    advertiser_id: int,
    n_charges: int,
    price: float,
    budget: float,
    start: Barrier,
    accepted_counts: Queue[int],
) -> None:
    """Charge the advertiser ``n_charges`` times, then report how many charges were accepted."""
    state = open_state(params)
    try:
        start.wait(timeout=30)
        accepted = sum(state.budget.charge(advertiser_id, price, budget).accepted for _ in range(n_charges))
    finally:
        state.close()
    accepted_counts.put(accepted)


def open_fresh_ledgers(paths: list[str], start: Barrier, failures: Queue[list[str]]) -> None:
    """Open each ledger file together with the other workers (one barrier per file), then report the errors."""
    errors = []
    for path in paths:
        start.wait(timeout=30)
        try:
            SqliteBudgetLedger(path).close()
        except RuntimeError as error:
            errors.append(str(error))
    failures.put(errors)
