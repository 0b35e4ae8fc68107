"""ingest + validate + features on the Dask path (`--env dask`) and the pandas path, at growing world sizes.

Each stage runs as its own `kedro run --pipeline` in a fresh process, in a throw-away copy of the project
(the user's data/ stays untouched). A sampler thread records the peak resident memory of that process and
of every process it starts (sampled every 0.2 s: the LocalCluster's worker processes on the Dask path), so
`peak_gib` is the largest single process, the figure the issue's per-process target reads. At 1x the LightGBM of both paths
is also trained on the Dask path's model inputs (lgb.train vs lightgbm.dask on a 2-worker LocalCluster)
and scored on the test day.

    .venv/bin/python benchmarks/bench_scaleout_data.py --scales 1        # the default world only
    .venv/bin/python benchmarks/bench_scaleout_data.py --scales 1 10     # and 10x (about 14 GiB on the pandas path)

Results: benchmarks/results/scaleout_data.{json,md}, and the `dask` / `pandas` keys of
benchmarks/results/scaleout.json per size (its other keys and other sizes are kept).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # the benchmarks' own modules
from benchmarks.bench_data_pipelines import STAGES, _base_sizes, _project_copy  # noqa: E402
from benchmarks.bench_serving import machine_state, write_results  # noqa: E402

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
GIB = 1024**3
PATHS = {"pandas": "local", "dask": "dask"}  # local: conf/base alone (the folder is empty)

_STAGE_SCRIPT = """
import json, resource, sys, threading, time
from pathlib import Path
import psutil
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
project, env, stage, params = Path(sys.argv[1]), sys.argv[2], sys.argv[3], json.loads(sys.argv[4])
me, peaks, done = psutil.Process(), {}, threading.Event()
def sample():
    while not done.is_set():
        for process in [me, *me.children(recursive=True)]:
            try:
                peaks[process.pid] = max(peaks.get(process.pid, 0), process.memory_info().rss)
            except psutil.Error:
                pass
        done.wait(0.2)
sampler = threading.Thread(target=sample, daemon=True)
sampler.start()
bootstrap_project(project)
start = time.perf_counter()
with KedroSession.create(project_path=project, env=env, runtime_params=params) as session:
    session.run(pipeline_name=stage)
seconds = time.perf_counter() - start
done.set()
sampler.join()
own = max(peaks.pop(me.pid, 0), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
# Children sampled only: RUSAGE_CHILDREN also counts a short-lived fork (a git call) at its parent's size.
print(json.dumps({"seconds": seconds, "driver_peak_bytes": own, "worker_peak_bytes": max(peaks.values(), default=0),
                  "worker_processes": len(peaks)}))
"""


def _run_stage(project: Path, env: str, stage: str, params: dict[str, Any]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", _STAGE_SCRIPT, str(project), env, stage, json.dumps(params)],
        cwd=project,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"stage {stage} on env {env} failed:\n{done.stderr[-4000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def lightgbm_test_aucs(data: Path) -> dict[str, float]:
    """Test-day AUC of the base LightGBM trained in-process and with lightgbm.dask on 2 worker processes."""
    from distributed import Client, LocalCluster
    from sklearn.metrics import roc_auc_score

    from adrank_pipelines.models.zoo.lightgbm.booster import LightGBMParams, predict_lightgbm, train_lightgbm
    from tests.conftest import project_parameters

    frames = {
        s: pd.read_parquet(data / "05_model_input" / f"model_input_{s}.parquet") for s in ("train", "valid", "test")
    }
    spec = json.loads((data / "05_model_input" / "feature_spec.json").read_text())
    block = {k: v for k, v in project_parameters("base")["ctr_models"]["lightgbm"].items() if k != "calibration"}
    aucs = {}
    for engine in ("local", "dask"):
        params = LightGBMParams.model_validate({**block, "engine": engine})
        with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, Client(cluster):
            ranker = train_lightgbm(frames["train"], frames["valid"], spec, params)
        scores = predict_lightgbm(ranker, frames["test"])["pctr"]
        aucs[engine] = float(roc_auc_score(frames["test"]["click"], scores))
        aucs[f"{engine}_best_iteration"] = ranker.best_iteration
    return aucs


def run_path(path: str, scale: int, with_lightgbm: bool) -> dict[str, Any]:
    sizes = {key: value * scale for key, value in _base_sizes().items()}
    start = machine_state()
    with tempfile.TemporaryDirectory(prefix="adrank-scaleout-") as tmp:
        project = _project_copy(Path(tmp))
        stages = {stage: _run_stage(project, PATHS[path], stage, {"marketplace": sizes}) for stage in STAGES}
        data = project / "data"
        rows = len(pd.read_parquet(data / "01_raw" / "impressions.parquet", columns=["impression_id"]))
        lightgbm = lightgbm_test_aucs(data) if with_lightgbm else None
    seconds = sum(s["seconds"] for s in stages.values())
    driver = max(s["driver_peak_bytes"] for s in stages.values())
    workers = max(s["worker_peak_bytes"] for s in stages.values())
    return {
        "scale": scale,
        "impressions": rows,
        "seconds": seconds,
        "seconds_per_million_rows": seconds / rows * 1e6,
        "peak_gib": max(driver, workers) / GIB,
        "driver_peak_gib": driver / GIB,
        "worker_peak_gib": workers / GIB,
        "stages": {
            name: {
                "seconds": s["seconds"],
                "driver_peak_gib": s["driver_peak_bytes"] / GIB,
                "worker_peak_gib": s["worker_peak_bytes"] / GIB,
                "worker_processes": s["worker_processes"],
            }
            for name, s in stages.items()
        },
        "lightgbm_test_auc": lightgbm,
        "machine_start": start,
        "machine_end": machine_state(),
    }


def _markdown(runs: list[dict[str, Any]]) -> str:
    lines = [
        "# Data stages on the Dask and pandas paths (benchmarks/bench_scaleout_data.py)",
        "",
        "Peak memory per process: the driver (the `kedro run` process) and the largest process it started (the Dask workers).",
        "",
        "| path | scale | measured | impressions | ingest s | validate s | features s | s per M rows | driver GiB | worker GiB | load 1 min start / end |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        s = r["stages"]
        lines.append(
            f"| {r['path']} | {r['scale']}x | {r['measured_at']} | {r['impressions']:,} | {s['ingest']['seconds']:.0f} | "
            f"{s['validate']['seconds']:.0f} | {s['features']['seconds']:.0f} | {r['seconds_per_million_rows']:.1f} | "
            f"{r['driver_peak_gib']:.2f} | {r['worker_peak_gib']:.2f} | "
            f"{r['machine_start']['load_average_1min']:.1f} / {r['machine_end']['load_average_1min']:.1f} |"
        )
    for r in runs:
        if r["lightgbm_test_auc"]:
            a = r["lightgbm_test_auc"]
            lines += [
                "",
                f"LightGBM at {r['scale']}x on the {r['path']} path's model inputs, test-day AUC: lgb.train "
                f"{a['local']:.4f} ({a['local_best_iteration']} trees), lightgbm.dask on 2 workers {a['dask']:.4f} "
                f"({a['dask_best_iteration']} trees); difference {abs(a['dask'] - a['local']):.4f}.",
            ]
    return "\n".join(lines) + "\n"


_HEADLINE_KEYS = (
    "peak_gib",
    "seconds_per_million_rows",
    "driver_peak_gib",
    "worker_peak_gib",
    "impressions",
    "seconds",
)


def merge_headlines(path: Path, runs: list[dict[str, Any]]) -> None:
    """Write ``dask`` / ``pandas`` per size into the scale-out results file, keeping every other key and size."""
    merged = json.loads(path.read_text()) if path.is_file() else {}
    for r in runs:
        entry = {key: r[key] for key in _HEADLINE_KEYS}
        entry["load_average_1min"] = [r["machine_start"]["load_average_1min"], r["machine_end"]["load_average_1min"]]
        entry.update(
            measured_at=r["measured_at"],
            commit=r["machine_start"]["commit"],
            details="benchmarks/results/scaleout_data.json",
        )
        if r["lightgbm_test_auc"]:
            entry["lightgbm_test_auc"] = r["lightgbm_test_auc"]
        merged.setdefault(r["path"], {})[f"{r['scale']}x"] = entry
    path.write_text(json.dumps(merged, indent=1) + "\n")


def record(run: dict[str, Any]) -> None:
    """Add ``run`` to the results files as soon as it is measured (replacing an earlier run of its path and size)."""
    details = RESULTS / "scaleout_data.json"
    previous = json.loads(details.read_text())["runs"] if details.is_file() else []
    runs = [r for r in previous if (r["path"], r["scale"]) != (run["path"], run["scale"])] + [run]
    runs.sort(key=lambda r: (r["scale"], r["path"]))
    write_results(details, {"runs": runs}, _markdown(runs))
    merge_headlines(RESULTS / "scaleout.json", [run])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1])
    parser.add_argument("--paths", nargs="+", choices=sorted(PATHS), default=["dask", "pandas"])
    args = parser.parse_args()
    for scale in args.scales:
        for path in args.paths:
            measured_at = datetime.now(UTC).isoformat(timespec="seconds")
            run = run_path(path, scale, with_lightgbm=scale == 1 and path == "dask")
            record({"path": path, "measured_at": measured_at, **run})


if __name__ == "__main__":
    main()
