"""The click-log graph's models side by side: test AUC over several training seeds on the same rows and split.

For each format, `kedro run --env <format> --pipelines ctr` runs once on the file (ingest, validate,
features, every model of `clicklog_training.models`: the logistic regression `baseline`, LightGBM,
DeepFM, DCN-v2 and the field-attention model with the environment's settings), then
`--pipelines clicklog_training` once per further seed on the same model inputs. Seed i sets every
model's seed to its configured value + i (the logistic regression has none: it is deterministic), so
the first seed is a plain `kedro run`. Each run is a fresh process in a throw-away copy of the
project (the user's data/ and MLflow store stay untouched).

Generated files (``adrank_pipelines.clicklogs.synthetic``) have a planted click probability, whose
AUC on the same test rows is the ceiling; a file of your own (``--file``) has none. ``--params`` is
passed on to every run, e.g. the split: ``clicklog_features.splits.method=random``.

Results: benchmarks/results/<out>.{json,md} (default clicklog_ctr) with each model's AUC per seed,
mean and standard deviation, and a ``clicklog`` key merged into benchmarks/results/ctr_zoo.json.

    .venv/bin/python benchmarks/bench_clicklog_ctr.py                          # avazu + criteo, 10,000 rows, 3 seeds
    .venv/bin/python benchmarks/bench_clicklog_ctr.py --formats criteo --rows 50000 --seeds 5
    .venv/bin/python benchmarks/bench_clicklog_ctr.py --file /data/avazu/train.gz --format avazu \\
        --params clicklog_max_rows=10000,clicklog_features.splits.method=random
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from bench_data_pipelines import _project_copy  # the same throw-away project layout
from kedro.config import OmegaConfigLoader
from omegaconf import OmegaConf

from adrank_pipelines.clicklogs.evaluation import model_metrics
from adrank_pipelines.clicklogs.synthetic import GENERATORS, SyntheticLog
from adrank_pipelines.models.config import TorchCtrParams
from adrank_pipelines.models.evaluation_config import EvaluationParams
from adrank_pipelines.models.zoo import model_params
from adrank_pipelines.settings import CONFIG_LOADER_ARGS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
FILE_NAMES = {"avazu": "train.gz", "criteo": "train.txt.gz"}
LABEL_COLUMNS = {"avazu": "click", "criteo": "label"}
FIELD_ATTENTION = "field_attention"  # the model the others are compared with
REPORT = Path("data/08_reporting/clicklog_evaluation_report.json")
TEST_INPUT = Path("data/05_model_input/clicklog/clicklog_model_input_test.parquet")
SPLIT_COUNTS = {
    split: Path(f"data/05_model_input/clicklog/clicklog_model_input_{split}.parquet")
    for split in ("train", "valid", "test")
}


def machine_state() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    return {"commit": commit.stdout.strip(), "cores": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}


def environment_parameters(project: Path, env: str, params: dict[str, Any]) -> dict[str, Any]:
    """The parameters `kedro run --env <env> --params ...` reads in ``project``, loaded as Kedro loads them."""
    loader = OmegaConfigLoader(str(project / "conf"), env=env, runtime_params=params, **CONFIG_LOADER_ARGS)
    return dict(loader["parameters"])


def seed_overrides(parameters: dict[str, Any], offset: int) -> dict[str, int]:
    """``--params`` items that move every listed model's seed by ``offset`` from its configured value."""
    blocks = parameters.get("ctr_models") or {}
    overrides: dict[str, int] = {}
    for name in parameters["clicklog_training"]["models"]:
        typed = model_params(name, blocks.get(name))
        if isinstance(typed, TorchCtrParams):
            overrides[f"ctr_models.{name}.training.seed"] = typed.training.seed + offset
        elif isinstance(getattr(typed, "seed", None), int):
            overrides[f"ctr_models.{name}.seed"] = typed.seed + offset  # type: ignore[attr-defined]
    return overrides


def param_items(text: str) -> list[str]:
    """The ``key.path=value`` items of a comma-separated `kedro run --params` value."""
    return [item.strip() for item in text.split(",") if item.strip()]


def parse_params(items: list[str]) -> dict[str, Any]:
    """``items`` as `kedro run --params` reads them: a nested mapping."""
    return dict(OmegaConf.to_container(OmegaConf.from_dotlist(items)))  # type: ignore[arg-type]


def _kedro_run(project: Path, env: str, pipeline: str, params: list[str]) -> float:
    command = [str(Path(sys.executable).with_name("kedro")), "run", "--env", env, "--pipelines", pipeline,
               "--params", ",".join(params)]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=project, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} exited with {done.returncode}:\n{done.stderr[-4000:]}")
    return time.perf_counter() - started


def _planted_auc(project: Path, log: SyntheticLog, env: str, params: EvaluationParams) -> float:
    """AUC of the planted probability on the rows the run put in its test split (impression_id = line)."""
    rows = pd.read_parquet(project / TEST_INPUT, columns=["impression_id"])["impression_id"].to_numpy()
    rows = rows - (1 + int(log.header))
    labels = log.frame[LABEL_COLUMNS[env]].to_numpy()[rows].astype(np.float64)
    return model_metrics(labels, log.true_ctr[rows], params)["auc"]


def summarise(per_seed: list[dict[str, float]]) -> dict[str, dict[str, Any]]:
    """Per model: its AUC per seed, their mean and (population) standard deviation."""
    summary: dict[str, dict[str, Any]] = {}
    for model in per_seed[0]:
        aucs = [run[model] for run in per_seed]
        summary[model] = {"auc_mean": statistics.fmean(aucs), "auc_std": statistics.pstdev(aucs), "auc": aucs}
    return summary


def run_format(env: str, source: Path | SyntheticLog, n_seeds: int, extra: str) -> dict[str, Any]:
    """Every model's test AUC over ``n_seeds`` seeds on one file (generated, or the user's)."""
    with tempfile.TemporaryDirectory(prefix="adrank-bench-clicklog-") as tmp:
        project = _project_copy(Path(tmp))
        log_file = source if isinstance(source, Path) else source.write(project / "downloads" / FILE_NAMES[env])
        user_params = param_items(extra)
        parameters = environment_parameters(project, env, parse_params(user_params))
        models = list(parameters["clicklog_training"]["models"])
        per_seed, seconds = [], []
        for offset in range(n_seeds):
            seeds = [f"{key}={value}" for key, value in seed_overrides(parameters, offset).items()]
            pipeline = "ctr" if offset == 0 else "clicklog_training"
            seconds.append(_kedro_run(project, env, pipeline, [f"clicklog_path={log_file}", *user_params, *seeds]))
            report = json.loads((project / REPORT).read_text())
            per_seed.append({name: report["subsets"]["all"]["metrics"][name]["auc"] for name in models})
        splits = {
            split: len(pd.read_parquet(project / path, columns=["click"])) for split, path in SPLIT_COUNTS.items()
        }
        evaluation = EvaluationParams.model_validate(report["params"])
        planted = None if isinstance(source, Path) else _planted_auc(project, source, env, evaluation)
    summary = summarise(per_seed)
    peers = [model for model in models if model != FIELD_ATTENTION]
    best_peer = max(peers, key=lambda model: summary[model]["auc_mean"]) if peers else None
    gap = (
        summary[FIELD_ATTENTION]["auc_mean"] - summary[best_peer]["auc_mean"]
        if best_peer is not None and FIELD_ATTENTION in summary
        else None
    )
    return {
        "file": str(source) if isinstance(source, Path) else f"generated {env}-format, {len(source.frame):,} rows",
        "params": extra,
        "split_rows": splits,
        "test_ctr": report["subsets"]["all"]["ctr"],
        "planted_auc": planted,
        "seconds_per_run": seconds,
        "models": summary,
        "best_baseline": best_peer,
        "field_attention_minus_best_baseline": gap,
    }


def _markdown(result: dict[str, Any]) -> str:
    start, end = result["machine_start"], result["machine_end"]
    lines = [
        f"# Click-log models over {result['seeds']} seeds ({result['measured_at']}, {result['machine']})",
        "",
        f"Commit `{start['commit'][:10]}`, {start['cores']} cores, load average {start['load_average_1min']:.2f} at "
        f"the start and {end['load_average_1min']:.2f} at the end. Command: `{result['command']}`.",
        "",
        "Test AUC, mean ± standard deviation over the seeds (the same rows and split for every seed; seed i "
        "moves every model's seed by i; the logistic regression is deterministic).",
    ]
    for name, block in result["formats"].items():
        split = block["split_rows"]
        planted = "" if block["planted_auc"] is None else f", planted-probability AUC {block['planted_auc']:.4f}"
        params = f"; --params {block['params']}" if block["params"] else ""
        lines += [
            "",
            f"## {name}: {block['file']}",
            "",
            f"Split train / valid / test {split['train']:,} / {split['valid']:,} / {split['test']:,} rows, "
            f"test CTR {block['test_ctr']:.3f}{planted}; {statistics.fmean(block['seconds_per_run']):.0f} s "
            f"per run{params}.",
            "",
            "| model | AUC mean | AUC std | per seed |",
            "|---|---|---|---|",
        ]
        for model, m in sorted(block["models"].items(), key=lambda item: -item[1]["auc_mean"]):
            seeds = ", ".join(f"{auc:.4f}" for auc in m["auc"])
            lines.append(f"| {model} | {m['auc_mean']:.4f} | {m['auc_std']:.4f} | {seeds} |")
        if block["field_attention_minus_best_baseline"] is not None:
            lines += [
                "",
                f"field_attention - best other model ({block['best_baseline']}): "
                f"{block['field_attention_minus_best_baseline']:+.4f} AUC.",
            ]
    return "\n".join(lines) + "\n"


def merge_zoo_results(path: Path, formats: dict[str, Any]) -> None:
    """Write the ``clicklog`` key of ``path`` ({format: {model: {auc_mean, auc_std}}}), keeping its other keys."""
    existing = json.loads(path.read_text()) if path.exists() else {}
    existing["clicklog"] = {
        name: {model: {"auc_mean": m["auc_mean"], "auc_std": m["auc_std"]} for model, m in block["models"].items()}
        for name, block in formats.items()
    }
    path.write_text(json.dumps(existing, indent=2) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--formats", nargs="*", choices=sorted(GENERATORS), default=sorted(GENERATORS),
                        help="generated files to run (none with --formats and no name)")  # fmt: skip
    parser.add_argument("--rows", type=int, default=10_000, help="rows of each generated file")
    parser.add_argument("--data-seed", type=int, default=0, help="seed of the generated files")
    parser.add_argument("--seeds", type=int, default=3, help="training seeds per file")
    parser.add_argument("--file", type=Path, help="a click log of your own, run beside the generated ones")
    parser.add_argument("--format", choices=sorted(GENERATORS), help="the environment that reads --file")
    parser.add_argument("--params", default="", help="passed to every run: key.path=value items, comma-separated")
    parser.add_argument("--out", default="clicklog_ctr", help="results name under benchmarks/results/")
    parser.add_argument("--results", type=Path, default=RESULTS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if (args.file is None) != (args.format is None):
        parser.error("--file and --format go together: --format names the environment that reads the file")
    if args.seeds < 1 or args.rows < 1:
        parser.error("--seeds and --rows must be at least 1")

    started = machine_state()
    formats = {
        env: run_format(env, GENERATORS[env](args.rows, seed=args.data_seed), args.seeds, args.params)
        for env in args.formats
    }
    if args.file is not None:
        formats[f"{args.format} ({args.file.name})"] = run_format(
            args.format, args.file.resolve(), args.seeds, args.params
        )
    result = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "machine_start": started,
        "machine_end": machine_state(),
        "command": " ".join(["benchmarks/bench_clicklog_ctr.py", *(argv if argv is not None else sys.argv[1:])]),
        "rows": args.rows,
        "seeds": args.seeds,
        "formats": formats,
    }
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / f"{args.out}.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.results / f"{args.out}.md").write_text(_markdown(result))
    merge_zoo_results(args.results / "ctr_zoo.json", formats)
    print(_markdown(result))


if __name__ == "__main__":
    main()
