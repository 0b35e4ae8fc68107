"""Time `kedro run --env avazu --pipelines ctr` on a generated Avazu-format log and check what it learns.

The log (``adrank_pipelines.clicklogs.synthetic``) has a planted click probability, so the test
split's AUC of that probability is the ceiling (the "oracle") a model can reach; each model's
share of the planted signal is (AUC - 0.5) / (oracle AUC - 0.5). The command runs in a fresh
process in a throw-away copy of the project (the user's data/ and MLflow store stay untouched).
Results go to benchmarks/results/clicklog_ctr_<env>.{json,md}.

    .venv/bin/python benchmarks/bench_clicklog_ctr.py                      # avazu, 200,000 rows
    .venv/bin/python benchmarks/bench_clicklog_ctr.py --env criteo --rows 100000
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from bench_data_pipelines import _project_copy  # the same throw-away project layout

from adrank_pipelines.clicklogs.evaluation import model_metrics
from adrank_pipelines.clicklogs.synthetic import GENERATORS
from adrank_pipelines.models.evaluation_config import EvaluationParams

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
FILE_NAMES = {"avazu": "train.gz", "criteo": "train.txt.gz"}


def _oracle(project: Path, log_truth: np.ndarray, labels: pd.Series, first_line: int, params: EvaluationParams) -> dict:
    """Metrics of the planted probability on the rows the run put in its test split."""
    test = pd.read_parquet(project / "data" / "05_model_input" / "clicklog" / "clicklog_model_input_test.parquet")
    rows = test["impression_id"].to_numpy() - first_line
    return model_metrics(labels.to_numpy()[rows].astype(np.float64), log_truth[rows], params)


def run(env: str, n_rows: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="adrank-bench-clicklog-") as tmp:
        project = _project_copy(Path(tmp))
        log = GENERATORS[env](n_rows, seed=seed)
        log_file = log.write(project / "downloads" / FILE_NAMES[env])
        command = [str(Path(sys.executable).with_name("kedro")), "run", "--env", env, "--pipelines", "ctr",
                   "--params", f"clicklog_path={log_file}"]  # fmt: skip
        started = time.perf_counter()
        done = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise RuntimeError(
                f"{' '.join(command)} exited with {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
            )
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        report = json.loads((project / "data" / "08_reporting" / "clicklog_evaluation_report.json").read_text())
        params = EvaluationParams.model_validate(report["params"])
        labels = log.frame.iloc[:, 1 if env == "avazu" else 0]
        oracle = _oracle(project, log.true_ctr, labels, 1 + int(log.header), params)
    models = report["subsets"]["all"]["metrics"]
    return {
        "env": env,
        "rows": n_rows,
        "seed": seed,
        "command": f"kedro run --env {env} --pipelines ctr --params clicklog_path=<generated {FILE_NAMES[env]}>",
        "wall_seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mib": usage.ru_maxrss / 1024,
        "test_rows": report["subsets"]["all"]["rows"],
        "test_ctr": report["subsets"]["all"]["ctr"],
        "metrics": {**models, "planted (oracle)": oracle},
        "share_of_planted_signal": {
            name: (metrics["auc"] - 0.5) / (oracle["auc"] - 0.5) for name, metrics in models.items()
        },
    }


def _markdown(result: dict) -> str:
    lines = [
        f"# `ctr` on a generated {result['env']}-format log ({result['measured_at']}, {result['machine']})",
        "",
        f"`{result['command']}`: {result['rows']:,} rows (seed {result['seed']}), "
        f"**{result['wall_seconds']:.0f} s wall**, {result['cpu_seconds']:.0f} s CPU, "
        f"peak {result['peak_mib']:,.0f} MiB.",
        "",
        f"Test split: {result['test_rows']:,} rows, CTR {result['test_ctr']:.3f}.",
        "",
        "| model | AUC | logloss | normalized entropy | calibration ratio | ECE | share of planted signal |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, m in result["metrics"].items():
        share = result["share_of_planted_signal"].get(name, 1.0)
        lines.append(
            f"| {name} | {m['auc']:.4f} | {m['logloss']:.4f} | {m['normalized_entropy']:.4f} "
            f"| {m['calibration_ratio']:.3f} | {m['ece']:.4f} | {share:.2f} |"
        )
    lines += ["", "Share of planted signal: (AUC - 0.5) / (planted-probability AUC - 0.5) on the same test rows."]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", choices=sorted(GENERATORS), default="avazu")
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        **run(args.env, args.rows, args.seed),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"clicklog_ctr_{args.env}.json").write_text(json.dumps(result, indent=2))
    (RESULTS / f"clicklog_ctr_{args.env}.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
