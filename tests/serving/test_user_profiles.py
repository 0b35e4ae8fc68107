"""The user profile store on both backends: newest events kept, oldest first, counters."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from adrank_pipelines.serving.state import OnlineState
from adrank_pipelines.serving.user_profiles import EventKind, UserCounters, UserEvent


def _event(kind: EventKind, ad_id: int, second: float) -> UserEvent:
    return UserEvent(kind=kind, ad_id=ad_id, category="sports" if ad_id % 2 else "travel", event_time=1.7e9 + second)


def test_an_unknown_user_has_no_events_and_zero_counters(open_test_state: Callable[[], OnlineState]):
    profiles = open_test_state().profiles
    assert profiles.recent(404) == []
    assert profiles.recent(404, 3) == []
    assert profiles.counters(404) == UserCounters(impressions=0, clicks=0)


def test_events_come_back_oldest_first_and_unchanged(open_test_state: Callable[[], OnlineState]):
    profiles = open_test_state().profiles
    events = [
        _event(EventKind.VIEW, 0, 0.5),
        _event(EventKind.IMPRESSION, 11, 1.25),
        _event(EventKind.CLICK, 11, 2.0),
        _event(EventKind.CONVERSION, 11, 30.125),
    ]
    for event in events:
        profiles.record(1, event)
    assert profiles.recent(1) == events
    assert profiles.recent(1, 2) == events[-2:]
    assert profiles.recent(1, 100) == events
    assert profiles.recent(1, 0) == []


def test_the_profile_keeps_only_the_newest_max_events(open_test_state: Callable[[], OnlineState]):
    profiles = open_test_state().profiles
    assert profiles.max_events == 5
    events = [_event(EventKind.IMPRESSION, ad_id, float(ad_id)) for ad_id in range(1, 13)]
    for event in events:
        profiles.record(2, event)
    assert profiles.recent(2) == events[-5:]
    assert profiles.recent(2, 3) == events[-3:]


def test_counters_count_every_impression_and_click_beyond_the_cap(open_test_state: Callable[[], OnlineState]):
    profiles = open_test_state().profiles
    for second in range(8):
        profiles.record(3, _event(EventKind.IMPRESSION, 5, float(second)))
    profiles.record(3, _event(EventKind.CLICK, 5, 9.0))
    profiles.record(3, _event(EventKind.CONVERSION, 5, 10.0))
    profiles.record(3, _event(EventKind.VIEW, 0, 11.0))
    profiles.record(4, _event(EventKind.CLICK, 7, 12.0))

    assert profiles.counters(3) == UserCounters(impressions=8, clicks=1)
    assert profiles.counters(4) == UserCounters(impressions=0, clicks=1)
    assert len(profiles.recent(3)) == 5


def test_a_negative_limit_is_refused(open_test_state: Callable[[], OnlineState]):
    with pytest.raises(ValueError, match="limit must be >= 0"):
        open_test_state().profiles.recent(1, -1)


def test_a_bulk_load_equals_recording_the_events_one_by_one(open_test_state: Callable[[], OnlineState]):
    profiles = open_test_state().profiles
    kinds = [EventKind.IMPRESSION, EventKind.CLICK, EventKind.VIEW, EventKind.IMPRESSION]
    histories = {
        user: [_event(kinds[i % len(kinds)], 10 + i, float(i)) for i in range(user + 6)]  # more than max_events (5)
        for user in (1, 2, 3)
    } | {4: []}
    bulk_user = 100  # the bulk-loaded copy of user u is user u + 100, in the same store
    for user, events in histories.items():
        for event in events:
            profiles.record(user, event)
    profiles.record_histories({user + bulk_user: events for user, events in histories.items()})
    for user in histories:
        assert profiles.recent(user + bulk_user) == profiles.recent(user)
        assert profiles.counters(user + bulk_user) == profiles.counters(user)
    assert profiles.counters(3 + bulk_user) == UserCounters(impressions=5, clicks=2)
