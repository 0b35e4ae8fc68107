"""The retrieval stage's candidates: checked, capped per request, and cut into batches of requests."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import numpy as np
import pandas as pd

from adrank_pipelines.ranking.objective import group_starts

DATASET = "retrieved_candidates"
# The retrieval stage's output contract.
RETRIEVED_COLUMNS = {
    "request_id": "integer",
    "ad_id": "integer",
    "retrieval_rank": "integer",
    "retrieval_score": "float",
}


def check_retrieved(candidates: pd.DataFrame) -> None:
    """Raise a ``ValueError`` naming the dataset and column when the frame breaks the retrieval contract."""
    missing = [name for name in RETRIEVED_COLUMNS if name not in candidates.columns]
    if missing:
        raise ValueError(f"dataset '{DATASET}' lacks column(s) {missing}; it has {list(candidates.columns)}")
    for name, kind in RETRIEVED_COLUMNS.items():
        dtype = candidates[name].dtype
        fits = pd.api.types.is_integer_dtype(dtype) if kind == "integer" else pd.api.types.is_float_dtype(dtype)
        if not fits:
            raise ValueError(f"dataset '{DATASET}', column '{name}' must be {kind}, not {dtype}")
    duplicated = candidates.duplicated(["request_id", "ad_id"])
    if duplicated.any():
        example = candidates.loc[duplicated, ["request_id", "ad_id"]].iloc[0].tolist()
        raise ValueError(
            f"dataset '{DATASET}' lists {int(duplicated.sum())} (request_id, ad_id) pair(s) twice, e.g. {example}"
        )


def cap_per_request(candidates: pd.DataFrame, max_per_request: int) -> pd.DataFrame:
    """The best ``max_per_request`` candidates of each request by retrieval rank (0 keeps all), sorted by
    request then retrieval rank."""
    ordered = candidates.sort_values(["request_id", "retrieval_rank", "ad_id"], kind="stable", ignore_index=True)
    if max_per_request == 0:
        return ordered
    request_ids = ordered["request_id"].to_numpy()
    first_row = np.searchsorted(request_ids, request_ids, side="left")
    return ordered.loc[np.arange(len(ordered)) - first_row < max_per_request].reset_index(drop=True)


def request_batches(
    request_ids: np.ndarray, request_days: np.ndarray, requests_per_batch: int
) -> Iterator[tuple[int, slice]]:
    """(day, rows) slices of the candidate rows, ``request_ids`` sorted: whole requests, one day each.

    ``request_days`` is the day of each row's request; a batch never spans two days because each day
    is scored against its own statistics snapshot.
    """
    starts = group_starts(request_ids)
    day_changes = np.flatnonzero(np.r_[True, request_days[starts][1:] != request_days[starts][:-1]])
    day_bounds = np.append(day_changes, len(starts))
    for first, last in itertools.pairwise(day_bounds):
        for batch_first in range(first, last, requests_per_batch):
            batch_last = min(batch_first + requests_per_batch, last)
            end = starts[batch_last] if batch_last < len(starts) else len(request_ids)
            yield int(request_days[starts[batch_first]]), slice(int(starts[batch_first]), int(end))
