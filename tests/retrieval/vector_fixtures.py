"""Small clustered vector sets with non-contiguous ad ids, for index and retrieval tests."""

from __future__ import annotations

import numpy as np

from adrank_pipelines.retrieval.retrieve import AdVectors


def clustered_ads(n: int = 2000, dim: int = 16, n_clusters: int = 20, seed: int = 0) -> AdVectors:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(n_clusters, dim))
    vectors = centres[rng.integers(0, n_clusters, n)] + 0.4 * rng.normal(size=(n, dim))
    ad_ids = np.arange(n, dtype=np.int64) * 7 + 100  # raw ids, unlike row positions
    return AdVectors(ad_ids=ad_ids, vectors=vectors.astype(np.float32))


def queries(n: int = 50, dim: int = 16, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, dim)).astype(np.float32)


def brute_force_top_k(
    query_vectors: np.ndarray, ads: AdVectors, k: int, allowed: np.ndarray | None = None
) -> np.ndarray:
    """(n, k) ad ids by descending inner product, among ``allowed`` ad ids when given."""
    mask = np.ones(len(ads.ad_ids), dtype=bool) if allowed is None else np.isin(ads.ad_ids, allowed)
    scores = query_vectors @ ads.vectors[mask].T
    return ads.ad_ids[mask][np.argsort(-scores, axis=1, kind="stable")[:, :k]]
