"""Budget pacing: a spend target through the day, the controller that tracks it, and the hard cap.

Spend is charged per click. The controller acts between time steps (all auctions of a step are
cleared together); the cap acts inside a step, in time order, so that no advertiser ends the day
above its budget by more than the price of the click that crossed it.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from adrank_pipelines.auction.config import PacingParams

MINUTES_PER_DAY = 1440


def n_steps(step_minutes: int) -> int:
    return math.ceil(MINUTES_PER_DAY / step_minutes)


def cumulative_target(reference_hours: np.ndarray | None, step_minutes: int) -> np.ndarray:
    """Share of the day's budget to have spent by the end of each step.

    ``reference_hours``: the hour of each request of a reference day (traffic is assumed uniform
    within an hour); None spreads the budget evenly over the day.
    """
    step_end = np.minimum(np.arange(1, n_steps(step_minutes) + 1) * step_minutes, MINUTES_PER_DAY)
    if reference_hours is None:
        return step_end / MINUTES_PER_DAY
    counts = np.bincount(np.asarray(reference_hours, dtype=np.int64), minlength=24)[:24].astype(np.float64)
    if counts.sum() == 0:
        raise ValueError("the reference day of the pacing target has no requests")
    share = counts / counts.sum()
    before_hour = np.concatenate([[0.0], np.cumsum(share)])
    hour, minute = np.divmod(step_end, 60)
    within = np.where(hour < 24, share[np.minimum(hour, 23)] * minute / 60.0, 0.0)
    return np.asarray(np.minimum(before_hour[hour] + within, 1.0))


def cap_to_budget(account: np.ndarray, charge: np.ndarray, spend: np.ndarray, budget: np.ndarray) -> np.ndarray:
    """Which impressions (given in time order) may be served: an account serves while its spend
    before the impression is below its budget; once a click takes it to its budget, its later
    impressions are withdrawn."""
    n = len(account)
    if n == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(account, kind="stable")  # stable: time order within each account
    grouped = account[order]
    charges = charge[order]
    running = np.cumsum(charges)
    starts = np.flatnonzero(np.r_[True, grouped[1:] != grouped[:-1]])
    group_start = np.repeat(starts, np.diff(np.r_[starts, n]))
    spent_before = (running - charges) - (running - charges)[group_start]
    keep = np.empty(n, dtype=bool)
    keep[order] = spend[grouped] + spent_before < budget[grouped]
    return keep


class PacingController:
    """Per-account control in [min_control, 1]: a bid multiplier or the probability of entering."""

    def __init__(self, budget: np.ndarray, params: PacingParams, target: np.ndarray) -> None:
        self.budget = np.asarray(budget, dtype=np.float64)
        self.spend = np.zeros_like(self.budget)
        self.control = np.ones_like(self.budget)
        self._params = params
        self._target = target

    def active(self, account: npt.NDArray[np.int64]) -> np.ndarray:
        return self.spend[account] < self.budget[account]

    def bid_multiplier(self, account: npt.NDArray[np.int64]) -> np.ndarray:
        if self._params.kind == "bid_multiplier":
            return self.control[account]
        return np.ones(account.shape)

    def participates(self, account: npt.NDArray[np.int64], rng: np.random.Generator) -> np.ndarray:
        if self._params.kind == "throttle":
            return rng.random(account.shape) < self.control[account]
        return np.ones(account.shape, dtype=bool)

    def charge(self, account: npt.NDArray[np.int64], amount: np.ndarray) -> None:
        self.spend += np.bincount(account, weights=amount, minlength=len(self.spend))

    def end_step(self, step: int) -> None:
        """Move each control toward the spend target: up when behind it, down when ahead.

        An account without budget never serves (see :meth:`active`), so its control stays where it is.
        """
        if self._params.kind == "none":
            return
        funded = self.budget > 0
        shortfall = np.zeros_like(self.budget)
        np.divide(self._target[step] * self.budget - self.spend, self.budget, out=shortfall, where=funded)
        self.control = np.clip(self.control * np.exp(self._params.gain * shortfall), self._params.min_control, 1.0)
