"""Timestamps against the simulated observation window: day ``d`` covers
``[start + d days, start + d+1 days)`` and every event falls inside the window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from adrank_pipelines.schemas.failures import ContractFailure, failure_from_mask

# Tables stamped with an event time (both carry event_time and day).
TIMED_TABLES = ("requests", "impressions")
# Behaviour logs may start before the ad log, but never after it ends.
HISTORY_TABLES = ("user_events",)
_ONE_DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class ObservationWindow:
    start: pd.Timestamp
    n_days: int

    @classmethod
    def of_marketplace(
        cls, start_date: str | date, n_days: int, drift_enabled: bool, drift_n_days: int
    ) -> ObservationWindow:
        """The simulator's window: its regular days plus the drift days, when drift is on."""
        return cls(pd.Timestamp(start_date), n_days + (drift_n_days if drift_enabled else 0))

    @property
    def end(self) -> pd.Timestamp:
        return self.start + self.n_days * _ONE_DAY


def time_window_failures(
    dataset: str, frame: pd.DataFrame, window: ObservationWindow, max_examples: int
) -> list[ContractFailure]:
    event_time = frame["event_time"]
    outside = (event_time < window.start) | (event_time >= window.end)
    in_window = f"event_time in [{window.start}, {window.end})"
    failures = failure_from_mask(dataset, frame, "event_time", in_window, outside, max_examples)

    expected_day = (event_time - window.start) // _ONE_DAY
    day_rule = f"equals whole days from {window.start} to event_time"
    failures += failure_from_mask(dataset, frame, "day", day_rule, frame["day"] != expected_day, max_examples)
    return failures


def history_failures(
    dataset: str, frame: pd.DataFrame, window: ObservationWindow, max_examples: int
) -> list[ContractFailure]:
    """Events after the window's end would be the future of every logged request."""
    after_end = frame["event_time"] >= window.end
    return failure_from_mask(dataset, frame, "event_time", f"event_time < {window.end}", after_end, max_examples)
