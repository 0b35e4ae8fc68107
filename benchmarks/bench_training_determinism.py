"""Is a transformer fit bitwise repeatable? Two identical fits with 2 torch threads, and with 1.

Fits the zoo's transformer (conf/base settings, one epoch) on the first rows of a finished default-world
run's model inputs, twice per thread count, and reports the largest weight difference between the two
fits. A difference with 2 threads and none with 1 means multi-threaded CPU kernels reorder float sums:
a re-run of the whole graph cannot be compared bitwise with an earlier one.

    .venv/bin/python benchmarks/bench_training_determinism.py --project /path/to/a/project/after/kedro/run
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pandas as pd
import torch
from kedro.config import OmegaConfigLoader

from adrank_pipelines.models.zoo import model_params, zoo_model
from adrank_pipelines.models.zoo.interface import SideTables, TrainingData
from adrank_pipelines.settings import CONFIG_LOADER_ARGS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"


def _machine_state() -> dict[str, Any]:
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=False)
    return {"commit": commit.stdout.strip(), "cores": os.cpu_count(), "load_average_1min": os.getloadavg()[0]}


def _transformer_block() -> dict[str, Any]:
    loader = OmegaConfigLoader(
        str(PROJECT_ROOT / "conf"),
        base_env="base",
        default_run_env="base",
        merge_strategy=CONFIG_LOADER_ARGS["merge_strategy"],
    )
    block: dict[str, Any] = loader["parameters"]["ctr_models"]["transformer"]
    return block


def _training_data(data: Path, train_rows: int, valid_rows: int) -> TrainingData:
    model_input = data / "05_model_input"
    return TrainingData(
        train=pd.read_parquet(model_input / "model_input_train.parquet").head(train_rows),
        valid=pd.read_parquet(model_input / "model_input_valid.parquet").head(valid_rows),
        spec=json.loads((model_input / "feature_spec.json").read_text()),
        side=SideTables(
            pd.read_parquet(data / "04_feature" / "behaviour_sequences.parquet"),
            pd.read_parquet(model_input / "ad_features.parquet"),
            pd.read_parquet(model_input / "transformer" / "ad_text_embeddings.parquet"),
        ),
    )


def _largest_gap(first: dict[str, torch.Tensor], second: dict[str, torch.Tensor]) -> float:
    return max(float((first[name].float() - second[name].float()).abs().max()) for name in first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--project", type=Path, required=True, help="a project directory after a default-world run")
    parser.add_argument("--train-rows", type=int, default=200_000)
    parser.add_argument("--valid-rows", type=int, default=50_000)
    args = parser.parse_args()
    start = _machine_state()
    data = _training_data(args.project / "data", args.train_rows, args.valid_rows)
    block = _transformer_block()
    zoo = zoo_model("transformer")
    gaps, seconds = {}, {}
    for threads in (2, 1):
        one_epoch = {"max_epochs": 1, "min_steps": 0}  # min_steps 0: never more epochs for a small sample
        training = block["training"] | one_epoch | {"show_progress": False, "num_threads": threads}
        params = model_params("transformer", block | {"training": training})
        fits = []
        for _ in range(2):
            began = time.perf_counter()
            network = zoo.fit(data, params).model
            seconds.setdefault(f"{threads}_threads", []).append(round(time.perf_counter() - began, 1))
            fits.append({name: value.detach().clone() for name, value in network.state_dict().items()})
        gaps[f"{threads}_threads"] = _largest_gap(*fits)
    result = {
        "train_rows": args.train_rows,
        "epochs": 1,
        "max_abs_weight_difference_between_two_fits": gaps,
        "fit_seconds": seconds,
        "machine_start": start,
        "machine_end": _machine_state(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "training_determinism.json").write_text(json.dumps(result, indent=2) + "\n")
    lines = [
        "# Transformer fit repeatability",
        "",
        f"Commit `{start['commit'][:10]}`, {start['cores']} cores; {args.train_rows:,} train rows, one epoch, conf/base.",
        "",
        "| torch threads | largest weight difference between two identical fits | seconds per fit |",
        "|---|---|---|",
        *(f"| {key.split('_')[0]} | {gap:.3g} | {seconds[key]} |" for key, gap in gaps.items()),
    ]
    (RESULTS / "training_determinism.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
