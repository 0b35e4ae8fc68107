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
SCORING_CHUNK = 256


@dataclass(frozen=True)
class AdVectors:
    """The indexed ads: ids and their vectors, row-aligned."""

    ad_ids: np.ndarray
    vectors: np.ndarray

    def rows(self, ad_ids: np.ndarray) -> np.ndarray:
        """Row of each of ``ad_ids`` (all of them indexed ads), any shape."""
        order = np.argsort(self.ad_ids, kind="stable")
        return order[np.searchsorted(self.ad_ids, ad_ids, sorter=order)]


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
    member: np.ndarray = sorted_ids[positions] == ids
    return member


def inner_products(queries: np.ndarray, ad_ids: np.ndarray, ads: AdVectors) -> np.ndarray:
    """(n, k) float32 exact ``query . ad`` for an (n, k) id matrix; -inf where the id is ``MISSING``."""
    found = ad_ids != MISSING
    if not found.any():
        return np.full(ad_ids.shape, -np.inf, dtype=np.float32)
    rows = ads.rows(np.where(found, ad_ids, ads.ad_ids[0]))
    scores = np.empty(ad_ids.shape, dtype=np.float32)
    # A few hundred queries at a time: the gathered (queries, k, d) vectors stay small.
    for start in range(0, len(ad_ids), SCORING_CHUNK):
        chunk = slice(start, start + SCORING_CHUNK)
        scores[chunk] = np.einsum("nd,nkd->nk", queries[chunk].astype(np.float32), ads.vectors[rows[chunk]])
    return np.where(found, scores, np.float32(-np.inf))


def _kept_first(ad_ids: np.ndarray, keep: np.ndarray, k: int) -> np.ndarray:
    """Per row, the first ``k`` kept ids in their original (best-first) order, ``MISSING`` after them
    (k columns, however few ids the search returned)."""
    order = np.argsort(~keep, axis=1, kind="stable")[:, :k]
    kept = np.where(np.take_along_axis(keep, order, axis=1), np.take_along_axis(ad_ids, order, axis=1), MISSING)
    return np.pad(kept, ((0, 0), (0, k - kept.shape[1])), constant_values=MISSING)


def retrieve_eligible(
    index: faiss.Index, queries: np.ndarray, k: int, eligible_ids: np.ndarray, ads: AdVectors
) -> Retrieved:
    """The best ``k`` ads of sorted ``eligible_ids`` for each query, with exact search as the fallback.

    Scores are exact inner products of the indexed vectors, whatever the index approximates. Always
    (n_queries, k): with fewer than ``k`` eligible indexed ads each row ends in ``MISSING`` ids
    scored -inf, never another ad.
    """
    eligible = is_member(ads.ad_ids, eligible_ids)
    target = min(k, int(eligible.sum()))
    if target == 0:
        return Retrieved(np.full((len(queries), k), MISSING), np.full((len(queries), k), -np.inf, np.float32))
    fetch = min(index.ntotal, target + int((~eligible).sum()))
    ad_ids = search(index, queries, fetch)[1]
    indexed_eligible = np.sort(ads.ad_ids[eligible])
    kept = _kept_first(ad_ids, (ad_ids != MISSING) & is_member(ad_ids, indexed_eligible), k)
    short = np.flatnonzero((kept[:, :target] == MISSING).any(axis=1))
    if len(short):
        exact = build_index(EXACT, ads.vectors[eligible], ads.ad_ids[eligible]).index
        kept[short, :target] = search(exact, queries[short], target)[1]
    scores = inner_products(queries, kept, ads)
    # Quantised codes only approximate the scores: rank by the exact ones.
    order = np.argsort(-scores, axis=1, kind="stable")
    return Retrieved(ad_ids=np.take_along_axis(kept, order, axis=1), scores=np.take_along_axis(scores, order, axis=1))


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
