"""Ranking: wall time per candidate cap, what the cap costs in top-slot value, and what the snapshot costs.

Reads the artifacts of a finished default-world run through the catalog (copy /work/main/data or
run `kedro run` up to ctr_training first):

    .venv/bin/python benchmarks/bench_ranking.py                  # caps on a sample, snapshot effect
    .venv/bin/python benchmarks/bench_ranking.py --pipeline-run   # + one timed `ranking` pipeline run

Candidates: `retrieved_candidates` when the catalog has it, else a stand-in of the same shape
(random launched ads plus each request's logged ads, tests/ranking/retrieval_stand_in.py).

1. Caps: a sample of test-day requests with K retrieved candidates each is ranked with
   max_per_request = K (the baseline: everything scored) and smaller caps, `--repeats` times
   each; the median wall time is reported with its ratio to the baseline. The value of each
   model's top slot is measured with the simulator's ground truth (true pCTR at the reference
   slot, true expected CPC revenue bid x true pCTR), beside the best true pCTR among all K.
2. Snapshot: the logged test-day impressions scored with their logged (running, same-day)
   statistics and with the daily snapshot's, every other column equal: AUC and calibration ratio.
3. `--pipeline-run`: `kedro run --pipelines ranking` with the project's parameters in a child
   process: wall time and peak memory.
Results: benchmarks/results/ranking.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from adrank_pipelines.features.candidates import CandidateSides, candidate_sides
from adrank_pipelines.features.recipe import FeatureRecipeArtifact
from adrank_pipelines.features.snapshot import SnapshotLookup, daily_snapshots
from adrank_pipelines.graph_config import model_blocks
from adrank_pipelines.marketplace.ground_truth import Context, GroundTruth
from adrank_pipelines.models.calibration import calibrated_pctr
from adrank_pipelines.models.metrics import auc, calibration_ratio
from adrank_pipelines.models.scoring import predict_ctr
from adrank_pipelines.models.zoo import scoring_closure, zoo_model
from adrank_pipelines.models.zoo.interface import ModelInput, SideTables
from adrank_pipelines.models.zoo.lightgbm.booster import predict_lightgbm
from adrank_pipelines.ranking.candidates import cap_per_request
from adrank_pipelines.ranking.params import CandidateParams, ObjectiveParams, ScoringParams
from adrank_pipelines.ranking.rank import rank_candidates
from adrank_pipelines.ranking.scoring import CandidateScorer

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
sys.path.insert(0, str(PROJECT_ROOT))  # the retrieval stand-in lives with the tests
from tests.ranking.retrieval_stand_in import retrieved_stand_in  # noqa: E402

CATALOG_INPUTS = [
    "validated_requests", "validated_users", "validated_ads", "validated_advertisers", "ad_features",
    "impressions_enriched", "feature_recipe", "behaviour_sequences", "model_input_test", "truth_users",
    "truth_ads", "truth_world",
]  # fmt: skip
# The models whose test-day AUC and calibration the snapshot comparison measures (raw pCTR, saved calibrator).
SNAPSHOT_MODELS = ("lightgbm", "transformer")


def _model_artifacts(params: dict) -> tuple[list[str], list[str], list[str]]:
    """As the ranking pipeline wires them: the trained models scored per batch (the ranked ones, the pCVR
    model and every model they read), the ranked models' calibrators, the text embeddings of text readers."""
    scoring = params["ranking"]["scoring"]
    ranked = list(scoring["models"])
    scored = scoring_closure([*ranked, scoring["pcvr_model"]], model_blocks(params))
    text = [name for name in scored if ModelInput.TEXT in zoo_model(name).inputs]
    return scored, ranked, text


def _load(env: str) -> tuple[dict, dict, pd.DataFrame | None]:
    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT, env=None if env == "base" else env) as session:
        context = session.load_context()
        params = context.config_loader["parameters"]
        scored, ranked, text = _model_artifacts(params)
        names = [
            *CATALOG_INPUTS,
            *(f"{name}.trained_model" for name in [*scored, *SNAPSHOT_MODELS]),
            *(f"{name}.calibrator" for name in [*ranked, *SNAPSHOT_MODELS]),
            *(f"{name}.ad_text_embeddings" for name in [*text, "transformer"]),
        ]
        loaded = {name: context.catalog.load(name) for name in dict.fromkeys(names)}
        retrieved = None
        if "retrieved_candidates" in context.catalog and context.catalog.exists("retrieved_candidates"):
            retrieved = context.catalog.load("retrieved_candidates")
    return loaded, params, retrieved


def _true_pctr(pairs: pd.DataFrame, sides: CandidateSides, truth: GroundTruth, position: int) -> np.ndarray:
    """The simulator's click probability of each (request, ad) pair shown in slot ``position``."""
    request_rows, _ad_rows = sides.rows(pairs["request_id"].to_numpy(), pairs["ad_id"].to_numpy())
    requests = sides.requests.iloc[request_rows]
    context = Context(
        position=np.full(len(pairs), position), hour=requests["hour"].to_numpy(), day=requests["day"].to_numpy(),
        placement=requests["placement"].astype(str).to_numpy(), platform=requests["platform"].astype(str).to_numpy(),
    )  # fmt: skip
    return truth.click_probability(requests["user_id"].to_numpy(), pairs["ad_id"].to_numpy(), context)


def _true_top_values(ranked: pd.DataFrame, sides: CandidateSides, truth: GroundTruth, position: int) -> dict:
    """Per model, the mean true pCTR and true bid x pCTR of its top candidates."""
    values = {}
    for model, top in ranked.loc[ranked["rank"] == 0].groupby("model", sort=False):
        pctr = _true_pctr(top, sides, truth, position)
        bids = sides.ads["bid"].to_numpy()[sides.rows(top["request_id"].to_numpy(), top["ad_id"].to_numpy())[1]]
        values[model] = {"true_pctr": float(pctr.mean()), "true_revenue": float((pctr * bids).mean())}
    return values


def _oracle(candidates: pd.DataFrame, sides: CandidateSides, truth: GroundTruth, position: int) -> dict:
    """The best true pCTR among all candidates of each request: the ceiling of the top slot's pCTR."""
    pctr = _true_pctr(candidates, sides, truth, position)
    return {"true_pctr": float(pd.Series(pctr).groupby(candidates["request_id"].to_numpy()).max().mean())}


def _snapshot_effect(loaded: dict, sides_all: CandidateSides, lookups: dict) -> dict:
    """Logged test-day rows scored with their logged statistics and with the snapshot's."""
    test = loaded["model_input_test"]
    request_rows, ad_rows = sides_all.rows(test["request_id"].to_numpy(), test["ad_id"].to_numpy())
    (lookup,) = lookups.values()
    with_snapshot = test.assign(**lookup.statistics(request_rows, ad_rows).set_index(test.index))
    clicks = test["click"].to_numpy()
    rows = {}
    for statistics_source, frame in (("logged (running)", test), ("daily snapshot", with_snapshot)):
        lightgbm = predict_lightgbm(loaded["lightgbm.trained_model"].model, frame)["pctr"]
        lightgbm = calibrated_pctr(loaded["lightgbm.calibrator"], lightgbm, frame, "model_input_test")
        transformer = predict_ctr(loaded["transformer.trained_model"].model, frame, loaded["behaviour_sequences"],
                                  loaded["ad_features"], loaded["transformer.ad_text_embeddings"])["pctr"].to_numpy()  # fmt: skip
        transformer = calibrated_pctr(loaded["transformer.calibrator"], transformer, frame, "model_input_test")
        rows[statistics_source] = {
            name: {"auc": auc(clicks, p), "calibration_ratio": calibration_ratio(clicks, p)}
            for name, p in (("lightgbm", lightgbm), ("transformer", transformer))
        }
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="base")
    parser.add_argument("--requests", type=int, default=600, help="test-day requests in the cap sample")
    parser.add_argument("--top-k", type=int, default=500, help="retrieved candidates per request")
    parser.add_argument("--caps", default="500,200,100,50", help="max_per_request values; the first is the baseline")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pipeline-run", action="store_true")
    args = parser.parse_args()

    loaded, params, retrieved = _load(args.env)
    ranking = params["ranking"]
    candidate_params = CandidateParams.model_validate(ranking["candidates"])
    scoring = ScoringParams.model_validate(ranking["scoring"])
    objective = ObjectiveParams.model_validate(ranking["objective"])
    # Candidate features as the ranking pipeline builds them: from the features pipeline's saved recipe.
    feature_recipe = FeatureRecipeArtifact.model_validate(loaded["feature_recipe"])
    stats = feature_recipe.target_stats
    torch.set_num_threads(scoring.num_threads)

    test = loaded["model_input_test"]
    requests = loaded["validated_requests"]
    test_requests = requests.loc[requests["request_id"].isin(test["request_id"].unique())]
    source = "retrieved_candidates"
    if retrieved is None:
        source = f"stand-in: {args.top_k} random launched ads incl. the logged ones"
        sample_ids = test_requests["request_id"].sample(n=args.requests, random_state=0)
        retrieved = retrieved_stand_in(test_requests.loc[test_requests["request_id"].isin(sample_ids)], test,
                                       loaded["validated_ads"], args.top_k)  # fmt: skip
    sample_ids = pd.Series(retrieved["request_id"].unique()).sample(n=args.requests, random_state=0)
    sample = retrieved.loc[retrieved["request_id"].isin(sample_ids)]

    sides = candidate_sides(
        test_requests["request_id"].to_numpy(), test_requests, loaded["validated_users"], loaded["validated_ads"],
        loaded["validated_advertisers"], loaded["ad_features"], loaded["behaviour_sequences"],
        candidate_params.reference_position,
    )  # fmt: skip
    snapshots = daily_snapshots(loaded["impressions_enriched"], sides.requests, stats.keys, stats.smoothing_strength,
                                stats.initial_prior_ctr)  # fmt: skip
    lookups = {
        day: SnapshotLookup(s, sides.requests.columns, sides.ads).for_requests(sides.requests)
        for day, s in snapshots.items()
    }
    recipe = feature_recipe.candidate_recipe()
    # The scorer as the ranking pipeline builds it: the saved models and calibrators (never refitted).
    scored, ranked, text = _model_artifacts(params)
    scorer = CandidateScorer(
        scoring.models, scoring.pcvr_model,
        {name: loaded[f"{name}.trained_model"] for name in scored},
        {name: loaded[f"{name}.calibrator"] for name in ranked},
        SideTables(sequences=loaded["behaviour_sequences"], ad_features=loaded["ad_features"]),
        {name: loaded[f"{name}.ad_text_embeddings"] for name in text},
    )  # fmt: skip
    truth = GroundTruth(loaded["truth_users"], loaded["truth_ads"], loaded["truth_world"])
    position = candidate_params.reference_position

    caps = [int(cap) for cap in args.caps.split(",")]
    cap_rows, top_ads = [], {}
    for cap in caps:
        capped = cap_per_request(sample, cap)
        timings, outcome = [], None
        for _ in range(args.repeats):
            started = time.perf_counter()
            outcome = rank_candidates(capped, sides, lookups, recipe, scorer, objective,
                                      candidate_params.requests_per_batch)  # fmt: skip
            timings.append(time.perf_counter() - started)
        top = outcome.ranked.loc[outcome.ranked["rank"] == 0].set_index(["model", "request_id"])["ad_id"]
        top_ads[cap] = top
        cap_rows.append({
            "cap": cap, "pairs": len(capped), "median_s": statistics.median(timings), "runs_s": timings,
            "components_s": outcome.seconds, "top_values": _true_top_values(outcome.ranked, sides, truth, position),
        })  # fmt: skip
    baseline = cap_rows[0]
    for row in cap_rows:
        row["time_ratio_to_baseline"] = row["median_s"] / baseline["median_s"]
        row["top_equals_baseline_top"] = {
            model: float((top_ads[row["cap"]].xs(model) == top_ads[baseline["cap"]].xs(model)).mean())
            for model in scoring.models
        }
    oracle = _oracle(cap_per_request(sample, baseline["cap"]), sides, truth, position)

    snapshot_effect = _snapshot_effect(loaded, sides, lookups)

    pipeline_run = None
    if args.pipeline_run:
        pipeline_run = _timed_pipeline_run(args.env)
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch threads {scoring.num_threads}",
        "load_average_1min_at_end": os.getloadavg()[0],
        "env": args.env, "candidates": source, "sample_requests": args.requests,
        "test_day_requests": len(test_requests), "caps": cap_rows, "oracle_top": oracle,
        "snapshot_effect": snapshot_effect, "pipeline_run": pipeline_run,
    }  # fmt: skip
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "ranking.json").write_text(json.dumps(result, indent=2, default=float))
    lines = _markdown(result, scoring.models)
    (RESULTS / "ranking.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def _timed_pipeline_run(env: str) -> dict:
    """`kedro run --pipelines ranking` in a child process: its wall time, peak memory and report."""
    command = [sys.executable, "-m", "kedro", "run", "--pipelines", "ranking", "--env", env]
    started = time.perf_counter()
    subprocess.run(command, cwd=PROJECT_ROOT, check=True, capture_output=True)
    wall = time.perf_counter() - started
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # the largest child: this run
    report = json.loads((PROJECT_ROOT / "data" / "08_reporting" / "ranking_report.json").read_text())
    return {"wall_s": wall, "peak_mib": peak_mib, "report": report}


def _markdown(result: dict, models: list[str]) -> list[str]:
    lines = [
        f"# ranking, env `{result['env']}` ({result['measured_at']}, {result['machine']}, "
        f"load average {result['load_average_1min_at_end']:.1f} at the end)",
        "",
        f"Candidates: {result['candidates']}. Cap sample: {result['sample_requests']} test-day requests; "
        f"the day has {result['test_day_requests']:,}. Medians of the runs; true values from the simulator's "
        "ground truth at the reference slot.",
        "",
        "| max_per_request | pairs | median s | ratio to baseline | "
        + " | ".join(f"{m} top = baseline top | {m} top true pCTR | {m} top true bid x pCTR" for m in models)
        + " |",
        "|---|---|---|---|" + "---|---|---|" * len(models),
    ]
    for row in result["caps"]:
        cells = [
            f"{row['top_equals_baseline_top'][m]:.3f} | {row['top_values'][m]['true_pctr']:.4f} | "
            f"{row['top_values'][m]['true_revenue']:.4f}"
            for m in models
        ]
        lines.append(
            f"| {row['cap']} | {row['pairs']:,} | {row['median_s']:.1f} | {row['time_ratio_to_baseline']:.2f} | "
            + " | ".join(cells)
            + " |"
        )
    lines += ["", f"Oracle top slot (best true pCTR among all candidates): {result['oracle_top']['true_pctr']:.4f}", ""]
    components = result["caps"][0]["components_s"]
    lines.append("Baseline run, seconds by component: " + ", ".join(f"{k} {v:.1f}" for k, v in components.items()))
    lines += ["", "| statistics of the logged test day | model | AUC | calibration ratio |", "|---|---|---|---|"]
    for source, by_model in result["snapshot_effect"].items():
        for model, figures in by_model.items():
            lines.append(f"| {source} | {model} | {figures['auc']:.4f} | {figures['calibration_ratio']:.3f} |")
    if result["pipeline_run"]:
        run = result["pipeline_run"]
        report = run["report"]
        lines += [
            "",
            f"`kedro run --pipelines ranking`: {run['wall_s']:.0f} s wall, peak {run['peak_mib']:,.0f} MiB, "
            f"{report['requests']:,} requests x "
            f"{report['candidates_per_request']:.0f} candidates x {len(report['models'])} models; node seconds: "
            + ", ".join(f"{k} {v:.0f}" for k, v in report["seconds"].items()),
        ]
    return lines


if __name__ == "__main__":
    main()
