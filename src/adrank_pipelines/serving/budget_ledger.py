"""The budget ledger: each advertiser's recorded spend, charged atomically against its daily budget.

A charge is accepted only while the advertiser's spend is still below its budget, and then adds the
whole price, so one accepted click may overshoot the budget by its own price. The check and the add
are one atomic step (a SQLite ``BEGIN IMMEDIATE`` transaction, or one Redis Lua script), so across N
concurrent workers no advertiser ends above its budget by more than one click per worker.

The day is not part of the key: the ledger holds the current budget day only, and the service calls
``reset_day()`` when a new budget day starts (it clears every advertiser's spend at once).
"""

from __future__ import annotations

import math
import sqlite3
import threading
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

    def reset_day(self) -> None:
        """Start a new budget day: forget every spend."""
        ...

    def close(self) -> None: ...


def _check_charge(price: float, budget: float) -> None:
    if not (math.isfinite(price) and price >= 0.0):
        raise ValueError(f"price must be a finite number >= 0; got {price!r}")
    if not (math.isfinite(budget) and budget >= 0.0):
        raise ValueError(f"budget must be a finite number >= 0; got {budget!r}")


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
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS budget_spend (advertiser_id INTEGER PRIMARY KEY, spend REAL NOT NULL)"
            )
        except (OSError, sqlite3.Error) as error:
            raise RuntimeError(f"{PARAMS_PATH}.budget_path: cannot open {str(self._path)!r}: {error}") from error
        # One connection shared by the threads of this process: a lock serialises them.
        self._lock = threading.Lock()

    def charge(self, advertiser_id: int, price: float, budget: float) -> ChargeResult:
        _check_charge(price, budget)
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                row = self._conn.execute(
                    "SELECT spend FROM budget_spend WHERE advertiser_id = ?", (advertiser_id,)
                ).fetchone()
                spend = 0.0 if row is None else float(row[0])
                accepted = spend < budget
                if accepted:
                    spend += price
                    self._conn.execute(
                        "INSERT INTO budget_spend (advertiser_id, spend) VALUES (?, ?) "
                        "ON CONFLICT (advertiser_id) DO UPDATE SET spend = excluded.spend",
                        (advertiser_id, spend),
                    )
                self._conn.execute("COMMIT")
            except BaseException:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise
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

    def reset_day(self) -> None:
        with self._lock:
            self._conn.execute("DELETE FROM budget_spend")

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


class RedisBudgetLedger:
    """The Redis ledger: one hash ``<key_prefix>:budget:spend`` (advertiser id -> spend).

    Each charge is one Lua script (EVALSHA, EVAL when the server has not cached it), which Redis runs
    atomically. The spend lives in the server, so a client restart loses nothing; a server restart
    keeps it only if the server persists its data (``appendonly yes`` with ``appendfsync everysec`` or
    ``always``): configure that in production.
    """

    def __init__(self, client: redis.Redis, key_prefix: str) -> None:
        self._client = commands(client)
        self._key = f"{key_prefix}:budget:spend"
        self._script = script(client, _CHARGE_SCRIPT)

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

    def reset_day(self) -> None:
        self._client.delete(self._key)

    def close(self) -> None:
        self._client.close()
