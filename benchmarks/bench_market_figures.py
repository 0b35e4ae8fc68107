"""The market-quality figures of a finished default-world run, read against the simulator's ground truth.

Per model of the run's ranking and auction grid: GSP's expected social welfare as a share of the oracle's
(mean over the click-draw seeds), the top slot's mean predicted pCTR over its mean true pCTR (over the ranked
evaluation requests), and on the test day the mean calibrated pCTR of the cold-start ads' impressions over their
observed CTR. Merged into benchmarks/results/market_quality.json under the keys the market-quality issue names,
with the run they were read from; nothing is re-run.

    .venv/bin/python benchmarks/bench_market_figures.py --project /path/to/finished/project
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # the benchmarks' own modules

from benchmarks.bench_market_quality import MECHANISM, welfare_figures  # noqa: E402
from benchmarks.bench_serving import machine_state  # noqa: E402

RESULTS = PROJECT_ROOT / "benchmarks" / "results"


def top_slot_pred_over_true(data: Path) -> dict[str, float]:
    """Per ranked model: mean pCTR of the ads it puts in the top slot over their mean true pCTR."""
    ranked = pd.read_parquet(data / "07_model_output" / "ranked_candidates.parquet", filters=[("rank", "==", 1)])
    truth = pd.read_parquet(
        data / "07_model_output" / "candidate_truth.parquet", columns=["request_id", "ad_id", "true_pctr"]
    )
    top = ranked.merge(truth, on=["request_id", "ad_id"], how="left", validate="many_to_one")
    if top["true_pctr"].isna().any():
        raise ValueError("candidate_truth lacks the true pCTR of some top-slot ads: rerun ranking and auction_eval")
    means = top.groupby("model")[["pctr", "true_pctr"]].mean()
    return {str(model): float(row["pctr"] / row["true_pctr"]) for model, row in means.iterrows()}


def cold_start_pred_over_obs(data: Path, models: list[str]) -> dict[str, Any]:
    """Per model: on the test day's impressions of cold-start ads, mean calibrated pCTR over observed CTR."""
    world = json.loads((data / "01_raw" / "ground_truth" / "truth_world.json").read_text())
    impressions = pd.read_parquet(
        data / "01_raw" / "impressions.parquet", columns=["impression_id", "ad_id", "day", "click"]
    )
    cold = impressions.loc[
        impressions["ad_id"].isin(world["cold_start_ad_ids"]) & (impressions["day"] == world["days"]["test_day"])
    ]
    figures: dict[str, Any] = {"impressions": len(cold), "clicks": int(cold["click"].sum())}
    for model in models:
        predictions = pd.read_parquet(data / "07_model_output" / model / "calibrated_predictions.parquet")
        scored = cold.merge(predictions, on="impression_id", validate="one_to_one")
        figures[model] = float(scored["pctr"].mean() / scored["click"].mean())
    return figures


def market_figures(project: Path) -> dict[str, Any]:
    data = project / "data"
    welfare = welfare_figures(data)
    if welfare is None:
        raise SystemExit(f"{data}/08_reporting/auction_comparison.json is missing: run the default pipeline first")
    top_slot = top_slot_pred_over_true(data)
    learnt = sorted(top_slot)
    return {
        "welfare_share_of_oracle": {model: row["share_of_oracle"] for model, row in welfare.items()},
        "top_slot_pred_over_true": top_slot,
        "cold_start_pred_over_obs": cold_start_pred_over_obs(data, learnt),
    }


def _commit(project: Path) -> str | None:
    """The commit the finished run was made from (None outside a git checkout)."""
    done = subprocess.run(["git", "rev-parse", "HEAD"], cwd=project, capture_output=True, text=True, check=False)
    return done.stdout.strip() or None


def _markdown(figures: dict[str, Any]) -> str:
    rows = "\n".join(
        f"| {model} | {figures['welfare_share_of_oracle'].get(model, float('nan')):.3f} | {ratio:.3f} | "
        f"{figures['cold_start_pred_over_obs'][model]:.3f} |"
        for model, ratio in figures["top_slot_pred_over_true"].items()
    )
    cold = figures["cold_start_pred_over_obs"]
    return f"""# Market quality of {figures["project"]} ({MECHANISM}, expected outcomes)

The run was made at commit {(figures["project_commit"] or "unknown")[:10]}. Cold-start ads on the test day: {cold["impressions"]} impressions,
{cold["clicks"]} clicks. Targets: welfare >= 0.75 of the oracle's, top slot within 5%, cold start within 10%.

| model | welfare / oracle | top slot pred / true | cold start pred / obs |
|---|---|---|---|
{rows}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True, help="a finished default-world project (read only)")
    parser.add_argument("--out", type=Path, default=RESULTS / "market_quality.json")
    args = parser.parse_args()
    start = machine_state()
    figures = market_figures(args.project)
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    # The run's figures under the keys; the retrieval before / after figures and their machine state stay.
    current = {"project": str(args.project), "project_commit": _commit(args.project), **figures}
    current |= {"machine_start": start, "machine_end": machine_state()}
    args.out.write_text(json.dumps(existing | figures | {"current_default": current}, indent=2) + "\n")
    markdown = _markdown(current)
    args.out.with_name(f"{args.out.stem}_figures.md").write_text(markdown)
    print(markdown)


if __name__ == "__main__":
    main()
