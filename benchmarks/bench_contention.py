"""Transformer training beside one busy single-threaded process: how much slower an epoch gets.

Each setting fits conf/base's transformer block (two epochs, the second timed, as in bench_ddp.py) on the
transformer tests' synthetic world in a fresh process, once on a quiet machine and once beside a competitor: one
single-threaded Python loop at nice 19 (a low-priority batch job; ``--competitor-nice 0`` for an equal one). A fresh process per fit, because OpenMP reads
its wait policy once, at start. Settings: ``num_threads`` 2 with the OpenMP runtime's default wait policy (what
conf/base runs), the same with ``OMP_WAIT_POLICY=PASSIVE`` (a waiting thread sleeps instead of spinning), and 1
thread. The slowdown is the busy epoch's seconds over the quiet epoch's, per setting.

    .venv/bin/python benchmarks/bench_contention.py [--requests 60000] [--repeats 2]

Writes benchmarks/results/contention_nice<N>.json and .md, and ``contention_slowdown.competitor_nice_<N>`` of
ctr_zoo.json.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # the benchmarks' own modules and the tests' synthetic world

from benchmarks.bench_serving import machine_state, write_results  # noqa: E402

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
# setting -> (torch threads, extra environment)
SETTINGS: dict[str, tuple[int, dict[str, str]]] = {
    "2_threads": (2, {}),
    "2_threads_passive": (2, {"OMP_WAIT_POLICY": "PASSIVE"}),
    "1_thread": (1, {}),
}
COMPETITOR = [sys.executable, "-c", "while True: pass"]


def _worker(requests: int, threads: int, batch_size: int) -> None:
    from adrank_pipelines.models.text_encoder import ad_text_embeddings
    from adrank_pipelines.models.zoo.interface import SideTables, TrainingData
    from benchmarks.bench_ddp import _fit_once, _params
    from benchmarks.bench_training_determinism import _transformer_block
    from tests.models.transformer_fixtures import synthetic_world

    world = synthetic_world(n_requests=requests)
    params = _params(_transformer_block(), 1, threads, batch_size)
    text = ad_text_embeddings(world.ad_features, params.text_encoder)
    data = TrainingData(world.train, world.valid, world.spec, SideTables(world.sequences, world.ad_features, text))
    print(json.dumps(_fit_once(data, params) | {"train_rows": len(world.train)}), flush=True)


def _fit(setting: str, busy: bool, args: argparse.Namespace) -> dict[str, Any]:
    threads, environment = SETTINGS[setting]
    command = [sys.executable, __file__, "--worker", "--threads", str(threads)]
    command += ["--requests", str(args.requests), "--batch-size", str(args.batch_size)]
    competitor = subprocess.Popen(["nice", "-n", str(args.competitor_nice), *COMPETITOR]) if busy else None
    try:
        time.sleep(1.0 if busy else 0.0)  # the competitor is running before the fit starts
        done = subprocess.run(command, env=os.environ | environment, capture_output=True, text=True, check=True)
    finally:
        if competitor is not None:
            competitor.kill()
            competitor.wait()
    return json.loads(done.stdout.strip().splitlines()[-1]) | {"busy": busy}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=60_000, help="requests of the synthetic slice")
    parser.add_argument("--repeats", type=int, default=2, help="quiet and busy fits per setting, alternating")
    parser.add_argument("--batch-size", type=int, default=2048)
    parser.add_argument("--competitor-nice", type=int, default=19, help="the competitor's niceness (0: equal share)")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        _worker(args.requests, args.threads, args.batch_size)
        return
    start = machine_state()
    fits: dict[str, list[dict[str, Any]]] = {setting: [] for setting in SETTINGS}
    for repeat in range(args.repeats):
        for setting in SETTINGS:
            for busy in (False, True):
                fits[setting].append(_fit(setting, busy, args))
                print(f"repeat {repeat + 1} {setting} busy={busy}: {fits[setting][-1]}", flush=True)
    epochs = {
        setting: {
            state: statistics.median(fit["epoch_seconds"] for fit in runs if fit["busy"] == (state == "busy"))
            for state in ("quiet", "busy")
        }
        for setting, runs in fits.items()
    }
    slowdown = {setting: round(seconds["busy"] / seconds["quiet"], 2) for setting, seconds in epochs.items()}
    result = {
        "data": f"tests/models/transformer_fixtures.synthetic_world(n_requests={args.requests})",
        "train_rows": fits["1_thread"][0]["train_rows"],
        "global_batch_size": args.batch_size,
        "competitor": f"nice -n {args.competitor_nice} " + " ".join(COMPETITOR[1:]),
        "median_epoch_seconds": epochs,
        "contention_slowdown": slowdown,
        "fits": fits,
        "machine_start": start,
        "machine_end": machine_state(),
    }
    name = f"contention_nice{args.competitor_nice}"
    write_results(RESULTS / f"{name}.json", result, _markdown(result))
    zoo_path = RESULTS / "ctr_zoo.json"
    zoo = json.loads(zoo_path.read_text()) if zoo_path.exists() else {}
    zoo.setdefault("contention_slowdown", {})[f"competitor_nice_{args.competitor_nice}"] = {
        **slowdown,
        "details": f"benchmarks/results/{name}.json",
        "commit": start["commit"],
    }
    zoo_path.write_text(json.dumps(zoo, indent=2) + "\n")


def _markdown(result: dict[str, Any]) -> str:
    epochs, start = result["median_epoch_seconds"], result["machine_start"]
    rows = "\n".join(
        f"| {setting} | {seconds['quiet']:.2f} | {seconds['busy']:.2f} | {result['contention_slowdown'][setting]:.2f} |"
        for setting, seconds in epochs.items()
    )
    return f"""# Transformer epoch beside one busy single-threaded process

Commit `{start["commit"][:10]}`, {start["cores"]} cores, load average {start["load_average_1min"]:.2f} at start,
{result["machine_end"]["load_average_1min"]:.2f} at end. {result["train_rows"]:,} training rows of {result["data"]},
conf/base transformer, batch {result["global_batch_size"]}; the second of two epochs, median over repeats; the
competitor: `{result["competitor"]}`.

| setting | quiet epoch (s) | busy epoch (s) | slowdown |
|---|---|---|---|
{rows}
"""


if __name__ == "__main__":
    main()
