"""Online budget pacing: the replay's controller, stepped by the clock of the requests, fed by the live spend.

The replay (``auction.replay``) moves each advertiser's bid multiplier toward a spend target at the
end of every pacing step. The service does the same with the same ``PacingController``: when a
request falls in a later step than the last one seen, the controller takes the spend recorded in
the budget ledger (shared by every worker) and takes one control step per step passed. Advertisers
whose recorded spend reached their budget leave the market at once, whatever the step.

Budgets are daily: a request or a click of a later (UTC) day than the last one seen starts that day
in the ledger, which forgets the spend once for every worker, and restarts the controller.
"""

from __future__ import annotations

import threading

import numpy as np
import pandas as pd

from adrank_pipelines.auction.config import PacingParams
from adrank_pipelines.auction.pacing import PacingController, cumulative_target, n_steps
from adrank_pipelines.serving.budget_ledger import BudgetLedger

NANOSECONDS_PER_DAY = 86_400 * 10**9


class OnlinePacing:
    """Per-advertiser budgets (the day's, already scaled), the live spend and the pacing controls."""

    def __init__(
        self, advertiser_ids: np.ndarray, budgets: np.ndarray, params: PacingParams, ledger: BudgetLedger
    ) -> None:
        self._ids = pd.Index(advertiser_ids)
        self._budgets = budgets
        self._params = params
        self._ledger = ledger
        self._controller = self._fresh_controller()
        self._step = -1
        self._day: int | None = None
        self._lock = threading.Lock()

    def _fresh_controller(self) -> PacingController:
        return PacingController(self._budgets, self._params, cumulative_target(None, self._params.step_minutes))

    def budget_of(self, advertiser_id: int) -> float:
        """The day's budget of an advertiser (a ValueError naming it when unknown)."""
        row = self._ids.get_indexer([advertiser_id])[0]
        if row < 0:
            raise ValueError(f"advertiser_id {advertiser_id} is not in the advertisers table")
        return float(self._budgets[row])

    def _spend(self) -> np.ndarray:
        recorded = pd.Series(self._ledger.spends(), dtype=np.float64)
        return recorded.reindex(self._ids, fill_value=0.0).to_numpy(dtype=np.float64)

    def remaining_budgets(self) -> pd.Series:
        """Each advertiser's budget minus its recorded spend, indexed by advertiser_id."""
        return pd.Series(self._budgets - self._spend(), index=self._ids)

    def start_day_of(self, when: pd.Timestamp) -> None:
        """Start the budget day of ``when`` if it is later than the last day seen (see the module docstring)."""
        day = int(when.normalize().value // NANOSECONDS_PER_DAY)
        with self._lock:
            if self._day is not None and day <= self._day:
                return
            self._ledger.start_day(day)
            self._controller, self._step, self._day = self._fresh_controller(), -1, day

    def _advance(self, latest: pd.Timestamp) -> None:
        self.start_day_of(latest)
        minutes = (latest - latest.normalize()).total_seconds() / 60.0
        step = min(int(minutes // self._params.step_minutes), n_steps(self._params.step_minutes) - 1)
        with self._lock:
            if step <= self._step:
                return
            self._controller.spend = self._spend()
            for passed in range(max(self._step, 0), step):
                self._controller.end_step(passed)
            self._step = step

    def controls(self, advertisers: np.ndarray, times: pd.Series) -> tuple[np.ndarray, np.ndarray]:
        """(in market, bid multiplier) of each cell of ``advertisers`` (-1: none) for requests at ``times``."""
        if len(times):
            self._advance(pd.Timestamp(times.max()))
        rows = self._ids.get_indexer(advertisers.ravel()).reshape(advertisers.shape)
        known = rows >= 0
        safe = np.where(known, rows, 0)
        spend = self._spend()
        in_market = known & (spend[safe] < self._budgets[safe])
        multiplier = np.where(known, self._controller.bid_multiplier(safe), 0.0)
        return in_market, multiplier
