"""How good and how fast an index is: recall@K against exact search, oracle coverage, latency, size."""

from __future__ import annotations

import time
from collections.abc import Callable

import faiss
import numpy as np
import pandas as pd

from adrank_pipelines.retrieval.retrieve import MISSING, is_member


def recall_at_k(approximate_ids: np.ndarray, exact_ids: np.ndarray) -> float:
    """Mean over queries of |approximate top-K ∩ exact top-K| / |exact top-K| (``MISSING`` ids ignored)."""
    if approximate_ids.shape[0] != exact_ids.shape[0]:
        raise ValueError(f"{approximate_ids.shape[0]} approximate result rows but {exact_ids.shape[0]} exact ones")
    recalls = []
    for approximate, exact in zip(approximate_ids, exact_ids, strict=True):
        truth = np.unique(exact[exact != MISSING])
        if len(truth):
            recalls.append(is_member(np.unique(approximate[approximate != MISSING]), truth).sum() / len(truth))
    return float(np.mean(recalls)) if recalls else float("nan")


def candidates_as_matrix(candidates: pd.DataFrame, request_ids: np.ndarray, k: int) -> np.ndarray:
    """(len(request_ids), k) ad ids of a long candidate table, by rank; ``MISSING`` where absent."""
    matrix = np.full((len(request_ids), k), MISSING, dtype=np.int64)
    rows = pd.Index(request_ids).get_indexer(candidates["request_id"])
    ranks = candidates["retrieval_rank"].to_numpy()
    inside = (rows >= 0) & (ranks < k)
    matrix[rows[inside], ranks[inside]] = candidates["ad_id"].to_numpy()[inside]
    return matrix


def share_containing(retrieved_ids: np.ndarray, wanted_ids: np.ndarray) -> float:
    """Share of rows whose retrieved ids contain that row's ``wanted_ids`` entry."""
    if len(wanted_ids) == 0:
        return float("nan")
    return float((retrieved_ids == np.asarray(wanted_ids)[:, None]).any(axis=1).mean())


def _milliseconds(run: Callable[[], object], repeats: int) -> np.ndarray:
    timings = np.empty(repeats)
    for repeat in range(repeats):
        started = time.perf_counter()
        run()
        timings[repeat] = (time.perf_counter() - started) * 1000.0
    return timings


def query_latency_ms(index: faiss.Index, queries: np.ndarray, k: int, batch_size: int) -> dict[str, float]:
    """Median / p99 wall time of single-query searches (one per query) and of batched searches.

    A single query runs on one thread, as a server answering one request per thread does (spread
    over threads, one small search mostly waits on their barriers). Batches use the current FAISS
    thread count; their figures are per batch of ``batch_size``, plus the median per query (batch
    time / size). One warm-up search comes first.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    k = min(k, index.ntotal)
    index.search(queries[:1], k)
    threads = faiss.omp_get_max_threads()
    rows = iter(range(len(queries)))
    faiss.omp_set_num_threads(1)
    try:
        single = _milliseconds(lambda: index.search(queries[next(rows)][None, :], k), len(queries))
    finally:
        faiss.omp_set_num_threads(threads)
    batches = [queries[start : start + batch_size] for start in range(0, len(queries) - batch_size + 1, batch_size)]
    batches = batches or [queries]
    chunks = iter(batches)
    batched = _milliseconds(lambda: index.search(next(chunks), k), len(batches))
    return {
        "single_median_ms": float(np.median(single)),
        "single_p99_ms": float(np.percentile(single, 99)),
        "batch_size": len(batches[0]),
        "batch_threads": threads,
        "batch_median_ms": float(np.median(batched)),
        "batch_p99_ms": float(np.percentile(batched, 99)),
        "batched_per_query_median_ms": float(np.median(batched) / len(batches[0])),
    }
