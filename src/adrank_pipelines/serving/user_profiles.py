"""The user profile store: each user's most recent events and their impression / click counters.

A profile keeps the ``max_events`` most recent events of a user (older ones are dropped) and two
counters over every event ever recorded for that user (impressions, clicks), from which the service
computes a past-only CTR: read the profile before recording the current request's events.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import redis

from adrank_pipelines.serving.redis_commands import commands


class EventKind(StrEnum):
    IMPRESSION = "impression"
    CLICK = "click"
    CONVERSION = "conversion"
    VIEW = "view"  # an organic (non-ad) view: its ad_id is 0


@dataclass(frozen=True)
class UserEvent:
    """One event of a user: ``ad_id`` 0 for an organic view, ``event_time`` in epoch seconds."""

    kind: EventKind
    ad_id: int
    category: str
    event_time: float

    def to_json(self) -> str:
        return json.dumps(
            {"kind": self.kind.value, "ad_id": self.ad_id, "category": self.category, "event_time": self.event_time},
            separators=(",", ":"),
        )

    @classmethod
    def from_json(cls, text: str | bytes) -> UserEvent:
        fields = json.loads(text)
        return cls(
            kind=EventKind(fields["kind"]),
            ad_id=int(fields["ad_id"]),
            category=str(fields["category"]),
            event_time=float(fields["event_time"]),
        )


@dataclass(frozen=True)
class UserCounters:
    """Every impression and click recorded for a user (not capped like the events)."""

    impressions: int = 0
    clicks: int = 0

    def after(self, kind: EventKind) -> UserCounters:
        if kind is EventKind.IMPRESSION:
            return UserCounters(self.impressions + 1, self.clicks)
        if kind is EventKind.CLICK:
            return UserCounters(self.impressions, self.clicks + 1)
        return self


class UserProfileStore(Protocol):
    """Per-user recent events (capped) and counters."""

    @property
    def max_events(self) -> int: ...

    def record(self, user_id: int, event: UserEvent) -> None:
        """Append the event (the newest) and drop the oldest beyond ``max_events``; count it."""
        ...

    def record_histories(self, histories: Mapping[int, Sequence[UserEvent]]) -> None:
        """Record each user's events, oldest first, as ``record`` would one by one (a bulk load)."""
        ...

    def recent(self, user_id: int, limit: int | None = None) -> list[UserEvent]:
        """The user's ``limit`` most recent events (all kept ones when None), oldest first; [] if unknown."""
        ...

    def counters(self, user_id: int) -> UserCounters:
        """The user's counters; zero for an unknown user."""
        ...

    def close(self) -> None: ...


def _check_limit(limit: int | None) -> None:
    if limit is not None and limit < 0:
        raise ValueError(f"limit must be >= 0; got {limit}")


class InMemoryUserProfileStore:
    """The embedded store: a dict of bounded deques in process memory, guarded by a lock.

    Nothing survives the process: profiles are rebuilt from the event logs after a restart, which is
    acceptable for the embedded default (one process, tests, demos). Use the Redis backend to share
    profiles between workers or keep them across restarts.
    """

    def __init__(self, max_events: int) -> None:
        if max_events < 1:
            raise ValueError(f"max_events must be >= 1; got {max_events}")
        self._max_events = max_events
        self._events: dict[int, deque[UserEvent]] = {}
        self._counters: dict[int, UserCounters] = {}
        self._lock = threading.Lock()

    @property
    def max_events(self) -> int:
        return self._max_events

    def record(self, user_id: int, event: UserEvent) -> None:
        with self._lock:
            events = self._events.setdefault(user_id, deque(maxlen=self._max_events))
            events.append(event)
            self._counters[user_id] = self._counters.get(user_id, UserCounters()).after(event.kind)

    def record_histories(self, histories: Mapping[int, Sequence[UserEvent]]) -> None:
        for user_id, events in histories.items():
            for event in events:
                self.record(user_id, event)

    def recent(self, user_id: int, limit: int | None = None) -> list[UserEvent]:
        _check_limit(limit)
        with self._lock:
            events = list(self._events.get(user_id, ()))
        return events if limit is None else events[len(events) - min(limit, len(events)) :]

    def counters(self, user_id: int) -> UserCounters:
        with self._lock:
            return self._counters.get(user_id, UserCounters())

    def close(self) -> None:
        with self._lock:
            self._events.clear()
            self._counters.clear()


_USERS_PER_ROUND_TRIP = 500


class RedisUserProfileStore:
    """The Redis store: per user a list ``<key_prefix>:profile:<user_id>:events`` (JSON events, oldest
    first) trimmed to ``max_events`` and a hash ``<key_prefix>:profile:<user_id>:counters``.

    A record is one MULTI/EXEC transaction (RPUSH, LTRIM, HINCRBY), so readers never see the list
    longer than ``max_events`` or the counters out of step with it.
    """

    def __init__(self, client: redis.Redis, key_prefix: str, max_events: int) -> None:
        if max_events < 1:
            raise ValueError(f"max_events must be >= 1; got {max_events}")
        self._client = commands(client)
        self._prefix = f"{key_prefix}:profile"
        self._max_events = max_events

    @property
    def max_events(self) -> int:
        return self._max_events

    def _events_key(self, user_id: int) -> str:
        return f"{self._prefix}:{user_id}:events"

    def _counters_key(self, user_id: int) -> str:
        return f"{self._prefix}:{user_id}:counters"

    def record(self, user_id: int, event: UserEvent) -> None:
        events_key = self._events_key(user_id)
        with self._client.pipeline(transaction=True) as pipe:
            pipe.rpush(events_key, event.to_json())
            pipe.ltrim(events_key, -self._max_events, -1)
            if event.kind in (EventKind.IMPRESSION, EventKind.CLICK):
                pipe.hincrby(self._counters_key(user_id), f"{event.kind.value}s", 1)
            pipe.execute()

    def record_histories(self, histories: Mapping[int, Sequence[UserEvent]]) -> None:
        # One round trip per chunk of users instead of one per event: seeding 60k users event by event
        # took minutes. Seeding runs before the service answers, so no reader needs a transaction.
        users = [user for user, events in histories.items() if events]
        for first in range(0, len(users), _USERS_PER_ROUND_TRIP):
            with self._client.pipeline(transaction=False) as pipe:
                for user_id in users[first : first + _USERS_PER_ROUND_TRIP]:
                    events = histories[user_id]
                    events_key, counters_key = self._events_key(user_id), self._counters_key(user_id)
                    pipe.rpush(events_key, *(event.to_json() for event in events))
                    pipe.ltrim(events_key, -self._max_events, -1)
                    for kind in (EventKind.IMPRESSION, EventKind.CLICK):
                        count = sum(event.kind is kind for event in events)
                        if count:
                            pipe.hincrby(counters_key, f"{kind.value}s", count)
                pipe.execute()

    def recent(self, user_id: int, limit: int | None = None) -> list[UserEvent]:
        _check_limit(limit)
        if limit == 0:
            return []
        start = 0 if limit is None else -limit
        return [UserEvent.from_json(text) for text in self._client.lrange(self._events_key(user_id), start, -1)]

    def counters(self, user_id: int) -> UserCounters:
        values = self._client.hgetall(self._counters_key(user_id))
        return UserCounters(impressions=int(values.get("impressions", 0)), clicks=int(values.get("clicks", 0)))

    def close(self) -> None:
        self._client.close()
