"""Replaying a logged rollout with an incident of known start: how long until the rollback."""

import json
from datetime import datetime, timedelta

import pandas as pd
import pytest

from adrank_pipelines.lifecycle.breach_replay import Incident, incident_starts, logged_rollouts, rollback_delay
from adrank_pipelines.lifecycle.params import RolloutParams
from adrank_pipelines.lifecycle.rollout import WindowObservation, play_rollout

PARAMS = RolloutParams(min_step_minutes=120)
START = datetime(2026, 1, 12)
HEALTHY = Incident(START, p99_ms=None, error_rate=0.0)


def _healthy(requests: int):
    def observe(share: float, start: datetime, end: datetime) -> WindowObservation:
        champion, challenger = round(20_000 * (1 - share)), round(20_000 * share)
        return WindowObservation(start, end, champion, round(champion * 0.03), challenger, round(challenger * 0.03),
                                 requests, 0, 80.0)  # fmt: skip

    return observe


def _log(requests: int, version: int = 7) -> pd.DataFrame:
    """A scenario-shaped decision log of one healthy rollout whose windows serve ``requests`` each."""
    _, events = play_rollout(START, START + timedelta(days=1), _healthy(requests), PARAMS)
    rows = [
        {"time": e.time, "decision": f"rollout_{e.action}", "version": version, "evidence": json.dumps(e.evidence)}
        for e in events
    ]
    return pd.DataFrame(rows)


def test_the_logged_windows_are_read_back_as_they_were_served():
    (rollout,) = logged_rollouts(_log(requests=300))
    assert rollout.version == 7 and rollout.start == START
    assert len(rollout.windows) == 12  # three partial steps of 120 minutes in 30-minute windows
    assert rollout.windows[0] == _healthy(300)(0.05, START, START + timedelta(minutes=30))
    assert rollback_delay(rollout, HEALTHY, PARAMS) is None  # nothing breaches: the rollout completes


@pytest.mark.parametrize("minute", [0, 10, 29, 100, 239, 300])
@pytest.mark.parametrize("incident", [(400.0, 0.0), (None, 0.05)], ids=["latency", "errors"])
def test_with_enough_requests_an_incident_is_rolled_back_within_an_hour_of_its_start(minute, incident):
    (rollout,) = logged_rollouts(_log(requests=300))
    start = START + timedelta(minutes=minute)
    delay = rollback_delay(rollout, Incident(start, *incident), PARAMS)
    assert delay is not None and 0 < delay <= 60
    # At the end of the incident's own window, or the next one when too few of its requests were hit.
    assert delay in ((minute // 30 + 1) * 30 - minute, (minute // 30 + 2) * 30 - minute)


def test_an_incident_in_windows_too_thin_to_pass_is_read_in_its_own_window():
    # 20 requests a window, below min_requests (25): a healthy window cannot pass alone, a breach shows at once.
    (rollout,) = logged_rollouts(_log(requests=20))
    assert rollback_delay(rollout, Incident(START, 400.0, 0.0), PARAMS) == 30.0
    assert rollback_delay(rollout, Incident(START + timedelta(minutes=30), None, 0.05), PARAMS) == 30.0
    # Four of the window's requests hit, one in twenty failing: no failed request to read until the next window.
    assert rollback_delay(rollout, Incident(START + timedelta(minutes=23), None, 0.05), PARAMS) == 37.0


def test_incident_starts_stop_before_the_log_does_and_a_log_without_its_start_is_refused():
    (rollout,) = logged_rollouts(_log(requests=300))
    starts = list(incident_starts(rollout, every_minutes=60, margin_minutes=60))
    assert starts[0] == START and starts[-1] == START + timedelta(hours=5)
    log = _log(requests=300)
    with pytest.raises(ValueError, match="windows of version 7 but not its rollout_start"):
        logged_rollouts(log.loc[log["decision"] != "rollout_start"])
