"""The default world's CTR models over several training seeds: test AUC, cold-start AUC and calibration.

Runs `kedro run --pipeline ctr_training` once per seed in ``--project``, a finished default-world run whose
models, predictions and reports it rewrites (so take a copy), each time with every trained model's seed
moved by the same offset (LightGBM's `seed`, the networks' `training.seed`). A model's figures are those
of its calibrated score where it has a calibrator, else its raw score, on the test day (`all`) and on its
cold-start ads (`cold_start`), read from `ctr_evaluation_report`. ``--reuse-seed-0`` takes the project's
current report as offset 0's, when the run was made at this commit with conf/base's seeds.

    cp -r RUN /work/run_seeds
    .venv/bin/python benchmarks/bench_ctr_zoo.py --project /work/run_seeds --seeds 0 1 2 --reuse-seed-0

Results: the `default_world` key of benchmarks/results/ctr_zoo.json (its other keys stay) and
benchmarks/results/ctr_zoo_default_world.md.
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
sys.path.insert(0, str(PROJECT_ROOT))  # the benchmarks' own modules

from benchmarks.bench_serving import machine_state  # noqa: E402

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
REPORT = Path("data/08_reporting/ctr_evaluation_report.json")
CEILING = RESULTS / "ctr_ceiling.json"
# Each model's seed parameter and its conf/base value (offset 0).
SEED_PARAMETERS = {
    "lightgbm": ("ctr_models.lightgbm.seed", 42),
    "transformer": ("ctr_models.transformer.training.seed", 0),
    "deepfm": ("ctr_models.deepfm.training.seed", 0),
    "dcn_v2": ("ctr_models.dcn_v2.training.seed", 0),
}
MODELS = ["baseline", "lightgbm", "deepfm", "dcn_v2", "transformer", "hybrid"]


def seed_params(offset: int) -> str:
    return ",".join(f"{key}={base + offset}" for key, base in SEED_PARAMETERS.values())


def _train(project: Path, offset: int) -> dict[str, Any]:
    command = [str(project / ".venv" / "bin" / "kedro"), "run", "--pipeline", "ctr_training"]
    command += ["--params", seed_params(offset)]
    load_start, started = os.getloadavg(), time.perf_counter()
    subprocess.run(command, cwd=project, check=True, stdout=subprocess.DEVNULL)
    return {
        "command": " ".join(["kedro", *command[1:]]),
        "seconds": round(time.perf_counter() - started, 1),
        "load_average_start": [round(x, 2) for x in load_start],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }


def model_figures(report: dict[str, Any], model: str) -> dict[str, float]:
    """A model's test-day figures: its calibrated score where the report has one."""
    subsets = report["subsets"]
    key = f"{model}_calibrated" if f"{model}_calibrated" in subsets["all"]["metrics"] else model
    return {
        "auc": subsets["all"]["metrics"][key]["auc"],
        "cold_start_auc": subsets["cold_start"]["metrics"][key]["auc"],
        "calibration_ratio": subsets["all"]["metrics"][key]["calibration_ratio"],
        "cold_start_calibration_ratio": subsets["cold_start"]["metrics"][key]["calibration_ratio"],
    }


def summarise(reports: list[dict[str, Any]]) -> dict[str, Any]:
    """Per model, each figure's mean over the seeds' reports, with the AUC's standard deviation."""
    summary: dict[str, Any] = {}
    for model in MODELS:
        per_seed = [model_figures(report, model) for report in reports]
        means = {name: statistics.fmean(row[name] for row in per_seed) for name in per_seed[0]}
        spread = statistics.stdev(row["auc"] for row in per_seed) if len(per_seed) > 1 else 0.0
        summary[model] = means | {"auc_std": spread, "auc_by_seed": [row["auc"] for row in per_seed]}
    return summary


def _markdown(result: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {model} | {row['auc']:.4f} ± {row['auc_std']:.4f} | {row['cold_start_auc']:.4f} | "
        f"{row['calibration_ratio']:.3f} | {row['cold_start_calibration_ratio']:.3f} |"
        for model, row in result["models"].items()
    )
    runs = "\n".join(f"- `{run['command']}`: {run['seconds']:.0f} s" for run in result["runs"])
    return f"""# CTR models of the default world over {len(result["seed_offsets"])} training seeds

Test day, calibrated scores where a model has a calibrator; mean over seed offsets {result["seed_offsets"]}
(± the AUC's standard deviation). Oracle AUC {result["oracle_auc"]:.4f}, ideal learner
{result["ideal_learner_auc"]:.4f} (`ctr_ceiling.json`). Commit {result["machine_start"]["commit"][:10]},
{result["machine_start"]["cores"]} cores, load {result["machine_start"]["load_average_1min"]:.2f} at start and
{result["machine_end"]["load_average_1min"]:.2f} at end.

| model | AUC | cold-start AUC | pred / obs | cold-start pred / obs |
|---|---|---|---|---|
{rows}

Runs:
{runs}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True, help="a copy of a finished default-world run")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="offsets added to every seed")
    parser.add_argument("--reuse-seed-0", action="store_true", help="offset 0 is the project's current report")
    parser.add_argument("--out", type=Path, default=RESULTS / "ctr_zoo.json")
    args = parser.parse_args()
    if len(args.seeds) < 2:
        parser.error("--seeds: at least two offsets, for a spread")
    start = machine_state()
    reports, runs = [], []
    for offset in args.seeds:
        if not (offset == 0 and args.reuse_seed_0):
            runs.append(_train(args.project, offset))
        reports.append(json.loads((args.project / REPORT).read_text()))
    oracle = reports[0]["subsets"]["all"]["metrics"]["oracle"]["auc"]
    ideal = json.loads(CEILING.read_text())["ceilings"][-1]["auc"]
    result = {
        "project": str(args.project),
        "seed_offsets": args.seeds,
        "reused_seed_0": args.reuse_seed_0,
        "oracle_auc": oracle,
        "ideal_learner_auc": ideal,
        "models": summarise(reports),
        "runs": runs,
        "machine_start": start,
        "machine_end": machine_state(),
    }
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    args.out.write_text(json.dumps(existing | {"default_world": result}, indent=2) + "\n")
    markdown = _markdown(result)
    args.out.with_name(f"{args.out.stem}_default_world.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
