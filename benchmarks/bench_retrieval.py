"""FAISS retrieval on a 1M-ad synthetic catalog: recall@K against exact search versus query latency.

    .venv/bin/python benchmarks/bench_retrieval.py                 # 1,000,000 ads, a few minutes on 2 cores
    .venv/bin/python benchmarks/bench_retrieval.py --n-ads 100000  # a quick look

The catalog imitates the CTR model's towers: ads are grouped in categories and themes (clustered
vectors of the model's ``relevance_dim``, with a spread of norms), users lean to a few themes, and
bids are log-normal. The vectors go through the pipeline's own transform (``indexing.metric`` and
``indexing.bid_weight`` of conf/base), so the benchmark searches what the pipeline would index.
Exact search (Flat) is the baseline of the same run: every index's recall@K is measured against
it, and its latency is the denominator of the speed-ups. Single-query latency: one search per
query; batched: searches of ``--batch-size`` queries. Results: benchmarks/results/retrieval.{json,md,png}.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from kedro.config import OmegaConfigLoader

from adrank_pipelines.models.config import CtrTransformerParams
from adrank_pipelines.models.zoo import model_params
from adrank_pipelines.retrieval.config import IndexingParams, IndexSpec
from adrank_pipelines.retrieval.evaluation import query_latency_ms, recall_at_k
from adrank_pipelines.retrieval.index import EXACT, build_index, index_bytes, search, set_search_parameters, use_threads
from adrank_pipelines.retrieval.report_plots import recall_latency_plot
from adrank_pipelines.retrieval.vectors import indexed_ad_vectors, indexed_query_vectors
from adrank_pipelines.settings import CONFIG_LOADER_ARGS

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RESULTS = PROJECT_ROOT / "benchmarks" / "results"
# Sweeps: each index is built once, then searched with each search-parameter value. IVF1024: ~1,000
# ads per list; more lists would train k-means on far more points (FAISS samples 256 per centroid)
# than 2 cores finish in minutes.
SWEEPS: list[tuple[IndexSpec, str, list[int]]] = [
    (IndexSpec(factory="IVF1024,Flat", mips_to_l2=True), "nprobe", [8, 16, 32, 64, 128]),
    (IndexSpec(factory="IVF1024,Flat"), "nprobe", [16, 32, 64, 128]),
    (IndexSpec(factory="IVF1024,SQ8", mips_to_l2=True), "nprobe", [16, 32, 64]),
    (IndexSpec(factory="HNSW32", mips_to_l2=True), "ef_search", [500, 1000]),
]


def indexing_parameters() -> tuple[IndexingParams, int]:
    """conf/base's indexing parameters and the retrieval model's tower width (relevance_dim)."""
    loader = OmegaConfigLoader(
        conf_source=str(PROJECT_ROOT / "conf"),
        base_env="base",
        default_run_env="base",
        merge_strategy=CONFIG_LOADER_ARGS["merge_strategy"],
    )
    parameters = loader["parameters"]
    indexing = IndexingParams.model_validate(parameters["indexing"])
    # The vectors are those of the model whose towers the indexing pipeline indexes (ctr_models.<name>).
    name = indexing.retrieval_model
    towers = model_params(name, (parameters.get("ctr_models") or {}).get(name))
    if not isinstance(towers, CtrTransformerParams):
        raise TypeError(f"indexing.retrieval_model '{name}' has no user and ad towers (relevance_dim)")
    return indexing, towers.relevance_dim


def synthetic_catalog(n_ads: int, n_queries: int, dim: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ad tower vectors, log bids, user tower vectors).

    Ads: 20 categories x 100 themes, popular themes holding many ads (Zipf), norms spread (log-normal)
    as the model's vector norms are. Users: a mix of three themes, two of them in one main category.
    """
    rng = np.random.default_rng(seed)
    n_categories, themes_per_category = 20, 100
    categories = rng.normal(size=(n_categories, dim))
    themes = np.repeat(categories, themes_per_category, axis=0) + 0.6 * rng.normal(
        size=(n_categories * themes_per_category, dim)
    )
    theme_of_ad = rng.zipf(1.3, n_ads) % len(themes)
    norms = rng.lognormal(0.0, 0.3, (n_ads, 1))
    ads = norms * (themes[theme_of_ad] + 0.5 * rng.normal(size=(n_ads, dim)))
    log_bids = rng.normal(np.log(3.0), 0.5, n_ads)
    main = rng.integers(0, n_categories, (n_queries, 1)) * themes_per_category
    picked = np.hstack(
        [main + rng.integers(0, themes_per_category, (n_queries, 2)), rng.integers(0, len(themes), (n_queries, 1))]
    )
    weights = rng.dirichlet(np.ones(3), n_queries)
    users = np.einsum("qt,qtd->qd", weights, themes[picked]) + 0.5 * rng.normal(size=(n_queries, dim))
    return ads.astype(np.float32), log_bids, users.astype(np.float32)


def _row(spec: IndexSpec, index, build_seconds: float, queries, exact_ids, latency_rows, k, batch) -> dict:
    return {
        "name": spec.name,
        **spec.model_dump(),
        "recall_at_k": recall_at_k(search(index, queries, k)[1], exact_ids),
        "latency": query_latency_ms(index, latency_rows, k, batch),
        "build_seconds": build_seconds,
        "index_bytes": index_bytes(index),
    }


def _markdown(result: dict) -> str:
    exact = result["rows"][0]["latency"]
    lines = [
        f"# retrieval benchmark: {result['n_ads']:,} synthetic ads, top {result['k']} "
        f"({result['timestamp']}, {result['machine']}, FAISS threads {result['threads']})",
        "",
        f"Vectors: {result['dim']}-d ({result['metric']}, bid weight {result['bid_weight']}); recall over "
        f"{result['recall_queries']} queries, latency over {result['latency_queries']} single queries (1 thread "
        f"each) and batches of {result['batch_size']} ({result['threads']} threads). Speed-up = exact (Flat) "
        "latency / index latency, same run. MIPS->L2: inner product searched as L2 over norm-lifted vectors.",
        "",
        "| index | recall@K | single median / p99 ms | speed-up single | batched ms/query | speed-up batched "
        "| build s | size MB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for row in result["rows"]:
        latency = row["latency"]
        lines.append(
            f"| {row['name']} | {row['recall_at_k']:.4f} | {latency['single_median_ms']:.2f} / "
            f"{latency['single_p99_ms']:.2f} | {exact['single_median_ms'] / latency['single_median_ms']:.1f}x | "
            f"{latency['batched_per_query_median_ms']:.3f} | "
            f"{exact['batched_per_query_median_ms'] / latency['batched_per_query_median_ms']:.1f}x | "
            f"{row['build_seconds']:.1f} | {row['index_bytes'] / 1e6:.0f} |"
        )
    best = result["target"]
    lines += [
        "",
        f"Target (recall@{result['k']} >= 0.95 at >= 10x the exact single-query speed): "
        + (
            f"met by {best['name']} (recall {best['recall_at_k']:.4f}, {best['speedup_single']:.1f}x)."
            if best
            else "not met by any configuration."
        ),
        "",
    ]
    return "\n".join(lines)


def _fastest_meeting_target(rows: list[dict]) -> dict | None:
    exact_ms = rows[0]["latency"]["single_median_ms"]
    meeting = [
        {
            "name": r["name"],
            "recall_at_k": r["recall_at_k"],
            "speedup_single": exact_ms / r["latency"]["single_median_ms"],
        }
        for r in rows[1:]
        if r["recall_at_k"] >= 0.95 and exact_ms / r["latency"]["single_median_ms"] >= 10
    ]
    return max(meeting, key=lambda r: r["speedup_single"], default=None)


def write_results(result: dict) -> None:
    """retrieval.json, retrieval.md and the recall / latency curve, retrieval.png."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "retrieval.json").write_text(json.dumps(result, indent=1))
    (RESULTS / "retrieval.md").write_text(_markdown(result))
    title = f"{result['n_ads']:,} synthetic ads, top {result['k']}"
    recall_latency_plot(result["rows"], result["k"], title).savefig(RESULTS / "retrieval.png", dpi=120)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n-ads", type=int, default=1_000_000)
    parser.add_argument("--recall-queries", type=int, default=500)
    parser.add_argument("--latency-queries", type=int, default=200)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    params, relevance_dim = indexing_parameters()
    k = params.top_k
    use_threads(params.num_threads)
    ads, log_bids, users = synthetic_catalog(args.n_ads, args.recall_queries, relevance_dim, args.seed)
    vectors = indexed_ad_vectors(ads, log_bids, params.metric, params.bid_weight)
    queries = indexed_query_vectors(users, params.metric, params.bid_weight)
    ad_ids = np.arange(args.n_ads, dtype=np.int64)
    latency_rows = queries[: args.latency_queries]

    exact = build_index(EXACT, vectors, ad_ids)
    exact_ids = search(exact.index, queries, k)[1]
    rows = [_row(EXACT, exact.index, exact.build_seconds, queries, exact_ids, latency_rows, k, args.batch_size)]
    del exact
    for base, parameter, values in SWEEPS:
        built = build_index(base, vectors, ad_ids)
        for value in values:
            spec = base.model_copy(update={parameter: value})
            set_search_parameters(built.index, spec)
            rows.append(
                _row(spec, built.index, built.build_seconds, queries, exact_ids, latency_rows, k, args.batch_size)
            )
            print(
                f"{spec.name}: recall {rows[-1]['recall_at_k']:.4f}, single "
                f"{rows[-1]['latency']['single_median_ms']:.2f} ms",
                flush=True,
            )

    result = {
        "timestamp": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "threads": params.num_threads,
        "n_ads": args.n_ads,
        "k": k,
        "dim": int(vectors.shape[1]),
        "metric": params.metric,
        "bid_weight": params.bid_weight,
        "recall_queries": args.recall_queries,
        "latency_queries": args.latency_queries,
        "batch_size": args.batch_size,
        "rows": rows,
        "target": _fastest_meeting_target(rows),
    }
    write_results(result)
    print(_markdown(result))


if __name__ == "__main__":
    main()
