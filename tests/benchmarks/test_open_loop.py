"""The open-loop load generator against a tiny aiohttp server on a loopback port.

The server runs its own event loop in a background thread (the generator calls ``asyncio.run``) and
counts, server-side, how many requests it received and how many it held at once. Timing assertions
use generous bounds: they check the mechanism, not the machine's speed.
"""

from __future__ import annotations

import asyncio
import json
import math
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from aiohttp import web

from benchmarks.open_loop import LoadResult, find_max_rate, poisson_schedule, run_open_loop


@dataclass
class ServerStats:
    received: int = 0
    in_flight: int = 0
    max_in_flight: int = 0


@contextmanager
def serve(delay_s: float = 0.0, status: int = 200) -> Iterator[tuple[str, ServerStats]]:
    """A server whose POST /score answers `status` with a fixed JSON body after `delay_s`."""
    stats = ServerStats()

    async def score(request: web.Request) -> web.Response:
        await request.read()
        stats.received += 1
        stats.in_flight += 1
        stats.max_in_flight = max(stats.max_in_flight, stats.in_flight)
        try:
            await asyncio.sleep(delay_s)
        finally:
            stats.in_flight -= 1
        return web.json_response({"score": 0.5}, status=status)

    app = web.Application()
    app.router.add_post("/score", score)
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    loop.run_until_complete(runner.setup())
    loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", 0, shutdown_timeout=0.5).start())
    port = runner.addresses[0][1]
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}", stats
    finally:
        asyncio.run_coroutine_threadsafe(runner.cleanup(), loop).result(timeout=5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=5)
        loop.close()


def body(i: int) -> dict[str, Any]:
    return {"request": i}


def test_sends_the_schedule_bounded_by_max_requests() -> None:
    with serve() as (url, stats):
        result = run_open_loop(url, "/score", body, rate_per_s=500, duration_s=10.0, max_requests=25, seed=1)
    assert result.sent == len(poisson_schedule(500, 10.0, 25, seed=1)) == 25
    assert stats.received == 25
    assert result.ok == 25 and result.errors == 0 and result.error_rate == 0.0
    assert result.throughput_per_s > 0


def test_duration_bounds_the_schedule_when_it_comes_first() -> None:
    expected = len(poisson_schedule(100, 0.2, 1000, seed=2))
    assert 0 < expected < 1000
    with serve() as (url, stats):
        result = run_open_loop(url, "/score", body, rate_per_s=100, duration_s=0.2, max_requests=1000, seed=2)
    assert result.sent == stats.received == expected


def test_warmup_requests_are_sent_but_not_counted() -> None:
    with serve() as (url, stats):
        result = run_open_loop(url, "/score", body, 500, 10.0, max_requests=5, seed=3, warmup_requests=3)
    assert result.sent == 5
    assert stats.received == 8


def test_latency_includes_the_servers_delay() -> None:
    with serve(delay_s=0.05) as (url, _):
        result = run_open_loop(url, "/score", body, rate_per_s=100, duration_s=10.0, max_requests=10, seed=4)
    assert result.ok == 10
    assert result.p50_ms >= 50.0
    assert result.p50_ms <= result.p90_ms <= result.p99_ms <= result.p999_ms


def test_requests_are_sent_without_waiting_for_answers() -> None:
    with serve(delay_s=0.2) as (url, stats):
        result = run_open_loop(url, "/score", body, rate_per_s=50, duration_s=0.4, max_requests=1000, seed=5)
    assert result.sent >= 10
    assert stats.max_in_flight > 1
    # Closed loop would need sent * 200 ms (>= 2 s); open loop ends about one delay after the last send.
    assert result.duration_s < 1.5


def test_latency_is_counted_from_the_intended_send_time() -> None:
    def slow_body(i: int) -> dict[str, Any]:
        time.sleep(0.01)  # the generator falls behind a 1000/s schedule by ~9 ms a request
        return body(i)

    with serve() as (url, _):
        result = run_open_loop(url, "/score", slow_body, rate_per_s=1000, duration_s=10.0, max_requests=20, seed=6)
    assert result.max_send_lag_ms >= 50.0
    assert np.all(result.latencies_s >= result.send_lags_s)
    assert result.p99_ms >= result.p99_send_lag_ms


def test_server_errors_count_as_errors_with_their_latency() -> None:
    with serve(status=500) as (url, _):
        result = run_open_loop(url, "/score", body, rate_per_s=500, duration_s=10.0, max_requests=10, seed=7)
    assert result.sent == result.errors == 10
    assert result.ok == 0
    assert result.error_rate == 1.0
    assert not math.isnan(result.p50_ms)
    assert result.to_dict()["errors_by_kind"] == {"HTTP 500": 10}


def test_a_timeout_is_an_error_counted_at_the_timeout() -> None:
    with serve(delay_s=0.6) as (url, _):
        result = run_open_loop(url, "/score", body, 500, 10.0, max_requests=3, seed=8, timeout_s=0.1)
    assert result.error_rate == 1.0
    assert set(result.error_kinds) == {"TimeoutError"}
    assert (result.statuses == 0).all()
    assert 100.0 <= result.p50_ms < 500.0


def test_a_refused_connection_is_a_transport_error() -> None:
    with serve() as (url, _):
        pass  # the port is closed again: nothing listens there now
    result = run_open_loop(url, "/score", body, 500, 10.0, max_requests=3, seed=9, timeout_s=1.0)
    assert result.error_rate == 1.0
    assert (result.statuses == 0).all()
    assert all(kind and kind != "TimeoutError" for kind in result.error_kinds)


@pytest.mark.parametrize("url", ["http://10.0.0.1:8000", "http://example.com", "https://192.168.1.5/"])
def test_refuses_a_non_loopback_url(url: str) -> None:
    with pytest.raises(ValueError, match=url.replace(".", r"\.")):
        run_open_loop(url, "/score", body, 100, 1.0, max_requests=1, seed=0)


@pytest.mark.parametrize("url", ["http://localhost:1", "http://[::1]:1", "http://127.0.0.1:1"])
def test_an_empty_schedule_gives_nan_statistics(url: str) -> None:
    result = run_open_loop(url, "/score", body, 100, 1.0, max_requests=0, seed=0)
    assert result.sent == 0
    assert all(math.isnan(x) for x in (result.p50_ms, result.p999_ms, result.error_rate, result.max_send_lag_ms))


def test_to_dict_is_plain_json_and_keeps_raw_arrays_out_by_default() -> None:
    with serve() as (url, _):
        result = run_open_loop(url, "/score", body, 500, 10.0, max_requests=4, seed=10)
    summary = json.loads(json.dumps(result.to_dict()))
    assert summary["sent"] == 4
    assert "latencies_s" not in summary
    raw = json.loads(json.dumps(result.to_dict(raw=True)))
    assert len(raw["latencies_s"]) == len(raw["send_lags_s"]) == len(raw["statuses"]) == 4


def fake_result(rate: float, p99_ms: float, error_rate: float = 0.0) -> LoadResult:
    empty = np.array([], dtype=np.float64)
    return LoadResult(
        offered_rate_per_s=rate,
        duration_s=1.0,
        sent=100,
        ok=100,
        errors=0,
        error_rate=error_rate,
        p50_ms=p99_ms / 2,
        p90_ms=p99_ms,
        p99_ms=p99_ms,
        p999_ms=p99_ms,
        throughput_per_s=rate,
        max_send_lag_ms=0.0,
        p99_send_lag_ms=0.0,
        statuses=np.array([], dtype=np.int64),
        latencies_s=empty,
        send_lags_s=empty,
        error_kinds=(),
    )


def test_find_max_rate_stops_at_the_first_failing_rate() -> None:
    p99_by_rate = {100.0: 5.0, 200.0: 8.0, 300.0: 40.0, 400.0: 5.0}  # 400 passing after 300 failed is noise
    tried: list[float] = []

    def measure(rate: float) -> LoadResult:
        tried.append(rate)
        return fake_result(rate, p99_by_rate[rate])

    assert find_max_rate(measure, [400.0, 100.0, 300.0, 200.0], p99_limit_ms=10.0) == 200.0
    assert tried == [100.0, 200.0, 300.0]


def test_find_max_rate_counts_errors_and_may_find_nothing() -> None:
    assert find_max_rate(lambda r: fake_result(r, 1.0, error_rate=0.01), [100.0, 200.0], 10.0) is None
    assert find_max_rate(lambda r: fake_result(r, 1.0, error_rate=0.01), [100.0], 10.0, max_error_rate=0.05) == 100.0
    assert find_max_rate(lambda r: fake_result(r, math.nan, error_rate=math.nan), [100.0], 10.0) is None
