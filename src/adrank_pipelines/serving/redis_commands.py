"""The typed subset of the synchronous redis-py client that the Redis stores use.

redis-py types its command replies as ``Awaitable[T] | T`` (one signature for its sync and asyncio
clients) and leaves some methods unannotated; these protocols state the synchronous replies of a
client made with ``decode_responses=True``, so the stores stay strictly typed.
"""

from __future__ import annotations

from collections.abc import Sequence
from types import TracebackType
from typing import Protocol, cast

import redis


class RedisScript(Protocol):
    def __call__(self, keys: Sequence[str], args: Sequence[str]) -> list[int | str]: ...


class RedisPipeline(Protocol):
    def rpush(self, name: str, *values: str) -> object: ...
    def ltrim(self, name: str, start: int, end: int) -> object: ...
    def hincrby(self, name: str, key: str, amount: int = 1) -> object: ...
    def execute(self) -> list[object]: ...
    def __enter__(self) -> RedisPipeline: ...
    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None: ...


class RedisCommands(Protocol):
    def ping(self) -> bool: ...
    def hget(self, name: str, key: str) -> str | None: ...
    def hgetall(self, name: str) -> dict[str, str]: ...
    def lrange(self, name: str, start: int, end: int) -> list[str]: ...
    def delete(self, *names: str) -> int: ...
    def pipeline(self, transaction: bool = True) -> RedisPipeline: ...
    def close(self) -> None: ...


def commands(client: redis.Redis) -> RedisCommands:
    """The client seen through ``RedisCommands``; it must decode responses (``decode_responses=True``)."""
    if not client.get_connection_kwargs().get("decode_responses", False):
        raise ValueError("the Redis client must be created with decode_responses=True")
    return cast(RedisCommands, client)


def script(client: redis.Redis, source: str) -> RedisScript:
    """A Lua script registered on the client: run by EVALSHA, by EVAL when the server lacks it."""
    return cast(RedisScript, client.register_script(source))
