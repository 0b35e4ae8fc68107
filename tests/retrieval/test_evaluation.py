"""Recall, coverage and latency measurements on cases with a known answer."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.retrieval.config import IndexSpec
from adrank_pipelines.retrieval.evaluation import candidates_as_matrix, query_latency_ms, recall_at_k, share_containing
from adrank_pipelines.retrieval.index import EXACT, build_index, search
from adrank_pipelines.retrieval.retrieve import MISSING
from tests.retrieval.vector_fixtures import clustered_ads, queries


def test_recall_counts_the_exact_neighbours_found_whatever_their_order():
    exact = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    approximate = np.array([[4, 3, 9, 1], [8, 7, 6, 5]])  # 3 of 4, then 4 of 4
    assert recall_at_k(approximate, exact) == pytest.approx((0.75 + 1.0) / 2)


def test_recall_ignores_missing_results_on_both_sides():
    exact = np.array([[1, 2, MISSING, MISSING]])  # only two ads exist for this query
    approximate = np.array([[2, MISSING, MISSING, MISSING]])
    assert recall_at_k(approximate, exact) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="rows"):
        recall_at_k(approximate, np.vstack([exact, exact]))


def test_an_index_probing_one_list_has_lower_recall_than_one_probing_all():
    ads = clustered_ads()
    exact_ids = search(build_index(EXACT, ads.vectors, ads.ad_ids).index, queries(), 50)[1]
    recalls = {}
    for nprobe in (1, 16):
        index = build_index(IndexSpec(factory="IVF16,Flat", nprobe=nprobe), ads.vectors, ads.ad_ids).index
        recalls[nprobe] = recall_at_k(search(index, queries(), 50)[1], exact_ids)
    assert recalls[16] == 1.0
    assert recalls[1] < 0.9


def test_candidates_become_a_rank_matrix_in_the_requested_order():
    candidates = pd.DataFrame(
        {
            "request_id": [7, 7, 3],
            "ad_id": [70, 71, 30],
            "retrieval_rank": [0, 1, 0],
            "retrieval_score": [1.0, 0.5, 2.0],
        }
    )
    matrix = candidates_as_matrix(candidates, np.array([3, 7, 9]), k=2)
    np.testing.assert_array_equal(matrix, [[30, MISSING], [70, 71], [MISSING, MISSING]])
    assert share_containing(matrix, np.array([30, 71, 5])) == pytest.approx(2 / 3)


def test_latency_is_reported_for_single_and_batched_queries():
    ads = clustered_ads(n=500)
    latency = query_latency_ms(build_index(EXACT, ads.vectors, ads.ad_ids).index, queries(n=40), k=10, batch_size=16)
    assert latency["batch_size"] == 16
    assert 0 < latency["single_median_ms"] <= latency["single_p99_ms"]
    assert 0 < latency["batch_median_ms"] <= latency["batch_p99_ms"]
    assert latency["batched_per_query_median_ms"] == pytest.approx(latency["batch_median_ms"] / 16)
