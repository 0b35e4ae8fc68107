"""Transformer CTR model: training throughput and the latency of scoring 500 candidates for one request.

Reads the artifacts of a finished `kedro run` (default world) through the catalog:

    .venv/bin/kedro run                                  # or --pipelines ingest,validate,features,ctr_training
    .venv/bin/python benchmarks/bench_ctr_model.py       # CPU
    .venv/bin/python benchmarks/bench_ctr_model.py --env gpu   # on a CUDA machine

Training throughput: one epoch on a sample of the train days with the environment's parameters.
Latency: the trained model scores 500 candidate ads of one request (its behaviour sequence encoded
once), repeated, median and p99; LightGBM scoring the same 500 rows is the baseline of the same run.
The candidates are 500 test-day rows re-attached to one request: the cost does not depend on
which ads they are. Results: benchmarks/results/ctr_model_<env>.{json,md}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from kedro.framework.session import KedroSession
from kedro.framework.startup import bootstrap_project

from adrank_pipelines.models.config import CtrTransformerParams
from adrank_pipelines.models.prepare import prepare_ads
from adrank_pipelines.models.scoring import candidate_latency_ms
from adrank_pipelines.models.training import fit_ctr_model
from adrank_pipelines.models.zoo import zoo_model
from adrank_pipelines.models.zoo.lightgbm.booster import predict_lightgbm
from adrank_pipelines.models.zoo.torch_network import TorchZooModel

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
N_CANDIDATES = 500


def _lightgbm_latency_ms(ranker, candidates: pd.DataFrame, repeats: int) -> dict[str, float]:
    predict_lightgbm(ranker, candidates)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        predict_lightgbm(ranker, candidates)
        timings.append((time.perf_counter() - started) * 1000.0)
    return {"median_ms": float(np.median(timings)), "p99_ms": float(np.percentile(timings, 99))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--env", default="base")
    parser.add_argument("--train-rows", type=int, default=200_000)
    parser.add_argument("--repeats", type=int, default=200)
    args = parser.parse_args()

    bootstrap_project(PROJECT_ROOT)
    with KedroSession.create(project_path=PROJECT_ROOT, env=None if args.env == "base" else args.env) as session:
        context = session.load_context()
        catalog = context.catalog
        params = CtrTransformerParams.model_validate(context.config_loader["parameters"]["ctr_models"]["transformer"])
        load = catalog.load
        train, valid, test = (load(f"model_input_{split}") for split in ("train", "valid", "test"))
        sequences, ad_features = load("behaviour_sequences"), load("ad_features")
        text = load("transformer.ad_text_embeddings")
        spec = load("feature_spec")
        # The catalog holds TrainedModel(zoo, model): the CtrNetwork and the LightGBMRanker themselves.
        model, lightgbm = load("transformer.trained_model").model, load("lightgbm.trained_model").model

    zoo = zoo_model("transformer")  # its network builder and text encoder, as ctr_training fits it
    if not isinstance(zoo, TorchZooModel):
        raise TypeError(f"the zoo's transformer is a {type(zoo).__name__}, not a torch network")
    # min_steps 0: exactly one epoch, however few steps the sample holds.
    one_epoch = params.model_copy(
        update={"training": params.training.model_copy(update={"max_epochs": 1, "min_steps": 0})}
    )
    sample = train.sample(n=min(args.train_rows, len(train)), random_state=0).sort_values("event_time")
    _, history = fit_ctr_model(
        sample, valid.head(20_000), sequences, ad_features, text, spec, one_epoch,
        zoo.network_builder(one_epoch), zoo.text_encoder(one_epoch),
    )  # fmt: skip

    torch.set_num_threads(params.training.num_threads)
    request_id = test["request_id"].iloc[0]
    candidates = test.sample(n=N_CANDIDATES, random_state=0).assign(request_id=request_id)
    request_sequence = sequences.loc[sequences["request_id"] == request_id]
    ads = prepare_ads(model, ad_features, text)
    transformer = candidate_latency_ms(model, candidates, request_sequence, ads, repeats=args.repeats)
    baseline = _lightgbm_latency_ms(lightgbm, candidates, args.repeats)

    report = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, torch threads {params.training.num_threads}",
        "env": args.env,
        "device": params.training.device,
        "train_rows": len(sample),
        "train_samples_per_second": history[0]["samples_per_second"],
        "batch_size": params.training.batch_size,
        "candidates": N_CANDIDATES,
        "transformer_latency_ms": transformer,
        "lightgbm_latency_ms": baseline,
        "latency_ratio_transformer_to_lightgbm": transformer["median_ms"] / baseline["median_ms"],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"ctr_model_{args.env}.json").write_text(json.dumps(report, indent=2))
    lines = [
        f"# transformer CTR model, env `{args.env}` ({report['measured_at']}, {report['machine']})",
        "",
        "| measure | value |",
        "|---|---|",
        f"| training throughput (1 epoch, {len(sample):,} rows, batch {params.training.batch_size}) | {report['train_samples_per_second']:,.0f} samples/s |",
        f"| score {N_CANDIDATES} candidates, transformer: median / p99 | {transformer['median_ms']:.1f} / {transformer['p99_ms']:.1f} ms |",
        f"| same {N_CANDIDATES} rows, LightGBM: median / p99 | {baseline['median_ms']:.1f} / {baseline['p99_ms']:.1f} ms |",
    ]
    (RESULTS / f"ctr_model_{args.env}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
