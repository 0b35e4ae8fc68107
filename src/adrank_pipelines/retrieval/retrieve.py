"""Top-K eligible ads per request: search the index, drop ineligible ads, never fall short when avoidable.

The index holds every ad; eligibility depends on the request (its day, and its country / platform
under targeting). A search for ``K + (number of ineligible ads)`` neighbours returns at least K
eligible ones whenever the index returns that many results, so filtering after the search loses
nothing an exact search would keep. An approximate index may still return fewer (IVF lists not
probed, a small HNSW candidate list): those requests are answered by exact search over their
eligible ads instead, so every request gets min(K, eligible ads) candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import faiss
import numpy as np
import pandas as pd

from adrank_pipelines.retrieval.config import TargetingRule
from adrank_pipelines.retrieval.eligibility import eligibility_groups
from adrank_pipelines.retrieval.index import EXACT, build_index, search

CANDIDATE_COLUMNS = ["request_id", "ad_id", "retrieval_rank", "retrieval_score"]
MISSING = -1  # FAISS's id for "no result"


@dataclass(frozen=True)
class AdVectors:
    """The indexed ads: ids and their vectors, row-aligned."""

    ad_ids: np.ndarray
    vectors: np.ndarray


@dataclass(frozen=True)
class Retrieved:
    """(n_queries, k) ad ids (``MISSING`` padding past the eligible ads) and scores, best first."""

    ad_ids: np.ndarray
    scores: np.ndarray


def is_member(ids: np.ndarray, sorted_ids: np.ndarray) -> np.ndarray:
    """Elementwise ``ids in sorted_ids`` (any shape), by binary search."""
    if len(sorted_ids) == 0:
        return np.zeros(ids.shape, dtype=bool)
    positions = np.clip(np.searchsorted(sorted_ids, ids), 0, len(sorted_ids) - 1)
    return sorted_ids[positions] == ids


def _kept_first(ad_ids: np.ndarray, scores: np.ndarray, keep: np.ndarray, k: int) -> Retrieved:
    """Per row, the first ``k`` kept results in their original (best-first) order."""
    order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
    kept = np.take_along_axis(keep, order, axis=1)
    return Retrieved(
        ad_ids=np.where(kept, np.take_along_axis(ad_ids, order, axis=1), MISSING),
        scores=np.where(kept, np.take_along_axis(scores, order, axis=1), np.float32(-np.inf)).astype(np.float32),
    )


def retrieve_eligible(
    index: faiss.Index, queries: np.ndarray, k: int, eligible_ids: np.ndarray, ads: AdVectors
) -> Retrieved:
    """The best ``k`` ads of sorted ``eligible_ids`` for each query, with exact search as the fallback."""
    eligible = is_member(ads.ad_ids, eligible_ids)
    target = min(k, int(eligible.sum()))
    if target == 0:
        return Retrieved(np.full((len(queries), k), MISSING), np.full((len(queries), k), -np.inf, np.float32))
    fetch = min(index.ntotal, target + int((~eligible).sum()))
    scores, ad_ids = search(index, queries, fetch)
    indexed_eligible = np.sort(ads.ad_ids[eligible])
    result = _kept_first(ad_ids, scores, (ad_ids != MISSING) & is_member(ad_ids, indexed_eligible), k)
    short = np.flatnonzero((result.ad_ids[:, :target] == MISSING).any(axis=1))
    if len(short):
        exact = build_index(EXACT, ads.vectors[eligible], ads.ad_ids[eligible]).index
        exact_scores, exact_ids = search(exact, queries[short], target)
        result.ad_ids[short, :target], result.scores[short, :target] = exact_ids, exact_scores
    return result


def candidate_frame(request_ids: np.ndarray, retrieved: Retrieved) -> pd.DataFrame:
    """Long format: one row per (request, retrieved ad), ``retrieval_rank`` 0 = best."""
    found = retrieved.ad_ids != MISSING
    rows, ranks = np.nonzero(found)
    return pd.DataFrame(
        {
            "request_id": np.asarray(request_ids, dtype=np.int64)[rows],
            "ad_id": retrieved.ad_ids[found].astype(np.int64),
            "retrieval_rank": ranks.astype(np.int32),
            "retrieval_score": retrieved.scores[found].astype(np.float32),
        }
    )


def retrieve_candidates(
    index: faiss.Index,
    request_ids: np.ndarray,
    queries: np.ndarray,
    contexts: pd.DataFrame,
    ad_table: pd.DataFrame,
    rules: Sequence[TargetingRule],
    ads: AdVectors,
    k: int,
    batch_size: int,
) -> pd.DataFrame:
    """Top-``k`` eligible candidates of every request; ``queries`` and ``contexts`` align with ``request_ids``.

    ``ad_table`` is the eligibility table (:func:`~adrank_pipelines.retrieval.eligibility.ad_eligibility`).
    """
    frames = []
    for group in eligibility_groups(contexts, ad_table, rules):
        for start in range(0, len(group.request_positions), batch_size):
            positions = group.request_positions[start : start + batch_size]
            retrieved = retrieve_eligible(index, queries[positions], k, group.ad_ids, ads)
            frames.append(candidate_frame(request_ids[positions], retrieved))
    candidates = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=CANDIDATE_COLUMNS)
    return candidates.sort_values(["request_id", "retrieval_rank"], ignore_index=True)
