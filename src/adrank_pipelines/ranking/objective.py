"""The multi-objective ranking score and the order it gives, per request, in a few numpy passes.

Candidates arrive grouped: the rows of one request are contiguous, and ``starts`` holds the first
row of each request. pCTR (~0.03), pCVR (~0.1) and the revenue term bid x pCTR (~0.05 money per
impression) live on different scales, so each is normalised within its request before weighting;
otherwise the term with the widest spread would decide the order whatever the weights say.
"""

from __future__ import annotations

import numpy as np

from adrank_pipelines.ranking.params import Normalisation, ObjectiveParams


def group_starts(request_ids: np.ndarray) -> np.ndarray:
    """First row of each run of equal ``request_ids`` (rows of one request must be contiguous)."""
    if len(request_ids) == 0:
        return np.zeros(0, dtype=np.int64)
    return np.flatnonzero(np.r_[True, request_ids[1:] != request_ids[:-1]])


def _group_of_rows(starts: np.ndarray, n_rows: int) -> tuple[np.ndarray, np.ndarray]:
    sizes = np.diff(np.append(starts, n_rows))
    return np.repeat(np.arange(len(starts)), sizes), sizes


def _minmax(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """(x - min) / (max - min) within each group; a group whose values are all equal gets 0."""
    _, sizes = _group_of_rows(starts, len(values))
    low = np.repeat(np.minimum.reduceat(values, starts), sizes)
    spread = np.repeat(np.maximum.reduceat(values, starts), sizes) - low
    normalised: np.ndarray = np.divide(values - low, spread, out=np.zeros_like(values), where=spread > 0)
    return normalised


def _percentile_rank(values: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """Rank within the group scaled to [0, 1] (0 lowest); tied values share their mean rank."""
    group, sizes = _group_of_rows(starts, len(values))
    order = np.lexsort((values, group))
    sorted_group, sorted_values = group[order], values[order]
    starts_tie = np.r_[True, (sorted_group[1:] != sorted_group[:-1]) | (sorted_values[1:] != sorted_values[:-1])]
    tie_block = np.cumsum(starts_tie) - 1
    rank_in_group = np.arange(len(values)) - starts[sorted_group]
    mean_rank = np.bincount(tie_block, weights=rank_in_group) / np.bincount(tie_block)
    scaled = np.empty(len(values), dtype=np.float64)
    scaled[order] = mean_rank[tie_block] / np.maximum(sizes[sorted_group] - 1, 1)
    return scaled


def normalise(values: np.ndarray, starts: np.ndarray, method: Normalisation) -> np.ndarray:
    """``values`` normalised within each group of rows by ``method`` (float64)."""
    values = np.asarray(values, dtype=np.float64)
    if len(values) == 0 or method == "none":
        return values
    if method == "minmax":
        return _minmax(values, starts)
    return _percentile_rank(values, starts)


def revenue_term(bid: np.ndarray, pctr: np.ndarray) -> np.ndarray:
    """Expected revenue of one impression under a cost-per-click bid: bid x pCTR (eCPM / 1000)."""
    return np.asarray(bid, dtype=np.float64) * np.asarray(pctr, dtype=np.float64)


def objective_scores(
    pctr: np.ndarray, pcvr: np.ndarray, bid: np.ndarray, starts: np.ndarray, params: ObjectiveParams
) -> np.ndarray:
    """alpha * N(pCTR) + beta * N(pCVR) + gamma * N(bid x pCTR), N normalising within each request."""
    terms = ((params.alpha, pctr), (params.beta, pcvr), (params.gamma, revenue_term(bid, pctr)))
    return np.asarray(sum(weight * normalise(term, starts, params.normalisation) for weight, term in terms))


def rank_within_groups(scores: np.ndarray, tie_breaker: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """int32 rank of each row inside its group, 0 = highest score; equal scores go by ascending ``tie_breaker``."""
    group, _ = _group_of_rows(starts, len(scores))
    order = np.lexsort((tie_breaker, -np.asarray(scores, dtype=np.float64), group))
    ranks = np.empty(len(scores), dtype=np.int32)
    ranks[order] = np.arange(len(scores)) - starts[group[order]]
    return ranks
