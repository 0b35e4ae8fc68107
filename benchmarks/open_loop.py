"""Open-loop HTTP load generation for the serving benchmarks.

A closed-loop client sends its next request only after the previous one has answered, so when the
server stalls the client stops sending, and the stall hides itself: only the one request in flight
sees it, while the requests that would have arrived during it are never sent ("coordinated
omission"). Here the send times are a Poisson schedule fixed before the run, every request is
launched at its time whether or not the earlier ones have answered, and its latency is counted from
the time it was meant to go out. A stall is thus charged to every request that should have been
sent during it, and so is any delay of the generator itself, which is reported too (the send lag):
a large lag means the generator, not the service, was the bottleneck.

    .venv/bin/python benchmarks/open_loop.py http://127.0.0.1:8000 /rank --rates 100 200 400 --duration 10
    .venv/bin/python benchmarks/open_loop.py http://127.0.0.1:8000 /rank --rates 100 200 400 --p99-limit-ms 50
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import numpy as np
from numpy.typing import NDArray

BodyFactory = Callable[[int], Mapping[str, Any]]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})
PERCENTILES = (50.0, 90.0, 99.0, 99.9)


@dataclass(frozen=True)
class LoadResult:
    """One offered rate's outcome; the raw per-request arrays stay out of `to_dict` unless asked for."""

    offered_rate_per_s: float
    duration_s: float
    sent: int
    ok: int
    errors: int
    error_rate: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    throughput_per_s: float
    max_send_lag_ms: float
    p99_send_lag_ms: float
    statuses: NDArray[np.int64] = field(repr=False, compare=False)
    latencies_s: NDArray[np.float64] = field(repr=False, compare=False)
    send_lags_s: NDArray[np.float64] = field(repr=False, compare=False)
    error_kinds: tuple[str, ...] = field(repr=False, compare=False)

    def to_dict(self, raw: bool = False) -> dict[str, Any]:
        """Plain Python numbers, so that `json.dumps` takes it as is."""
        summary: dict[str, Any] = {
            "offered_rate_per_s": float(self.offered_rate_per_s),
            "duration_s": float(self.duration_s),
            "sent": int(self.sent),
            "ok": int(self.ok),
            "errors": int(self.errors),
            "error_rate": float(self.error_rate),
            "p50_ms": float(self.p50_ms),
            "p90_ms": float(self.p90_ms),
            "p99_ms": float(self.p99_ms),
            "p999_ms": float(self.p999_ms),
            "throughput_per_s": float(self.throughput_per_s),
            "max_send_lag_ms": float(self.max_send_lag_ms),
            "p99_send_lag_ms": float(self.p99_send_lag_ms),
            "errors_by_kind": dict(Counter(kind for kind in self.error_kinds if kind)),
        }
        if raw:
            summary["statuses"] = [int(s) for s in self.statuses]
            summary["latencies_s"] = [float(x) for x in self.latencies_s]
            summary["send_lags_s"] = [float(x) for x in self.send_lags_s]
            summary["error_kinds"] = list(self.error_kinds)
        return summary


def check_loopback(base_url: str) -> None:
    """The generator can saturate whatever it points at; it must never be aimed off this machine."""
    host = urlsplit(base_url).hostname
    if host not in LOOPBACK_HOSTS:
        raise ValueError(f"refusing to send load to {base_url!r}: its host must be one of {sorted(LOOPBACK_HOSTS)}")


def poisson_schedule(rate_per_s: float, duration_s: float, max_requests: int, seed: int) -> NDArray[np.float64]:
    """Intended send offsets (seconds after the start), fixed before the run so that no answer can move them.

    Poisson arrivals stand in for many independent users; a fixed seed gives every compared
    configuration the same arrivals.
    """
    if rate_per_s <= 0:
        raise ValueError(f"rate_per_s must be positive, got {rate_per_s}")
    gaps = np.random.default_rng(seed).exponential(1.0 / rate_per_s, size=max(max_requests, 0))
    offsets = np.cumsum(gaps)
    return offsets[offsets < duration_s]


async def _request(
    session: aiohttp.ClientSession, url: str, body: Mapping[str, Any], intended: float, timeout_s: float
) -> tuple[int, float, float, str]:
    """(status, latency, send lag, error kind) of one request, its clock started at its intended time.

    The deadline runs from the intended time too: an answer later than `timeout_s` after it was due is
    an error whether the service or the generator made it late.
    """
    started = time.perf_counter()
    try:
        async with asyncio.timeout(intended + timeout_s - started):
            async with session.post(url, json=body) as response:
                await response.read()
                status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        return 0, time.perf_counter() - intended, started - intended, type(exc).__name__
    kind = "" if 200 <= status < 300 else f"HTTP {status}"
    return status, time.perf_counter() - intended, started - intended, kind


async def _run(
    url: str,
    body_factory: BodyFactory,
    offsets: NDArray[np.float64],
    timeout_s: float,
    warmup_requests: int,
) -> tuple[float, list[tuple[int, float, float, str]]]:
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
        # One at a time, so that warm-up opens a connection and fills caches without queueing; it takes
        # the indices after the measured ones so that the measured bodies do not depend on its length.
        for k in range(warmup_requests):
            await _request(session, url, body_factory(len(offsets) + k), time.perf_counter(), timeout_s)

        t0 = time.perf_counter()
        tasks = []
        for i, offset in enumerate(offsets.tolist()):
            intended = t0 + offset
            # Always yields, even when behind, so that the requests already launched get to send.
            await asyncio.sleep(max(intended - time.perf_counter(), 0.0))
            tasks.append(asyncio.create_task(_request(session, url, body_factory(i), intended, timeout_s)))
        results = await asyncio.gather(*tasks)
        return time.perf_counter() - t0, results


def _percentiles_ms(values: NDArray[np.float64], qs: Sequence[float]) -> list[float]:
    if values.size == 0:
        return [math.nan] * len(qs)
    return [float(v) * 1000.0 for v in np.percentile(values, qs, method="linear")]


def run_open_loop(
    base_url: str,
    path: str,
    body_factory: BodyFactory,
    rate_per_s: float,
    duration_s: float,
    max_requests: int,
    seed: int,
    timeout_s: float = 2.0,
    warmup_requests: int = 0,
) -> LoadResult:
    """POST `body_factory(i)` to `base_url + path` at Poisson arrivals of `rate_per_s`.

    The run stops scheduling at `duration_s` or `max_requests`, whichever comes first, and then waits
    for every launched request to answer or time out.
    """
    check_loopback(base_url)
    url = base_url.rstrip("/") + "/" + path.lstrip("/")
    offsets = poisson_schedule(rate_per_s, duration_s, max_requests, seed)
    elapsed, results = asyncio.run(_run(url, body_factory, offsets, timeout_s, warmup_requests))

    statuses = np.array([r[0] for r in results], dtype=np.int64)
    latencies = np.array([r[1] for r in results], dtype=np.float64)
    lags = np.array([r[2] for r in results], dtype=np.float64)
    sent = len(results)
    ok = int(np.count_nonzero((statuses >= 200) & (statuses < 300)))
    p50, p90, p99, p999 = _percentiles_ms(latencies, PERCENTILES)
    (lag_p99,) = _percentiles_ms(lags, [99.0])
    return LoadResult(
        offered_rate_per_s=float(rate_per_s),
        duration_s=elapsed,
        sent=sent,
        ok=ok,
        errors=sent - ok,
        error_rate=(sent - ok) / sent if sent else math.nan,
        p50_ms=p50,
        p90_ms=p90,
        p99_ms=p99,
        p999_ms=p999,
        throughput_per_s=ok / elapsed if elapsed > 0 else math.nan,
        max_send_lag_ms=float(lags.max()) * 1000.0 if sent else math.nan,
        p99_send_lag_ms=lag_p99,
        statuses=statuses,
        latencies_s=latencies,
        send_lags_s=lags,
        error_kinds=tuple(r[3] for r in results),
    )


def find_max_rate(
    measure: Callable[[float], LoadResult],
    rates: Sequence[float],
    p99_limit_ms: float,
    max_error_rate: float = 0.0,
) -> float | None:
    """The largest rate that meets the limits, trying no rate above the first one that misses them.

    Past saturation the queue grows without bound, so a higher rate that happens to pass is noise, and
    measuring it would only cost time. A NaN p99 or error rate (nothing sent) counts as a miss.
    """
    best: float | None = None
    for rate in sorted(rates):
        result = measure(rate)
        if not (result.p99_ms <= p99_limit_ms and result.error_rate <= max_error_rate):
            break
        best = rate
    return best


def pin_to_cores(cores: set[int]) -> bool:
    """Keeps the generator off the service's cores, so the two do not compete; False where the OS cannot."""
    if not hasattr(os, "sched_setaffinity"):
        return False
    os.sched_setaffinity(0, cores)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base_url", help="loopback only, e.g. http://127.0.0.1:8000")
    parser.add_argument("path", help="the path requests are POSTed to, e.g. /rank")
    parser.add_argument("--rates", type=float, nargs="+", required=True, help="offered rates, requests per second")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per rate")
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=2.0, help="per-request timeout, seconds")
    parser.add_argument("--warmup", type=int, default=0, help="requests sent one at a time before each rate")
    parser.add_argument("--body", default="{}", help="the JSON body of every request")
    parser.add_argument("--cores", help="comma-separated CPU cores to pin the generator to")
    parser.add_argument("--p99-limit-ms", type=float, help="search for the largest rate meeting this p99")
    parser.add_argument("--max-error-rate", type=float, default=0.0)
    args = parser.parse_args(argv)

    check_loopback(args.base_url)
    if args.cores and not pin_to_cores({int(c) for c in args.cores.split(",")}):
        print("cannot pin to cores on this platform", file=sys.stderr)
    body = json.loads(args.body)

    def measure(rate: float) -> LoadResult:
        result = run_open_loop(
            args.base_url,
            args.path,
            lambda _: body,
            rate,
            args.duration,
            args.max_requests,
            args.seed,
            timeout_s=args.timeout,
            warmup_requests=args.warmup,
        )
        print(json.dumps(result.to_dict()), flush=True)
        return result

    if args.p99_limit_ms is None:
        for rate in args.rates:
            measure(rate)
    else:
        best = find_max_rate(measure, args.rates, args.p99_limit_ms, args.max_error_rate)
        print(json.dumps({"max_rate_per_s": best, "p99_limit_ms": args.p99_limit_ms}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
