"""The model zoo on the default world: existing models' figures before and after, and the new models beside the transformer.

Compares two finished `kedro run`s of the default world (each a project directory with its `data/`):
the CTR evaluation report (every subset, every metric) and the auction grid (`auction_outcomes.csv`)
of every model the earlier run reported must be equal; the models only the later run has (DeepFM,
DCN-v2) are reported beside the transformer: test AUC, cold-start AUC, calibration.

    git worktree add /tmp/before <earlier commit>; (cd /tmp/before && kedro run)   # the earlier code
    git worktree add /tmp/after HEAD; (cd /tmp/after && kedro run)                 # this commit
    .venv/bin/python benchmarks/bench_model_zoo.py --before /tmp/before --after /tmp/after
"""

from __future__ import annotations

import argparse
import json
import math
import os
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
REPORT = Path("data/08_reporting/ctr_evaluation_report.json")
AUCTION = Path("data/08_reporting/auction_outcomes.csv")
AUCTION_KEYS = ["mechanism", "model", "reading"]
SHOWN_METRICS = ["auc", "logloss", "calibration_ratio", "ece"]
SHOWN_SUBSETS = ["all", "cold_start", "new_on_test_day"]


def _machine_state() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    return {"commit": commit.stdout.strip(), "cores": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}


def _difference(before: float | None, after: float | None) -> float:
    """|after - before|; 0 where both are undefined (NaN / None), inf where only one is."""
    undefined = [value is None or (isinstance(value, float) and math.isnan(value)) for value in (before, after)]
    if all(undefined):
        return 0.0
    if any(undefined):
        return math.inf
    return abs(float(after) - float(before))  # type: ignore[arg-type]


def compare_reports(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Per model of ``before``: the largest metric difference over every subset, and the subsets compared."""
    largest: dict[str, float] = {}
    for subset, content in before["subsets"].items():
        later = after["subsets"][subset]["metrics"]
        for model, metrics in content["metrics"].items():
            for metric, value in metrics.items():
                gap = _difference(value, later.get(model, {}).get(metric))
                largest[model] = max(largest.get(model, 0.0), gap)
    return {"subsets": sorted(before["subsets"]), "max_abs_difference": largest}


def compare_auctions(before: pd.DataFrame, after: pd.DataFrame) -> dict[str, Any]:
    """Rows of ``before`` matched in ``after`` by mechanism, model and reading; the largest difference per column."""
    joined = before.merge(after, on=AUCTION_KEYS, how="left", suffixes=("_before", "_after"), indicator=True)
    numeric = [column for column in before.columns if column not in AUCTION_KEYS]
    gaps = {
        column: max(
            (_difference(b, a) for b, a in zip(joined[f"{column}_before"], joined[f"{column}_after"], strict=True)),
            default=0.0,
        )
        for column in numeric
    }
    return {
        "rows": len(before),
        "rows_missing_after": int((joined["_merge"] == "left_only").sum()),
        "models": sorted(before["model"].unique()),
        "max_abs_difference": gaps,
    }


def model_table(report: dict[str, Any], models: list[str]) -> dict[str, dict[str, dict[str, float]]]:
    """model -> subset -> the shown metrics, for the models of ``report``."""
    return {
        model: {
            subset: {
                metric: report["subsets"][subset]["metrics"][model][metric]
                for metric in SHOWN_METRICS
                if model in report["subsets"][subset]["metrics"]
            }
            for subset in SHOWN_SUBSETS
            if subset in report["subsets"]
        }
        for model in models
    }


def _markdown(result: dict[str, Any]) -> str:
    lines = [
        "# Model zoo on the default world",
        "",
        f"Commit `{result['machine_start']['commit'][:10]}`, {result['machine_start']['cores']} cores. "
        f"Earlier run: `{result['before']}`; this run: `{result['after']}`.",
        "",
        result["note"],
        "",
        "## Existing models: before and after",
        "",
        f"CTR report ({', '.join(result['ctr_report']['subsets'])}), largest |after - before| of any metric:",
        "",
        "| model | max abs difference |",
        "|---|---|",
        *(f"| {model} | {gap:.3g} |" for model, gap in result["ctr_report"]["max_abs_difference"].items()),
        "",
        f"Auction grid: {result['auction_grid']['rows']} rows (mechanism x model x reading) of "
        f"{', '.join(result['auction_grid']['models'])}; {result['auction_grid']['rows_missing_after']} missing after; "
        f"largest difference over every column {max(result['auction_grid']['max_abs_difference'].values()):.3g}.",
        "",
        "## New models beside the transformer (test day)",
        "",
        "| model | subset | AUC | logloss | predicted / observed CTR | ECE |",
        "|---|---|---|---|---|---|",
    ]
    for model, subsets in result["new_models"].items():
        for subset, metrics in subsets.items():
            cells = [f"{metrics.get(metric, float('nan')):.4f}" for metric in SHOWN_METRICS]
            lines.append(f"| {model} | {subset} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="project directory of the earlier run")
    parser.add_argument("--after", type=Path, required=True, help="project directory of this commit's run")
    parser.add_argument("--name", default="model_zoo", help="results file name under benchmarks/results/")
    parser.add_argument("--note", default="", help="how the two runs were made, kept with the results")
    args = parser.parse_args()
    start = _machine_state()
    before_report = json.loads((args.before / REPORT).read_text())
    after_report = json.loads((args.after / REPORT).read_text())
    earlier = before_report["subsets"]["all"]["metrics"]
    added = [model for model in after_report["subsets"]["all"]["metrics"] if model not in earlier]
    shown = ["transformer", "transformer_calibrated", *added, "oracle"]
    result = {
        "before": str(args.before),
        "after": str(args.after),
        "note": args.note,
        "machine_start": start,
        "ctr_report": compare_reports(before_report, after_report),
        "auction_grid": compare_auctions(pd.read_csv(args.before / AUCTION), pd.read_csv(args.after / AUCTION)),
        "new_models": model_table(after_report, shown),
        "machine_end": _machine_state(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{args.name}.json").write_text(json.dumps(result, indent=2) + "\n")
    (RESULTS / f"{args.name}.md").write_text(_markdown(result))
    print(_markdown(result))


if __name__ == "__main__":
    main()
