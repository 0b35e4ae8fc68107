"""The budget ledger: each advertiser's recorded spend, charged atomically against its daily budget.

A charge is accepted only while the advertiser's spend is still below its budget, and then adds the
whole price, so one accepted click may overshoot the budget by its own price. The check and the add
are one atomic step (a SQLite ``BEGIN IMMEDIATE`` transaction, or one Redis Lua script), so across N
concurrent workers no advertiser ends above its budget by more than one click per worker.

The day is not part of the key: the ledger holds the spend of its current budget day only. The
service moves it on with ``start_day(day)`` when a request or an event of a later day arrives: the
first caller of a later day clears every advertiser's spend, atomically, so several workers that
see the new day start it once.
"""

from __future__ import annotations

import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import redis

from adrank_pipelines.serving.redis_commands import commands, script
from adrank_pipelines.serving.state_params import PARAMS_PATH


@dataclass(frozen=True)
class ChargeResult:
    """Whether the charge was accepted, and the advertiser's spend after it (unchanged when refused)."""

    accepted: bool
    spend: float


class BudgetLedger(Protocol):
    """Per-advertiser spend of the current budget day."""

    def charge(self, advertiser_id: int, price: float, budget: float) -> ChargeResult:
        """Add ``price`` to the advertiser's spend if that spend is still below ``budget``."""
        ...

    def spend(self, advertiser_id: int) -> float:
        """The advertiser's recorded spend (0.0 when it has none)."""
        ...

    def spends(self) -> dict[int, float]:
        """Every advertiser with a recorded spend."""
        ...

    def start_day(self, day: int) -> bool:
        """Make ``day`` (days since 1970-01-01, UTC) the budget day. A later day than the recorded one
        forgets every spend; the recorded day or an earlier one changes nothing, and the first day a
        ledger records clears nothing (there is no earlier day's spend to forget). True when the call
        forgot the spend."""
        ...

    def close(self) -> None: ...


def _check_charge(price: float, budget: float) -> None:
    if not (math.isfinite(price) and price >= 0.0):
        raise ValueError(f"price must be a finite number >= 0; got {price!r}")
    if not (math.isfinite(budget) and budget >= 0.0):
        raise ValueError(f"budget must be a finite number >= 0; got {budget!r}")


def _create_schema(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("CREATE TABLE IF NOT EXISTS budget_spend (advertiser_id INTEGER PRIMARY KEY, spend REAL NOT NULL)")
    conn.execute(
        "CREATE TABLE IF NOT EXISTS budget_day (singleton INTEGER PRIMARY KEY CHECK (singleton = 0), "
        "day INTEGER NOT NULL)"
    )


def _retry_while_locked(step: Callable[[], None], *, deadline_s: float) -> None:
    """Run ``step`` again while SQLite reports the file locked, until ``deadline_s`` has passed.

    Switching a new file to WAL needs an exclusive lock, and SQLite answers that request with
    "database is locked" at once, without its busy handler, while another process opens the same
    file: several workers starting together would otherwise fail at random.
    """
    give_up_at = time.monotonic() + deadline_s
    pause_s = 0.005
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as error:
            if "locked" not in str(error) or time.monotonic() >= give_up_at:
                raise
        time.sleep(pause_s)
        pause_s = min(2 * pause_s, 0.2)


class SqliteBudgetLedger:
    """The embedded ledger: a SQLite file in WAL mode, safe across threads and processes on one host.

    Each charge is one ``BEGIN IMMEDIATE`` transaction (it takes the write lock before reading the
    spend), committed with ``synchronous=FULL``, so a process (or host) restart loses no accepted charge.
    """

    def __init__(self, path: str | Path, *, busy_timeout_s: float = 30.0) -> None:
        self._path = Path(path)
        try:
            self._path.parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: no implicit transactions, each charge opens its own.
            self._conn = sqlite3.connect(
                self._path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
            )
            _retry_while_locked(lambda: _create_schema(self._conn), deadline_s=busy_timeout_s)
        except (OSError, sqlite3.Error) as error:
            raise RuntimeError(f"{PARAMS_PATH}.budget_path: cannot open {str(self._path)!r}: {error}") from error
        # One connection shared by the threads of this process: a lock serialises them.
        self._lock = threading.Lock()

    @contextmanager
    def _write_transaction(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction (the write lock is taken before anything is read)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise

    def charge(self, advertiser_id: int, price: float, budget: float) -> ChargeResult:
        _check_charge(price, budget)
        with self._write_transaction() as conn:
            row = conn.execute("SELECT spend FROM budget_spend WHERE advertiser_id = ?", (advertiser_id,)).fetchone()
            spend = 0.0 if row is None else float(row[0])
            accepted = spend < budget
            if accepted:
                spend += price
                conn.execute(
                    "INSERT INTO budget_spend (advertiser_id, spend) VALUES (?, ?) "
                    "ON CONFLICT (advertiser_id) DO UPDATE SET spend = excluded.spend",
                    (advertiser_id, spend),
                )
        return ChargeResult(accepted=accepted, spend=spend)

    def spend(self, advertiser_id: int) -> float:
        with self._lock:
            row = self._conn.execute(
                "SELECT spend FROM budget_spend WHERE advertiser_id = ?", (advertiser_id,)
            ).fetchone()
        return 0.0 if row is None else float(row[0])

    def spends(self) -> dict[int, float]:
        with self._lock:
            rows = self._conn.execute("SELECT advertiser_id, spend FROM budget_spend").fetchall()
        return {int(advertiser_id): float(spend) for advertiser_id, spend in rows}

    def start_day(self, day: int) -> bool:
        with self._write_transaction() as conn:
            row = conn.execute("SELECT day FROM budget_day").fetchone()
            later = row is not None and day > int(row[0])
            if later:
                conn.execute("DELETE FROM budget_spend")
            if row is None or later:
                conn.execute(
                    "INSERT INTO budget_day (singleton, day) VALUES (0, ?) "
                    "ON CONFLICT (singleton) DO UPDATE SET day = excluded.day",
                    (day,),
                )
        return later

    def close(self) -> None:
        with self._lock:
            self._conn.close()


# KEYS[1]: the spend hash; ARGV: advertiser id, price, budget. Lua numbers are doubles; replies are
# strings, since Redis truncates a Lua number reply to an integer.
_CHARGE_SCRIPT = """
local spend = redis.call('HGET', KEYS[1], ARGV[1])
if spend == false then spend = '0' end
if tonumber(spend) < tonumber(ARGV[3]) then
    return {1, redis.call('HINCRBYFLOAT', KEYS[1], ARGV[1], ARGV[2])}
end
return {0, spend}
"""


# KEYS[1]: the spend hash, KEYS[2]: the budget day; ARGV[1]: the day to start. Replies {1} when it cleared the spend.
_START_DAY_SCRIPT = """
local current = redis.call('GET', KEYS[2])
if current == false then
    redis.call('SET', KEYS[2], ARGV[1])
    return {0}
end
if tonumber(ARGV[1]) > tonumber(current) then
    redis.call('DEL', KEYS[1])
    redis.call('SET', KEYS[2], ARGV[1])
    return {1}
end
return {0}
"""


class RedisBudgetLedger:
    """The Redis ledger: one hash ``<key_prefix>:budget:spend`` (advertiser id -> spend) and the budget
    day ``<key_prefix>:budget:day``.

    Each charge is one Lua script (EVALSHA, EVAL when the server has not cached it), which Redis runs
    atomically. The spend lives in the server, so a client restart loses nothing; a server restart
    keeps it only if the server persists its data (``appendonly yes`` with ``appendfsync everysec`` or
    ``always``): configure that in production.
    """

    def __init__(self, client: redis.Redis, key_prefix: str) -> None:
        self._client = commands(client)
        self._key, self._day_key = f"{key_prefix}:budget:spend", f"{key_prefix}:budget:day"
        self._script = script(client, _CHARGE_SCRIPT)
        self._start_day_script = script(client, _START_DAY_SCRIPT)

    def charge(self, advertiser_id: int, price: float, budget: float) -> ChargeResult:
        _check_charge(price, budget)
        reply = self._script(keys=[self._key], args=[str(advertiser_id), repr(float(price)), repr(float(budget))])
        accepted, spend = reply
        return ChargeResult(accepted=int(accepted) == 1, spend=float(spend))

    def spend(self, advertiser_id: int) -> float:
        value = self._client.hget(self._key, str(advertiser_id))
        return 0.0 if value is None else float(value)

    def spends(self) -> dict[int, float]:
        return {int(advertiser_id): float(spend) for advertiser_id, spend in self._client.hgetall(self._key).items()}

    def start_day(self, day: int) -> bool:
        (cleared,) = self._start_day_script(keys=[self._key, self._day_key], args=[str(int(day))])
        return int(cleared) == 1

    def close(self) -> None:
        self._client.close()
