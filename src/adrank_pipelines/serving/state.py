"""Open the online state (budget ledger and user profiles) from ``OnlineStateParams``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import redis

from adrank_pipelines.serving.budget_ledger import BudgetLedger, RedisBudgetLedger, SqliteBudgetLedger
from adrank_pipelines.serving.redis_commands import commands
from adrank_pipelines.serving.state_params import PARAMS_PATH, OnlineStateParams
from adrank_pipelines.serving.user_profiles import InMemoryUserProfileStore, RedisUserProfileStore, UserProfileStore


class OnlineStateError(RuntimeError):
    """The online state cannot be opened; the message names the parameter at fault."""


@dataclass
class OnlineState:
    """The service's two stores; ``close()`` releases their files and connections."""

    budget: BudgetLedger
    profiles: UserProfileStore

    def close(self) -> None:
        self.budget.close()
        self.profiles.close()

    def __enter__(self) -> OnlineState:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def redacted_url(url: str) -> str:
    """The URL without its password, fit for an error message or a log line."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return urlunsplit(parts._replace(netloc=user + netloc))


def connect_redis(params: OnlineStateParams, *, timeout_s: float = 5.0) -> redis.Redis:
    """A client for ``params.redis_url`` that has answered a PING (strings decoded as UTF-8)."""
    where = f"{PARAMS_PATH}.redis_url"
    try:
        client = redis.Redis.from_url(
            params.redis_url, decode_responses=True, socket_timeout=timeout_s, socket_connect_timeout=timeout_s
        )
    except ValueError as error:
        raise OnlineStateError(f"{where}: invalid URL {redacted_url(params.redis_url)!r}: {error}") from error
    try:
        commands(client).ping()
    except redis.RedisError as error:
        commands(client).close()
        raise OnlineStateError(f"{where}: cannot connect to {redacted_url(params.redis_url)}: {error}") from error
    return client


def open_state(params: OnlineStateParams) -> OnlineState:
    """Open both stores on the configured backend.

    ``embedded``: the ledger in the SQLite file ``budget_path`` (created with its folder), the profiles
    in this process's memory. ``redis``: both in the server at ``redis_url`` (one shared client),
    under ``key_prefix``.
    """
    if params.backend == "redis":
        client = connect_redis(params)
        return OnlineState(
            budget=RedisBudgetLedger(client, params.key_prefix),
            profiles=RedisUserProfileStore(client, params.key_prefix, params.max_events),
        )
    try:
        budget = SqliteBudgetLedger(Path(params.budget_path))
    except RuntimeError as error:
        raise OnlineStateError(str(error)) from error
    return OnlineState(budget=budget, profiles=InMemoryUserProfileStore(params.max_events))
