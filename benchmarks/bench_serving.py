"""The online ad service under open-loop load: the largest rate each tier sustains at p99 <= 50 ms, where the
time goes, what a pre-ranking cut saves, what the Redis state costs, and two workers.

Serves a project whose `kedro run` has finished (its evaluation-day requests, artifacts and environment):

    .venv/bin/python benchmarks/bench_serving.py --project /path/to/project            # default world (env local)
    .venv/bin/python benchmarks/bench_serving.py --project /tmp/svc/proj --env test --duration 2 --rates 20 40 \
        --out /tmp/serving.json                                                        # a smoke test

Each configuration is served by `kedro serve` in a throw-away environment (a copy of the served one with its
serving settings overridden; benchmarks/serving_servers.py), pinned to core 0, with a fresh budget ledger;
the generator (benchmarks/open_loop.py) pins itself to core 1. After readiness and a sequential warm-up,
the ladder of offered rates runs up to the first rate that misses p99 <= --saturation-p99-ms or errs; the
SLA rate is the highest rate of the unbroken run, from the lowest, that meets p99 <= 50 ms with no error.

1. Tiers: `lightgbm` and `transformer` alone, and `tiered` (the served environment's routing: lightgbm by
   default, transformer for high-value users); per tier the ladder, its largest sustained rate, the mean
   milliseconds per batch of each stage and the mean batch size (from /metrics, between warm-up and end).
2. Pre-ranking: the transformer tier with `prerank_keep: N` at one rate beside the full transformer tier.
   Its quality cost (top-slot true pCTR) cannot be seen over HTTP: it is read from bench_ranking.py's
   offline measurement of the same cut on the default world (benchmarks/results/ranking.json).
3. Redis (with --redis-server): `tiered` on the embedded store and on Redis, started back to back in
   --redis-pairs pairs at the tiered ladder's largest rate that kept up: server CPU per request, the median
   of the pairs' ratios, Redis's own CPU apart; then two workers (both cores, shared with the generator) on
   Redis: their ladder and the generator's own CPU per request.
Results: --out (JSON) and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
sys.path.insert(0, str(PROJECT_ROOT))  # the benchmarks' own modules
from benchmarks.open_loop import LoadResult, find_max_rate, pin_to_cores, run_open_loop  # noqa: E402
from benchmarks.serving_servers import (  # noqa: E402
    Service,
    bench_environment,
    cpu_seconds,
    http_post,
    redis_server,
    scrape,
    serve,
    stage_means,
)

AUCTION_PATH = "/v1/auction"
TIER_ROUTING = {
    "lightgbm": {"default_tier": "lightgbm", "high_value_tier": None},
    "transformer": {"default_tier": "transformer", "high_value_tier": None},
    "tiered": {},  # the served environment's own routing
}
STAGE_ORDER = ("profiles", "query", "retrieval", "ranking", "auction")  # the request path's, as the engine times it
Bodies = Callable[[int], Mapping[str, Any]]


def machine_state() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    return {"commit": commit.stdout.strip(), "cores": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}


def _served_config(project: Path, env: str | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """The served environment's parameters and serving settings, as the service reads them."""
    from kedro.config import OmegaConfigLoader

    from adrank_pipelines.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(conf_source=str(project / "conf"), env=env, **CONFIG_LOADER_ARGS)  # type: ignore[arg-type]
    return loader["parameters"], loader["serving"]["serving"]


def evaluation_bodies(project: Path) -> list[dict[str, Any]]:
    """The evaluation-day requests (those retrieval wrote candidates for) as /v1/auction bodies."""
    retrieved: set[int] = set()
    candidates = pq.ParquetFile(project / "data/07_model_output/retrieved_candidates.parquet")
    for batch in candidates.iter_batches(columns=["request_id"], batch_size=1_000_000):
        retrieved.update(np.unique(batch.column(0).to_numpy()).tolist())
    columns = ["request_id", "user_id", "event_time", "placement", "platform", "n_slots"]
    requests = pd.read_parquet(project / "data/02_intermediate/validated_requests.parquet", columns=columns)
    kept = requests.loc[requests["request_id"].isin(retrieved)].sort_values("request_id")
    if kept.empty:
        raise ValueError(f"no request of {project} has retrieved candidates: run the pipelines first")
    times = pd.to_datetime(kept["event_time"])
    return [
        {
            "request_id": int(request_id),
            "user_id": int(user_id),
            "timestamp": pd.Timestamp(when).timestamp(),
            "placement": str(placement),
            "platform": str(platform),
            "n_slots": int(n_slots),
        }
        for request_id, user_id, when, placement, platform, n_slots in zip(
            kept["request_id"].to_numpy(),
            kept["user_id"].to_numpy(),
            times.tolist(),
            kept["placement"].tolist(),
            kept["platform"].tolist(),
            kept["n_slots"].to_numpy(),
            strict=True,
        )
    ]


def body_factory(bodies: list[dict[str, Any]]) -> Bodies:
    """Cycles through ``bodies``; request ids unique per sent request (batched responses are keyed by them)."""
    return lambda i: {**bodies[i % len(bodies)], "request_id": bodies[i % len(bodies)]["request_id"] + i * 10**9}


def warm_up(service: Service, bodies: Bodies, n: int) -> None:
    """``n`` requests one at a time (ids beyond any run's); any answer but 200 stops the benchmark with its body."""
    for k in range(n):
        status, text = http_post(service.base_url + AUCTION_PATH, bodies(5_000_000 + k))
        if status != 200:
            raise RuntimeError(f"warm-up request answered {status}: {text[:500]}")


def _ms(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else round(value, 3)


def _state(tmp: Path, name: str) -> dict[str, Any]:
    """The embedded store with a fresh budget ledger of its own (the project's ledger is left alone)."""
    return {"backend": "embedded", "budget_path": str(tmp / f"ledger_{name}.sqlite")}


class Runner:
    """Offered rates against one service: each rate's result, server CPU (and ``also_pid``'s) and generator CPU."""

    def __init__(self, args: argparse.Namespace, bodies: Bodies, service: Service, also_pid: int | None) -> None:
        self.args, self.bodies, self.service, self.also_pid = args, bodies, service, also_pid
        self.entries: list[dict[str, Any]] = []
        self.results: dict[float, LoadResult] = {}

    def measure(self, rate: float) -> LoadResult:
        also = cpu_seconds(self.also_pid) if self.also_pid else 0.0
        server, generator = cpu_seconds(self.service.pid), time.process_time()
        result = run_open_loop(
            self.service.base_url,
            AUCTION_PATH,
            self.bodies,
            rate,
            self.args.duration,
            self.args.max_requests,
            self.args.seed,
            timeout_s=self.args.request_timeout,
        )
        server, generator = cpu_seconds(self.service.pid) - server, time.process_time() - generator
        entry = result.to_dict()
        entry["server_cpu_ms_per_request"] = server / result.ok * 1e3 if result.ok else None
        entry["generator_cpu_ms_per_request"] = generator / result.sent * 1e3 if result.sent else None
        if self.also_pid:
            also = cpu_seconds(self.also_pid) - also
            entry["redis_server_cpu_ms_per_request"] = also / result.ok * 1e3 if result.ok else None
        self.entries.append(entry)
        self.results[rate] = result
        print(
            f"  {rate:g}/s: sent {result.sent}, errors {result.errors}, p50 {result.p50_ms:.1f} ms, "
            f"p99 {result.p99_ms:.1f} ms, server CPU {entry['server_cpu_ms_per_request'] or math.nan:.2f} ms/request",
            flush=True,
        )
        return result

    def ladder(self) -> dict[str, Any]:
        # Up to saturation (the looser limit), so the curve shows where the service stops keeping up;
        # the SLA rate is the last rate of the run of rates, from the lowest, that met the SLA.
        keeps_up = find_max_rate(self.measure, self.args.rates, self.args.saturation_p99_ms)
        best = None
        for rate in sorted(self.results):
            result = self.results[rate]
            if not (result.p99_ms <= self.args.p99_limit_ms and result.error_rate == 0):
                break
            best = rate
        at = best if best is not None else min(self.results)  # none passed: the lowest rate's figures
        shown = self.results[at]
        return {
            "max_rps_p99_50ms": best,
            f"max_rps_p99_{self.args.saturation_p99_ms:g}ms": keeps_up,
            "figures_at_rate": at,
            "p50_ms": _ms(shown.p50_ms),
            "p99_ms": _ms(shown.p99_ms),
            "error_rate": shown.error_rate,
            "ladder": self.entries,
        }


def run_configuration(
    args: argparse.Namespace,
    tmp: Path,
    bodies: Bodies,
    name: str,
    override: Mapping[str, Any],
    rate: float | None = None,
    also_pid: int | None = None,
    **options: Any,
) -> dict[str, Any]:
    """Serve one configuration, warm up, run ``rate`` (or the ladder); the stages' means from /metrics."""
    print(f"{name}: starting the service", flush=True)
    log = tmp / f"{name}.log"
    with (
        bench_environment(args.project, args.env, override) as env_name,
        serve(args.kedro, args.project, env_name, log, ready_timeout_s=args.ready_timeout, **options) as service,
    ):
        warm_up(service, bodies, args.warmup)
        runner = Runner(args, bodies, service, also_pid)
        before = scrape(service.base_url)
        if rate is None:
            summary = runner.ladder()
        else:
            runner.measure(rate)
            summary = {"rate": rate, **runner.entries[-1]}
        if service.workers == 1:  # with several workers /metrics is one worker's
            stages, batch = stage_means(before, scrape(service.base_url))
            summary["stages_ms"] = {stage: _ms(ms) for stage, ms in stages.items()}
            summary["mean_batch_size"] = batch
    return summary


def _at_rate(ladder: list[dict[str, Any]], rate: float) -> dict[str, Any] | None:
    return next((entry for entry in ladder if entry["offered_rate_per_s"] == rate), None)


def redis_part(args: argparse.Namespace, tmp: Path, bodies: Bodies, tiered: dict[str, Any]) -> dict[str, Any]:
    """Server CPU per request on a Redis state against the embedded store's, in ``--redis-pairs`` back-to-back
    pairs at one rate (the tiered ladder's largest rate that kept up), the median ratio; then two workers."""
    rate = tiered[f"max_rps_p99_{args.saturation_p99_ms:g}ms"] or tiered["figures_at_rate"]
    with redis_server(args.redis_server, tmp) as store:

        def state(suffix: str) -> dict[str, Any]:
            return {"backend": "redis", "redis_url": store.url, "key_prefix": f"bench{os.urandom(4).hex()}{suffix}"}

        pairs = []
        for pair in range(args.redis_pairs):
            embedded = run_configuration(
                args, tmp, bodies, f"embedded{pair}", {"state": _state(tmp, f"embedded{pair}")}, rate=rate
            )
            on_redis = run_configuration(
                args, tmp, bodies, f"redis{pair}", {"state": state(f"w1p{pair}")}, rate=rate, also_pid=store.pid,
                seed_profiles=True,
            )  # fmt: skip
            pairs.append({"embedded": embedded, "redis": on_redis})
        two = run_configuration(
            args,
            tmp,
            bodies,
            "workers2",
            {"state": state("w2")},
            also_pid=store.pid,
            seed_profiles=True,
            workers=2,
            cores=(0, 1),
        )
    ladder2 = two.pop("ladder")
    sent2 = sum(entry["sent"] for entry in ladder2)
    generator_cpu = sum((entry["generator_cpu_ms_per_request"] or 0.0) * entry["sent"] for entry in ladder2)

    def median_of(backend: str, figure: str) -> float | None:
        values = [pair[backend][figure] for pair in pairs if pair[backend][figure] is not None]
        return float(np.median(values)) if values else None

    ratios = [
        pair["redis"]["server_cpu_ms_per_request"] / pair["embedded"]["server_cpu_ms_per_request"] - 1
        for pair in pairs
        if pair["redis"]["server_cpu_ms_per_request"] and pair["embedded"]["server_cpu_ms_per_request"]
    ]
    return {
        "redis_rate_per_s": rate,
        "redis_note": "Server CPU per answered request (utime + stime of the server's process tree) over a run at "
        "this rate, embedded and Redis started back to back in each pair; the overhead is the median of the "
        "pairs' ratios. Redis's own CPU apart. Two workers: taskset 0,1 for the server, the generator pinned to "
        "core 1 as well (it shares their cores).",
        "redis_pairs": pairs,
        "redis_pair_overheads": ratios,
        "embedded_cpu_ms_per_request": median_of("embedded", "server_cpu_ms_per_request"),
        "redis_cpu_ms_per_request": median_of("redis", "server_cpu_ms_per_request"),
        "redis_cpu_overhead": float(np.median(ratios)) if ratios else None,
        "redis_server_cpu_ms_per_request": median_of("redis", "redis_server_cpu_ms_per_request"),
        "workers2_max_rps": two["max_rps_p99_50ms"],
        "workers2": two,
        "workers2_ladder": ladder2,
        "generator_cpu_ms_per_request": generator_cpu / sent2 if sent2 else None,
    }


def prerank_quality(keep: int, top_k: int | None, env: str | None) -> dict[str, Any] | None:
    """What cutting each request to its ``keep`` best retrieved candidates costs in top-slot true pCTR, per
    model, as benchmarks/bench_ranking.py measured it offline on the default world (the service's HTTP
    answers carry no truth); None for another world or a cut it did not measure."""
    path = RESULTS / "ranking.json"
    if not path.exists() or (env or "local") not in ("local", "base"):
        return None
    measured = json.loads(path.read_text())
    by_cap = {entry["cap"]: entry["top_values"] for entry in measured["caps"]}
    if measured.get("env") != "base" or keep not in by_cap or top_k not in by_cap or keep >= top_k:
        return None
    return {
        "source": f"benchmarks/results/ranking.json (measured {measured['measured_at']})",
        "top_slot_true_pctr_change": {
            model: by_cap[keep][model]["true_pctr"] / values["true_pctr"] - 1 for model, values in by_cap[top_k].items()
        },
    }


def write_results(out: Path, result: dict[str, Any], markdown: str) -> None:
    """``result`` as JSON at ``out`` and ``markdown`` beside it (same name, .md), and on the console."""
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    out.with_suffix(".md").write_text(markdown)
    print(markdown)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def _quality_text(quality: dict[str, Any] | None) -> str:
    if quality is None:
        return "not measured (not visible over HTTP; benchmarks/bench_ranking.py has no figure for this cut)"
    changes = ", ".join(
        f"{model} {change * 100:+.1f}%" for model, change in quality["top_slot_true_pctr_change"].items()
    )
    return f"top-slot true pCTR {changes} against all retrieved candidates ({quality['source']})"


def _markdown(result: dict[str, Any]) -> str:
    start, end = result["machine_start"], result["machine_end"]
    seen = {stage for tier in result["tiers"].values() for stage in tier.get("stages_ms", {})}
    stages = [stage for stage in STAGE_ORDER if stage in seen] + sorted(seen - set(STAGE_ORDER))
    lines = [
        "# Online ad service under open-loop load",
        "",
        f"Commit `{start['commit'][:10]}`, {start['cores']} cores, load average {start['load_average_1min']:.2f} at "
        f"start and {end['load_average_1min']:.2f} at end. Project `{result['project']}`, env `{result['env']}` "
        f"(n_ads {result['n_ads']}, top_k {result['top_k']}); {result['setup']['duration_s']:g} s per rate, "
        f"p99 limit {result['setup']['p99_limit_ms']:g} ms. {result['setup']['note']}",
        "",
        "| configuration | max rate /s (p99 <= 50 ms) | at rate | p50 ms | p99 ms | error rate | mean batch | "
        + " | ".join(f"{stage} ms" for stage in stages)
        + " |",
        "|---|---|---|---|---|---|---|" + "---|" * len(stages),
    ]
    for name, tier in result["tiers"].items():
        cells = [_fmt(tier["max_rps_p99_50ms"], 0), _fmt(tier["figures_at_rate"], 0), _fmt(tier["p50_ms"])]
        cells += [_fmt(tier["p99_ms"]), _fmt(tier["error_rate"], 3), _fmt(tier.get("mean_batch_size"))]
        cells += [_fmt(tier.get("stages_ms", {}).get(stage), 2) for stage in stages]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    prerank = result["prerank"]
    if prerank:
        full = prerank["full_transformer_at_rate"] or {}
        lines += [
            "",
            f"Pre-ranking cut: transformer with prerank_keep {prerank['prerank_keep']} at {prerank['rate']:g}/s: "
            f"p50 {_fmt(prerank['p50_ms'])} ms, p99 {_fmt(prerank['p99_ms'])} ms, ranking "
            f"{_fmt(prerank.get('stages_ms', {}).get('ranking'), 2)} ms per batch; the full transformer tier at the "
            f"same rate: p50 {_fmt(full.get('p50_ms'))} ms, p99 {_fmt(full.get('p99_ms'))} ms. "
            f"Quality cost: {_quality_text(result['prerank_quality'])}.",
        ]
    if result["redis_cpu_overhead"] is not None or result["workers2_max_rps"] is not None:
        lines += [
            "",
            f"State store at {_fmt(result['redis_rate_per_s'], 0)}/s (tiered): server CPU "
            f"{_fmt(result['embedded_cpu_ms_per_request'], 2)} ms/request embedded, "
            f"{_fmt(result['redis_cpu_ms_per_request'], 2)} ms/request on Redis (overhead "
            f"{_fmt((result['redis_cpu_overhead'] or math.nan) * 100, 0)} %), Redis's own CPU "
            f"{_fmt(result['redis_server_cpu_ms_per_request'], 2)} ms/request. Two workers on Redis: max rate "
            f"{_fmt(result['workers2_max_rps'], 0)}/s (the generator shares their cores; its own CPU "
            f"{_fmt(result['generator_cpu_ms_per_request'], 2)} ms/request).",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True, help="a project folder whose `kedro run` finished")
    parser.add_argument("--env", default=None, help="the environment its run used (default: local)")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per offered rate")
    parser.add_argument("--rates", type=float, nargs="+", default=[25, 50, 100, 150, 200, 300, 400])
    parser.add_argument("--max-requests", type=int, default=20_000, help="at most this many requests per rate")
    parser.add_argument("--p99-limit-ms", type=float, default=50.0)
    parser.add_argument(
        "--saturation-p99-ms", type=float, default=250.0, help="the ladder runs up to the first rate missing this p99"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "serving.json", help="JSON; the .md goes beside it")
    parser.add_argument("--redis-server", type=Path, default=Path("/usr/bin/redis-server"))
    parser.add_argument("--redis-pairs", type=int, default=2, help="embedded / Redis runs back to back")
    parser.add_argument("--prerank-keep", type=int, default=100)
    parser.add_argument("--prerank-rate", type=float, help="default: the transformer tier's largest sustained rate")
    parser.add_argument("--warmup", type=int, default=50, help="sequential requests after each start")
    parser.add_argument("--ready-timeout", type=float, default=600.0, help="seconds a start may take")
    parser.add_argument("--request-timeout", type=float, default=2.0, help="seconds per request")
    parser.add_argument("--seed", type=int, default=0, help="of the Poisson arrivals")
    parser.add_argument("--kedro", type=Path, default=Path(sys.executable).with_name("kedro"))
    args = parser.parse_args()
    args.project = args.project.resolve()
    start = machine_state()
    measured_at = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    parameters, serving = _served_config(args.project, args.env)
    requests = evaluation_bodies(args.project)
    bodies = body_factory(requests)
    pinned = (os.cpu_count() or 1) >= 2 and pin_to_cores({1})
    print(f"{len(requests)} evaluation-day requests; generator pinned to core 1: {pinned}", flush=True)

    with tempfile.TemporaryDirectory(prefix="bench_serving_") as workdir:
        tmp = Path(workdir)
        tiers: dict[str, dict[str, Any]] = {}
        for name, routing in TIER_ROUTING.items():
            override = {"state": _state(tmp, name), **({"routing": routing} if routing else {})}
            tiers[name] = run_configuration(args, tmp, bodies, name, override)
        full = tiers["transformer"]
        rate = args.prerank_rate or full["figures_at_rate"]
        cut = {"transformer": {"prerank_keep": args.prerank_keep}}
        override = {"state": _state(tmp, "prerank"), "routing": TIER_ROUTING["transformer"], "tiers": cut}
        prerank = run_configuration(args, tmp, bodies, "prerank", override, rate=rate)
        prerank["prerank_keep"] = args.prerank_keep
        prerank["full_transformer_at_rate"] = _at_rate(full["ladder"], rate)
        redis: dict[str, Any] = dict.fromkeys(
            [
                "redis_rate_per_s",
                "redis_cpu_overhead",
                "embedded_cpu_ms_per_request",
                "redis_cpu_ms_per_request",
                "redis_server_cpu_ms_per_request",
                "workers2_max_rps",
                "workers2_ladder",
                "generator_cpu_ms_per_request",
            ]
        )
        if args.redis_server.exists():
            redis.update(redis_part(args, tmp, bodies, tiers["tiered"]))
        else:
            print(f"{args.redis_server} not found: no Redis runs", flush=True)

    result = {
        "measured_at": measured_at,
        "project": str(args.project),
        "env": args.env or "local",
        "n_ads": parameters.get("marketplace", {}).get("n_ads"),
        "top_k": parameters.get("indexing", {}).get("top_k"),
        "ranking_max_per_request": parameters.get("ranking", {}).get("candidates", {}).get("max_per_request"),
        "requests": len(requests),
        "setup": {
            "duration_s": args.duration,
            "rates": args.rates,
            "max_requests": args.max_requests,
            "p99_limit_ms": args.p99_limit_ms,
            "max_error_rate": 0.0,
            "warmup_requests": args.warmup,
            "note": "One worker pinned to core 0, the generator to core 1 (two workers: both cores, shared with "
            "the generator; Redis on core 1). Every start has a fresh budget ledger (or Redis key prefix); "
            "stage means are per batch, from /metrics between warm-up and end.",
        },
        "default_tier": "tiered",
        "default_routing": serving["routing"],
        "tier_settings": serving["tiers"],
        "tiers": tiers,
        "prerank": prerank,
        "prerank_quality": prerank_quality(args.prerank_keep, parameters.get("indexing", {}).get("top_k"), args.env),
        **redis,
        "machine_start": start,
        "machine_end": machine_state(),
    }
    write_results(args.out, result, _markdown(result))


if __name__ == "__main__":
    main()
