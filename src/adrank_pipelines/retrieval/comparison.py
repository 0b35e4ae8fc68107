"""The indexing report: each listed index type against exact search, and the pipeline's own candidates.

Per index type: recall@K of its unfiltered top-K against exact (Flat) search on the same vectors, the
share of queries it returns fewer than K ads for, the share of requests whose oracle-best ad (true
eCPM) is among its K eligible candidates (short results topped up by exact search, as the pipeline
does), single-query and batched latency, build time and size. For the pipeline's ``retrieved_candidates``: recall@K against
exact search under the same eligibility, and the same oracle share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from adrank_pipelines.retrieval.config import EvaluationParams, IndexingParams, IndexSpec, TargetingRule
from adrank_pipelines.retrieval.evaluation import (
    candidates_as_matrix,
    query_latency_ms,
    recall_at_k,
    share_containing,
)
from adrank_pipelines.retrieval.index import EXACT, BuiltIndex, build_index, index_bytes, search, set_search_parameters
from adrank_pipelines.retrieval.retrieve import MISSING, AdVectors, retrieve_candidates


@dataclass(frozen=True)
class Queries:
    """The evaluation day's requests: ids, user-tower vectors and contexts, row-aligned."""

    request_ids: np.ndarray
    vectors: np.ndarray
    contexts: pd.DataFrame

    def take(self, request_ids: np.ndarray) -> Queries:
        rows = pd.Index(self.request_ids).get_indexer(request_ids)
        if (rows < 0).any():
            raise ValueError("some evaluated request ids have no query vector")
        return Queries(self.request_ids[rows], self.vectors[rows], self.contexts.iloc[rows].reset_index(drop=True))


@dataclass(frozen=True)
class Eligibility:
    ad_table: pd.DataFrame  # ad_eligibility
    rules: Sequence[TargetingRule]


@dataclass(frozen=True)
class EvaluationSet:
    """What every comparison reads: the indexed ads, the sampled queries, the oracle, eligibility, K."""

    ads: AdVectors
    recall_queries: Queries
    oracle_queries: Queries
    oracle: pd.DataFrame
    eligibility: Eligibility
    k: int


def sample_request_ids(request_ids: np.ndarray, n: int, seed: int) -> np.ndarray:
    """Up to ``n`` request ids drawn without replacement, sorted."""
    rng = np.random.default_rng(seed)
    return np.sort(rng.choice(request_ids, size=min(n, len(request_ids)), replace=False))


def _eligible_top_k(index: Any, queries: Queries, data: EvaluationSet, batch_size: int) -> np.ndarray:
    eligibility = data.eligibility
    candidates = retrieve_candidates(
        index,
        queries.request_ids,
        queries.vectors,
        queries.contexts,
        eligibility.ad_table,
        eligibility.rules,
        data.ads,
        data.k,
        batch_size,
    )
    return candidates_as_matrix(candidates, queries.request_ids, data.k)


def _oracle_share(retrieved: np.ndarray, data: EvaluationSet) -> float:
    wanted = data.oracle.set_index("request_id").loc[data.oracle_queries.request_ids, "oracle_ad_id"].to_numpy()
    return share_containing(retrieved, wanted)


class _IndexCache:
    """Each index structure is trained and filled once; its search parameters change per spec."""

    def __init__(self, ads: AdVectors) -> None:
        self._ads = ads
        self._built: dict[IndexSpec, BuiltIndex] = {}

    def get(self, spec: IndexSpec) -> BuiltIndex:
        if spec.structure not in self._built:
            self._built[spec.structure] = build_index(spec.structure, self._ads.vectors, self._ads.ad_ids)
        built = self._built[spec.structure]
        set_search_parameters(built.index, spec)
        return built


def compare_index_types(
    specs: Sequence[IndexSpec], data: EvaluationSet, params: EvaluationParams
) -> list[dict[str, Any]]:
    """One row per spec of ``specs`` (see the module docstring)."""
    cache = _IndexCache(data.ads)
    queries, k = data.recall_queries.vectors, data.k
    exact_ids = search(cache.get(EXACT).index, queries, k)[1]
    rows = []
    for spec in specs:
        built = cache.get(spec)
        found = search(built.index, queries, k)[1]
        retrieved = _eligible_top_k(built.index, data.oracle_queries, data, params.latency_batch_size)
        rows.append(
            {
                "name": spec.name,
                **spec.model_dump(),
                "recall_at_k": recall_at_k(found, exact_ids),
                # Fewer than min(K, ads) returned (too few ads probed): retrieval tops these up by exact search.
                "short_of_k_share": float((found == MISSING).any(axis=1).mean()),
                "oracle_best_ad_share": _oracle_share(retrieved, data),
                "latency": query_latency_ms(
                    built.index, queries[: params.latency_queries], k, params.latency_batch_size
                ),
                "build_seconds": built.build_seconds,
                "index_bytes": index_bytes(built.index),
            }
        )
    return rows


def pipeline_quality(
    candidates: pd.DataFrame, request_ids: np.ndarray, data: EvaluationSet, batch_size: int
) -> dict[str, Any]:
    """The pipeline's candidates against exact search under the same eligibility, and the oracle share.

    ``request_ids``: every request that should have candidates (a request without any counts as 0).
    """
    exact = build_index(EXACT, data.ads.vectors, data.ads.ad_ids).index
    per_request = candidates.groupby("request_id").size().reindex(request_ids, fill_value=0)
    k = data.k
    return {
        "recall_at_k_vs_exact": recall_at_k(
            candidates_as_matrix(candidates, data.recall_queries.request_ids, k),
            _eligible_top_k(exact, data.recall_queries, data, batch_size),
        ),
        "oracle_best_ad_share": _oracle_share(
            candidates_as_matrix(candidates, data.oracle_queries.request_ids, k), data
        ),
        "exact_oracle_best_ad_share": _oracle_share(
            _eligible_top_k(exact, data.oracle_queries, data, batch_size), data
        ),
        "n_requests": len(per_request),
        "candidates_per_request": {
            "min": int(per_request.min()),
            "median": float(per_request.median()),
            "max": int(per_request.max()),
        },
        "requests_below_k": int((per_request < k).sum()),
    }


def indexing_report(
    candidates: pd.DataFrame,
    ads: AdVectors,
    queries: Queries,
    eligibility: Eligibility,
    oracle: pd.DataFrame,
    params: IndexingParams,
) -> dict[str, Any]:
    """The whole report: the pipeline's candidates, then every evaluated index type (the pipeline's included)."""
    evaluation = params.evaluation
    data = EvaluationSet(
        ads=ads,
        recall_queries=queries.take(
            sample_request_ids(queries.request_ids, evaluation.recall_queries, evaluation.seed)
        ),
        oracle_queries=queries.take(oracle["request_id"].to_numpy()),
        oracle=oracle,
        eligibility=eligibility,
        k=params.top_k,
    )
    specs = [*evaluation.index_types, *([] if params.index in evaluation.index_types else [params.index])]
    return {
        "top_k": params.top_k,
        "metric": params.metric,
        "bid_weight": params.bid_weight,
        "n_ads_indexed": len(ads.ad_ids),
        "recall_queries": len(data.recall_queries.request_ids),
        "oracle_requests": len(data.oracle_queries.request_ids),
        "exact_reference": EXACT.factory,
        "pipeline": {
            "index": params.index.name,
            **pipeline_quality(candidates, queries.request_ids, data, params.query_batch_size),
        },
        "index_types": compare_index_types(specs, data, evaluation),
    }


def report_metrics(report: dict[str, Any]) -> dict[str, float]:
    """The pipeline index's headline figures, for MLflow."""
    pipeline = report["pipeline"]
    row = next(row for row in report["index_types"] if row["name"] == pipeline["index"])
    return {
        "indexing_recall_at_k": pipeline["recall_at_k_vs_exact"],
        "indexing_oracle_best_ad_share": pipeline["oracle_best_ad_share"],
        "indexing_exact_oracle_best_ad_share": pipeline["exact_oracle_best_ad_share"],
        "indexing_index_recall_at_k": row["recall_at_k"],
        "indexing_single_query_median_ms": row["latency"]["single_median_ms"],
        "indexing_batched_per_query_median_ms": row["latency"]["batched_per_query_median_ms"],
        "indexing_build_seconds": row["build_seconds"],
        "indexing_index_bytes": float(row["index_bytes"]),
    }
