"""CPU per request of the service's request path, without HTTP: the engine's retrieval, ranking and auction
in-process, per tier and batch size, on a project whose `kedro run` has finished.

The figure is thread CPU time (one core, torch and FAISS on one thread), so it reads the work a request
costs rather than the wall time a busy machine stretches. With --compare-source another checkout's
`src` (e.g. a worktree of an earlier commit) is measured the same way, the two alternating round by round
in fresh processes, so both see the same machine load:

    .venv/bin/python benchmarks/bench_request_path.py --project /path/to/project
    git worktree add /tmp/before <commit>
    .venv/bin/python benchmarks/bench_request_path.py --project DIR --compare-source /tmp/before/src

Results: --out (JSON) and a Markdown table beside it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
CHILD_MARK = "REQUEST_PATH_RESULT "
sys.path.insert(0, str(PROJECT_ROOT))  # the benchmarks' own modules


def _commit(source: Path) -> str:
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=source, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def measure(project: Path, env: str | None, tiers: list[str], batches: list[int], n_batches: int) -> dict[str, float]:
    """Median thread-CPU milliseconds per request of each tier x batch size (after 5 warm-up batches)."""
    import numpy as np

    from adrank_pipelines.serving.engine import AdRequest, BatchTimings
    from adrank_pipelines.serving.main import engine_factory
    from adrank_pipelines.serving.project import load_project
    from adrank_pipelines.serving.state import open_state
    from benchmarks.bench_serving import evaluation_bodies

    os.chdir(project)  # the pipelines' graph configuration is read from the working directory
    config = load_project(project, env)
    ledger = Path(tempfile.mkdtemp(prefix="request_path_")) / "ledger.sqlite"
    state = open_state(config.serving.state.model_copy(update={"budget_path": str(ledger)}))
    engine = engine_factory(lambda: load_project(project, env), state)()
    bodies = evaluation_bodies(project)
    figures = {}
    for tier in tiers:
        for batch in batches:
            requests = [AdRequest(**body) for body in bodies[: (n_batches + 5) * batch]]
            chunks = [requests[start : start + batch] for start in range(0, len(requests), batch)]
            spent = []
            for chunk in chunks:
                started = time.thread_time()
                engine.auction(engine.rank(chunk, BatchTimings(), tier=tier))
                spent.append(time.thread_time() - started)
            figures[f"{tier} batch {batch}"] = round(1000 * float(np.median(spent[5:])) / batch, 3)
    return figures


def _child(args: argparse.Namespace, source: Path) -> dict[str, float]:
    command = [
        sys.executable, str(Path(__file__).resolve()), "--child", str(source), "--project", str(args.project),
        "--tiers", *args.tiers, "--batches", *map(str, args.batches), "--n-batches", str(args.n_batches),
        *(["--env", args.env] if args.env else []),
    ]  # fmt: skip
    done = subprocess.run(["taskset", "-c", "0", *command], capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith(CHILD_MARK)]
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"measuring {source} failed:\n{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(lines[-1][len(CHILD_MARK) :])
    return figures


def _markdown(result: dict[str, Any]) -> str:
    sources = result["sources"]
    keys = list(next(iter(sources.values()))["median"])
    names = list(sources)
    lines = [
        "# CPU per request of the request path (in-process, no HTTP)",
        "",
        f"Project `{result['project']}`, env `{result['env'] or 'local'}`; {result['machine_start']['cores']} cores, "
        f"load average {result['machine_start']['load_average_1min']:.2f} at start and "
        f"{result['machine_end']['load_average_1min']:.2f} at end. Thread CPU ms per request, one core, median over "
        f"{result['n_batches']} batches, then the median of {result['rounds']} alternating rounds.",
        "",
        "| tier x batch | " + " | ".join(f"`{sources[name]['commit'][:10]}` ({name})" for name in names) + " |",
        "|---|" + "---|" * len(names),
    ]
    for key in keys:
        lines.append(f"| {key} | " + " | ".join(f"{sources[name]['median'][key]:.2f}" for name in names) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True, help="a project folder whose `kedro run` finished")
    parser.add_argument("--env", default=None)
    parser.add_argument("--tiers", nargs="+", default=["lightgbm", "transformer"])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 16], help="requests per batch")
    parser.add_argument("--n-batches", type=int, default=35, help="measured batches per tier and batch size")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--compare-source", type=Path, help="another checkout's src folder, measured alternately")
    parser.add_argument("--out", type=Path, default=RESULTS / "request_path.json")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.project = args.project.resolve()
    if args.child:
        sys.path.insert(0, str(args.child))
        print(CHILD_MARK + json.dumps(measure(args.project, args.env, args.tiers, args.batches, args.n_batches)))
        return

    import numpy as np

    from benchmarks.bench_serving import machine_state, write_results

    sources = {"this tree": PROJECT_ROOT / "src"}
    if args.compare_source:
        sources = {"compared": args.compare_source.resolve(), **sources}
    start = machine_state()
    rounds: dict[str, list[dict[str, float]]] = {name: [] for name in sources}
    for round_number in range(args.rounds):
        for name, source in sources.items():
            rounds[name].append(_child(args, source))
            print(f"round {round_number + 1}, {name}: {rounds[name][-1]}", flush=True)
    result = {
        "measured_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "project": str(args.project),
        "env": args.env,
        "n_batches": args.n_batches,
        "rounds": args.rounds,
        "sources": {
            name: {
                "source": str(source),
                "commit": _commit(source),
                "rounds": rounds[name],
                "median": {key: float(np.median([r[key] for r in rounds[name]])) for key in rounds[name][0]},
            }
            for name, source in sources.items()
        },
        "machine_start": start,
        "machine_end": machine_state(),
    }
    write_results(args.out, result, _markdown(result))


if __name__ == "__main__":
    main()
