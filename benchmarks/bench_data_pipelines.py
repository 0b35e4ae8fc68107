"""Time ingest + validate + features on the default world and on a larger one.

Each stage runs as its own `kedro run --pipeline` in a fresh process (in a throw-away copy of the
project, so the user's data/ stays untouched) and reports its wall time and peak resident memory.
Results go to benchmarks/results/data_pipelines.{json,md}.

    .venv/bin/python benchmarks/bench_data_pipelines.py            # 1x and 10x
    .venv/bin/python benchmarks/bench_data_pipelines.py --scales 1  # default world only
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
STAGES = ("ingest", "validate", "features")
SCALED_SIZES = ("n_users", "n_advertisers", "n_ads", "requests_per_day")

_STAGE_SCRIPT = """
import json, resource, sys, time
from pathlib import Path
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project
project, stage, params = Path(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
bootstrap_project(project)
start = time.perf_counter()
with KedroSession.create(project_path=project, runtime_params=params) as session:
    session.run(pipeline_name=stage)
seconds = time.perf_counter() - start
peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mib": peak_mib}))
"""


def _project_copy(workdir: Path) -> Path:
    shutil.copytree(PROJECT_ROOT / "conf", workdir / "conf", ignore=shutil.ignore_patterns("local"))
    (workdir / "conf" / "local").mkdir()
    shutil.copy(PROJECT_ROOT / "pyproject.toml", workdir)
    shutil.copy(PROJECT_ROOT / ".telemetry", workdir)
    # The package is installed (editable); bootstrap_project only needs the source folder to exist.
    (workdir / "src").mkdir()
    return workdir


def _base_sizes() -> dict[str, int]:
    from kedro.config import OmegaConfigLoader

    params = OmegaConfigLoader(str(PROJECT_ROOT / "conf"), base_env="base", default_run_env="base")["parameters"]
    return {key: params["marketplace"][key] for key in SCALED_SIZES}


def run_scale(scale: int) -> dict:
    sizes = {key: value * scale for key, value in _base_sizes().items()}
    with tempfile.TemporaryDirectory(prefix="adrank-bench-") as tmp:
        project = _project_copy(Path(tmp))
        stages = {}
        for stage in STAGES:
            done = subprocess.run(
                [sys.executable, "-c", _STAGE_SCRIPT, str(project), stage, json.dumps({"marketplace": sizes})],
                cwd=project,
                capture_output=True,
                text=True,
                check=False,
            )
            if done.returncode != 0:
                raise RuntimeError(f"stage {stage} at scale {scale} failed:\n{done.stderr[-4000:]}")
            stages[stage] = json.loads(done.stdout.strip().splitlines()[-1])
        rows = len(pd.read_parquet(project / "data" / "01_raw" / "impressions.parquet", columns=["impression_id"]))
    total = sum(s["seconds"] for s in stages.values())
    return {
        "scale": scale,
        "sizes": sizes,
        "impressions": rows,
        "stages": stages,
        "total_seconds": total,
        "rows_per_second": rows / total,
        "peak_mib": max(s["peak_mib"] for s in stages.values()),
    }


def _markdown(report: dict) -> str:
    lines = [
        f"# ingest + validate + features ({report['measured_at']}, {report['machine']})",
        "",
        "| scale | impressions | ingest s | validate s | features s | total s | rows/s | peak MiB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in report["runs"]:
        s = r["stages"]
        lines.append(
            f"| {r['scale']}x | {r['impressions']:,} | {s['ingest']['seconds']:.1f} | {s['validate']['seconds']:.1f} "
            f"| {s['features']['seconds']:.1f} | {r['total_seconds']:.1f} | {r['rows_per_second']:,.0f} | {r['peak_mib']:,.0f} |"
        )
    if "cost_growth" in report:
        lines += [
            "",
            f"Seconds per row at the largest scale / at 1x: {report['cost_growth']:.2f} (<= 1 means linear or better).",
        ]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    runs = [run_scale(scale) for scale in args.scales]
    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {__import__('os').cpu_count()} cores",
        "runs": runs,
    }
    if len(runs) > 1:
        per_row = [r["total_seconds"] / r["impressions"] for r in runs]
        report["cost_growth"] = per_row[-1] / per_row[0]
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "data_pipelines.json").write_text(json.dumps(report, indent=2))
    (RESULTS / "data_pipelines.md").write_text(_markdown(report))
    print(_markdown(report))


if __name__ == "__main__":
    main()
