"""The retrieval contract check, the per-request cap and the batches of whole requests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.ranking.candidates import cap_per_request, check_retrieved, request_batches


def _retrieved() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "request_id": np.array([2, 1, 1, 2, 1, 2], dtype=np.int64),
            "ad_id": np.array([10, 11, 12, 13, 14, 15], dtype=np.int64),
            "retrieval_rank": np.array([2, 1, 0, 0, 2, 1], dtype=np.int32),
            "retrieval_score": np.array([0.1, 0.5, 0.9, 0.8, 0.2, 0.4], dtype=np.float32),
        }
    )


def test_cap_keeps_the_best_retrieved_per_request_in_order():
    capped = cap_per_request(_retrieved(), max_per_request=2)
    assert capped[["request_id", "ad_id"]].to_numpy().tolist() == [[1, 12], [1, 11], [2, 13], [2, 15]]
    assert len(cap_per_request(_retrieved(), max_per_request=0)) == 6


@pytest.mark.parametrize(
    ("broken", "message"),
    [
        (
            _retrieved().drop(columns="retrieval_rank"),
            r"dataset 'retrieved_candidates' lacks column\(s\) \['retrieval_rank'\]",
        ),
        (_retrieved().astype({"ad_id": float}), "dataset 'retrieved_candidates', column 'ad_id' must be integer"),
        (
            pd.concat([_retrieved(), _retrieved().head(1)]),
            r"lists 1 \(request_id, ad_id\) pair\(s\) twice, e.g. \[2, 10\]",
        ),
    ],
)
def test_contract_breaks_name_the_dataset_and_column(broken, message):
    with pytest.raises(ValueError, match=message):
        check_retrieved(broken)


def test_batches_hold_whole_requests_of_one_day_and_cover_every_row():
    request_ids = np.array([1, 1, 2, 3, 3, 3, 4, 5, 5])
    days = np.array([6, 6, 6, 6, 6, 6, 7, 7, 7])
    batches = list(request_batches(request_ids, days, requests_per_batch=2))
    assert [(day, rows.start, rows.stop) for day, rows in batches] == [(6, 0, 3), (6, 3, 6), (7, 6, 9)]
    assert list(request_batches(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 2)) == []
