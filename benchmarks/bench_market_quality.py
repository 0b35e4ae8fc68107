"""Retrieval quality of the transformer's towers on a finished default-world run: before vs after a change.

Reads two projects whose `kedro run` has finished: ``--before`` (read only) and ``--project`` (where this script
runs the stages it measures, so it must be a copy: its data/ is rewritten). Steps, each resumable (``--steps``):

1. ``before_bid_weight_0``: `kedro run --pipeline indexing --params indexing.bid_weight=0` in ``--project`` while
   it still holds the before run's models (the before run's own report has the default bid_weight only);
2. ``train``: `kedro run --pipeline ctr_training --namespaces transformer,hybrid`, then the CTR report node;
3. ``after_bid_weight_0`` and ``after_default``: indexing with bid_weight 0, then with conf/base's bid_weight;
4. ``auction``: `kedro run --pipelines ranking,auction_eval --to-outputs auction_comparison` on the after
   candidates (``--auction-params``: e.g. only the models this project holds);
5. ``write``: benchmarks/results/market_quality.json and .md.

Per retrieval step: the share of sampled requests whose oracle-best ad (true eCPM, ground truth) is among the
pipeline's K candidates (the indexing report's figure), and the share of the test day's clicked impressions
whose ad is among their request's candidates. The CTR figure is the transformer's test-day AUC with a paired
bootstrap of the after - before difference on the same impressions; welfare is GSP's expected social welfare
(mean over the click-draw seeds) and its share of the oracle's. Every kedro command's wall time and load
average at start and end are recorded.

    .venv/bin/python benchmarks/bench_market_quality.py --before /work/run_default --project /work/run_copy
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import roc_auc_score

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))  # the benchmarks' own modules

from benchmarks.bench_serving import machine_state, write_results  # noqa: E402

RESULTS = PROJECT_ROOT / "benchmarks" / "results"
STEPS = ("before_bid_weight_0", "train", "after_bid_weight_0", "after_default", "auction", "write")
MODEL = "transformer"
MECHANISM = "gsp"
BOOTSTRAP_DRAWS = 200


def _kedro(project: Path, arguments: list[str]) -> dict[str, Any]:
    """Run one kedro command in ``project`` (its conf is read from the working directory)."""
    command = [str(project / ".venv" / "bin" / "kedro"), "run", *arguments]
    start_load, started = os.getloadavg(), time.perf_counter()
    subprocess.run(command, cwd=project, check=True, stdout=subprocess.DEVNULL)
    return {
        "command": " ".join(["kedro", "run", *arguments]),
        "seconds": round(time.perf_counter() - started, 1),
        "load_average_start": [round(x, 2) for x in start_load],
        "load_average_end": [round(x, 2) for x in os.getloadavg()],
    }


def retrieval_figures(data: Path) -> dict[str, Any]:
    """The pipeline's oracle-best-ad share (indexing report) and the clicked ads' share among the candidates."""
    report = json.loads((data / "08_reporting" / "indexing_report.json").read_text())
    candidates = pd.read_parquet(
        data / "07_model_output" / "retrieved_candidates.parquet", columns=["request_id", "ad_id"]
    )
    test = pd.read_parquet(
        data / "05_model_input" / "model_input_test.parquet", columns=["request_id", "ad_id", "click"]
    )
    clicked = test.loc[test["click"] > 0, ["request_id", "ad_id"]]
    found = clicked.merge(candidates.drop_duplicates().assign(found=True), on=["request_id", "ad_id"], how="left")
    pipeline = report["pipeline"]
    return {
        "bid_weight": report["bid_weight"],
        "top_k": report["top_k"],
        "oracle_best_ad_share": pipeline["oracle_best_ad_share"],
        "exact_search_oracle_best_ad_share": pipeline["exact_oracle_best_ad_share"],
        "oracle_requests": report["oracle_requests"],
        "clicked_ad_share": float(found["found"].fillna(False).astype(bool).mean()) if len(found) else None,
        "clicked_impressions": len(clicked),
    }


def _test_predictions(data: Path) -> pd.Series:
    frame = pd.read_parquet(data / "07_model_output" / MODEL / "predictions.parquet", columns=["impression_id", "pctr"])
    return frame.set_index("impression_id")["pctr"]


def auc_figures(before: Path, after: Path, seed: int = 0) -> dict[str, Any]:
    """Test-day AUC of each fit; with both, a paired bootstrap of their difference on the same impressions."""
    test = pd.read_parquet(after / "05_model_input" / "model_input_test.parquet", columns=["impression_id", "click"])
    clicks = test["click"].to_numpy()
    runs = {"before": before, "after": after}
    scores = {
        moment: _test_predictions(data).loc[test["impression_id"]].to_numpy()
        for moment, data in runs.items()
        if (data / "07_model_output" / MODEL / "predictions.parquet").exists()
    }
    figures: dict[str, Any] = {
        moment: float(roc_auc_score(clicks, scores[moment])) if moment in scores else None for moment in runs
    }
    if len(scores) < len(runs):
        return figures
    rng = np.random.default_rng(seed)
    differences = []
    for _ in range(BOOTSTRAP_DRAWS):
        rows = rng.integers(0, len(clicks), len(clicks))
        differences.append(
            roc_auc_score(clicks[rows], scores["after"][rows]) - roc_auc_score(clicks[rows], scores["before"][rows])
        )
    return figures | {
        "difference": figures["after"] - figures["before"],
        "paired_bootstrap_sd": float(np.std(differences)),
        "paired_bootstrap_95": [float(x) for x in np.percentile(differences, [2.5, 97.5])],
        "bootstrap_draws": BOOTSTRAP_DRAWS,
    }


def welfare_figures(data: Path) -> dict[str, Any] | None:
    path = data / "08_reporting" / "auction_comparison.json"
    if not path.exists():
        return None
    report = json.loads(path.read_text())
    expected = {model: row["expected"] for model, row in report["results"][MECHANISM].items()}
    return {
        model: {
            "social_welfare": values["social_welfare"],
            "social_welfare_std": values.get("social_welfare_std"),
            "share_of_oracle": report["share_of_oracle"][MECHANISM][model]["social_welfare"],
        }
        for model, values in expected.items()
    }


def _cell(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _markdown(result: dict[str, Any]) -> str:
    retrieval, clicked, auc = (
        result["oracle_best_ad_retrieved"],
        result["clicked_ad_retrieved"],
        result["transformer_test_auc"],
    )
    machine = result["machine_start"]
    lines = [
        "# Market quality: retrieval by the transformer's towers (default world)",
        "",
        f"Commit `{machine['commit'][:10]}` with the change under test, {machine['cores']} cores. Before: "
        f"{result['before_project']} (`-`: not measured); after: the retrieval objective "
        f"({json.dumps(result['retrieval_objective'])}). Top {result['top_k']} candidates per request.",
        "",
        "| figure | before | after |",
        "|---|---|---|",
    ]
    for key, label in (("bid_weight_0", "bid_weight 0"), ("default", "default bid_weight")):
        before, after = retrieval["before"][key], retrieval[key]
        lines.append(f"| oracle's best ad retrieved, {label} | {_cell(before)} | {_cell(after)} |")
    for key, label in (("bid_weight_0", "bid_weight 0"), ("default", "default bid_weight")):
        lines.append(
            f"| clicked ad among the candidates, {label} | {_cell(clicked['before'][key])} | "
            f"{_cell(clicked['after'][key])} |"
        )
    lines.append(f"| transformer test AUC | {_cell(auc['before'], 4)} | {_cell(auc['after'], 4)} |")
    welfare = result["welfare_gsp_expected"]
    for model in sorted(set(welfare["before"] or {}) | set(welfare["after"] or {})):
        cells = []
        for moment in ("before", "after"):
            row = (welfare[moment] or {}).get(model)
            cells.append(f"{row['social_welfare']:,.0f} ({row['share_of_oracle']:.3f})" if row else "-")
        lines.append(f"| GSP expected welfare, {model} (share of the oracle's) | {cells[0]} | {cells[1]} |")
    lines.append("")
    if "difference" in auc:
        low, high = auc["paired_bootstrap_95"]
        lines.append(
            f"AUC after - before {auc['difference']:+.4f}; paired bootstrap over the test impressions: sd "
            f"{auc['paired_bootstrap_sd']:.4f}, 95% [{low:+.4f}, {high:+.4f}] ({auc['bootstrap_draws']} draws)."
        )
        lines.append("")
    lines += [
        "Invocations (`.venv/bin/python ...`):",
        "",
        *[f"- `{invocation}`" for invocation in result["invocations"]],
        "",
        "kedro commands they ran (in the copies; wall seconds, load average 1 / 5 / 15 min at start -> end):",
        "",
    ]
    for step, run in result["runs"].items():
        for command in run:
            lines.append(
                f"- {step}: `{command['command']}` {command['seconds']:.0f} s, "
                f"load {command['load_average_start']} -> {command['load_average_end']}"
            )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", type=Path, required=True, help="a finished default-world project (read only)")
    parser.add_argument("--project", type=Path, required=True, help="a copy with the change: its data/ is rewritten")
    parser.add_argument("--before-copy", type=Path, help="a copy of --before, for the before_bid_weight_0 step")
    parser.add_argument("--train-namespaces", default="transformer,hybrid", help="the ctr_training models refitted")
    parser.add_argument(
        "--auction-params", help="--params of the auction step, e.g. ranking.scoring.models=[transformer]"
    )
    parser.add_argument(
        "--indexing-params",
        help="extra --params of the indexing steps, e.g. indexing.evaluation.index_types=[{factory: Flat}] (the "
        "pipeline's candidates and oracle share do not depend on the other index types the report compares)",
    )
    parser.add_argument("--steps", nargs="+", choices=STEPS, default=list(STEPS))
    parser.add_argument("--out", type=Path, default=RESULTS / "market_quality.json")
    parser.add_argument("--env", default=None, help="the kedro environment of both projects (default: base + local)")
    args = parser.parse_args()
    copies = [path.resolve() for path in (args.project, args.before_copy) if path is not None]
    if args.before.resolve() in copies:
        raise SystemExit("--project and --before-copy must be copies of --before: this script rewrites their data/")
    state_path = args.project / "data" / "08_reporting" / "market_quality_steps.json"
    state: dict[str, Any] = json.loads(state_path.read_text()) if state_path.exists() else {"runs": {}}
    if "machine_start" not in state:
        state["machine_start"] = machine_state()
    state.setdefault("invocations", []).append(" ".join(["benchmarks/bench_market_quality.py", *sys.argv[1:]]))

    def record(step: str, commands: list[list[str]], project: Path, measure_retrieval: bool) -> None:
        environment = ["--env", args.env] if args.env else []
        state["runs"][step] = [_kedro(project, [*command, *environment]) for command in commands]
        if measure_retrieval:
            state[step] = retrieval_figures(project / "data")
        state_path.write_text(json.dumps(state, indent=2))

    extra = f",{args.indexing_params}" if args.indexing_params else ""
    bid_weight_0 = ["--pipeline", "indexing", "--params", f"indexing.bid_weight=0{extra}"]
    default_bid_weight = ["--pipeline", "indexing", *(["--params", args.indexing_params] if extra else [])]
    for step in args.steps:
        if step == "before_bid_weight_0":
            if args.before_copy is None:
                raise SystemExit("the before_bid_weight_0 step runs in --before-copy: give one")
            record(step, [bid_weight_0], args.before_copy, measure_retrieval=True)
        elif step == "after_bid_weight_0":
            record(step, [bid_weight_0], args.project, measure_retrieval=True)
        elif step == "after_default":
            record(step, [default_bid_weight], args.project, measure_retrieval=True)
        elif step == "train":
            training = ["--pipeline", "ctr_training", "--namespaces", args.train_namespaces]
            record(step, [training], args.project, measure_retrieval=False)
        elif step == "auction":
            auction = ["--pipelines", "ranking,auction_eval", "--to-outputs", "auction_comparison"]
            auction += ["--params", args.auction_params] if args.auction_params else []
            record(step, [auction], args.project, measure_retrieval=False)
        elif step == "write":
            _write(args, state)


def _write(args: argparse.Namespace, state: dict[str, Any]) -> None:
    """The results of whatever steps ran; a before figure the before run lacks is None."""
    before_data, data = args.before / "data", args.project / "data"
    has_report = (before_data / "08_reporting" / "indexing_report.json").exists()
    figures = {
        "before": {
            "bid_weight_0": state.get("before_bid_weight_0"),
            "default": retrieval_figures(before_data) if has_report else None,
        },
        "after": {"bid_weight_0": state.get("after_bid_weight_0"), "default": state.get("after_default")},
    }

    def by_bid_weight(moment: str, name: str) -> dict[str, Any]:
        return {key: None if run is None else run[name] for key, run in figures[moment].items()}

    measured = next(run for moments in figures.values() for run in moments.values() if run is not None)
    result = {
        "before_project": str(args.before),
        "retrieval_objective": _objective_parameters(args.project, args.env),
        "top_k": measured["top_k"],
        "oracle_best_ad_retrieved": {
            **by_bid_weight("after", "oracle_best_ad_share"),
            "default_bid_weight": by_bid_weight("after", "bid_weight")["default"],
            "before": by_bid_weight("before", "oracle_best_ad_share"),
            "exact_search": {
                moment: by_bid_weight(moment, "exact_search_oracle_best_ad_share") for moment in ("before", "after")
            },
            "oracle_requests": measured["oracle_requests"],
        },
        "clicked_ad_retrieved": {
            **{moment: by_bid_weight(moment, "clicked_ad_share") for moment in ("before", "after")},
            "clicked_impressions": measured["clicked_impressions"],
        },
        "transformer_test_auc": auc_figures(before_data, data),
        "welfare_gsp_expected": {"before": welfare_figures(before_data), "after": welfare_figures(data)},
        "invocations": state["invocations"],
        "runs": state["runs"],
        "machine_start": state["machine_start"],
        "machine_end": machine_state(),
    }
    existing = json.loads(args.out.read_text()) if args.out.exists() else {}
    write_results(args.out, existing | result, _markdown(result))


def _objective_parameters(project: Path, env: str | None) -> dict[str, Any]:
    from kedro.config import OmegaConfigLoader

    from adrank_pipelines.settings import CONFIG_LOADER_ARGS

    loader = OmegaConfigLoader(conf_source=str(project / "conf"), env=env, **CONFIG_LOADER_ARGS)  # type: ignore[arg-type]
    block: dict[str, Any] = loader["parameters"]["ctr_models"][MODEL]["retrieval_objective"]
    return block


if __name__ == "__main__":
    main()
