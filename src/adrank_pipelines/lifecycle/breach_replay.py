"""How fast a rollout reacts to a breach with a known start, measured on a played scenario's own traffic.

A truly worse challenger breaches from its first request, but a CTR drop shows only as evidence accumulates; an
operational breach (latency or errors past their limits) has a start one can point at. This replays each logged
rollout's windows, the counts the scenario really served, through the same state machine with an incident from
a chosen minute on: the incident's requests spread evenly over the part of the window after its start, a window
whose incident requests reach one percent of its requests reads the incident's p99, and the incident's requests
fail at its error rate (rounded to the nearest whole request). The delay is the rollback's time minus the incident's start.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import pandas as pd

from adrank_pipelines.lifecycle.params import RolloutParams
from adrank_pipelines.lifecycle.rollout import Action, WindowObservation, read_window, start_rollout

WINDOW_ACTIONS = {f"rollout_{action}" for action in Action if action != Action.START}


@dataclass(frozen=True)
class LoggedRollout:
    version: int
    start: datetime
    windows: list[WindowObservation]


@dataclass(frozen=True)
class Incident:
    """From ``start`` on, the challenger's requests take ``p99_ms`` at the 99th percentile (None: as logged) and
    fail at ``error_rate``."""

    start: datetime
    p99_ms: float | None
    error_rate: float

    def apply(self, window: WindowObservation) -> WindowObservation:
        after = min(max((window.end - max(self.start, window.start)) / (window.end - window.start), 0.0), 1.0)
        hit = math.floor(window.challenger_requests * after)
        if hit == 0:
            return window
        slow = self.p99_ms is not None and hit >= math.ceil(0.01 * window.challenger_requests)
        p99 = self.p99_ms if slow else window.challenger_p99_ms
        errors = min(window.challenger_requests, window.challenger_errors + math.floor(hit * self.error_rate + 0.5))
        return replace(window, challenger_p99_ms=p99, challenger_errors=errors)


def _evidence(value: Any) -> dict[str, Any]:
    return json.loads(value) if isinstance(value, str) else dict(value)


def _observation(window: dict[str, Any]) -> WindowObservation:
    times = {key: datetime.fromisoformat(window[key]) for key in ("start", "end")}
    return WindowObservation(**{**window, **times})


def logged_rollouts(decisions: pd.DataFrame) -> list[LoggedRollout]:
    """Every rollout of a scenario's decision log: its start and the windows it read, in order."""
    rollouts = []
    logged = decisions.loc[decisions["decision"].str.startswith("rollout_")]
    for version in logged["version"].unique():
        rows = logged.loc[logged["version"] == version]
        starts = rows.loc[rows["decision"] == "rollout_start", "time"]
        if starts.empty:
            raise ValueError(f"the decision log holds windows of version {version} but not its rollout_start")
        windows = rows.loc[rows["decision"].isin(WINDOW_ACTIONS), "evidence"]
        observations = [_observation(_evidence(evidence)["window"]) for evidence in windows]
        rollouts.append(LoggedRollout(int(version), pd.Timestamp(starts.iloc[0]).to_pydatetime(), observations))
    return rollouts


def rollback_delay(rollout: LoggedRollout, incident: Incident, params: RolloutParams) -> float | None:
    """Minutes from the incident's start to the rollback it causes; None when the logged windows end first."""
    state, _ = start_rollout(rollout.start, params)
    for window in rollout.windows:
        state, event = read_window(state, incident.apply(window), params)
        if event.action == Action.ROLLBACK:
            return max((event.time - incident.start) / timedelta(minutes=1), 0.0)
        if event.action == Action.COMPLETE:
            return None
    return None


def incident_starts(rollout: LoggedRollout, every_minutes: int, margin_minutes: int) -> Iterator[datetime]:
    """Incident starts every ``every_minutes`` from the rollout's start, up to ``margin_minutes`` before its last
    logged window ends (a later start could not be read before the log does)."""
    if not rollout.windows:
        return
    last = rollout.windows[-1].end - timedelta(minutes=margin_minutes)
    start = rollout.start
    while start <= last:
        yield start
        start += timedelta(minutes=every_minutes)
