"""Indexed vectors: the retrieval score is the model's relevance logit plus bid_weight x log(bid)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.retrieval.vectors import (
    indexed_ad_vectors,
    indexed_query_vectors,
    vector_frame,
    vector_matrix,
)

RNG = np.random.default_rng(0)
USERS = RNG.normal(size=(5, 16)).astype(np.float32)
ADS = RNG.normal(size=(7, 16)).astype(np.float32)
LOG_BIDS = RNG.normal(size=7)


def test_inner_product_score_is_the_relevance_logit_plus_weighted_log_bid():
    for bid_weight in (0.0, 1.5):
        scores = (
            indexed_query_vectors(USERS, "inner_product", bid_weight)
            @ indexed_ad_vectors(ADS, LOG_BIDS, "inner_product", bid_weight).T
        )
        expected = USERS @ ADS.T / np.sqrt(16) + bid_weight * LOG_BIDS[None, :]
        np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-5)


def test_cosine_score_is_the_cosine_of_the_tower_vectors():
    scores = indexed_query_vectors(USERS, "cosine", 0.0) @ indexed_ad_vectors(ADS, LOG_BIDS, "cosine", 0.0).T
    expected = (USERS @ ADS.T) / np.outer(np.linalg.norm(USERS, axis=1), np.linalg.norm(ADS, axis=1))
    np.testing.assert_allclose(scores, expected, rtol=1e-5, atol=1e-6)
    assert (np.abs(scores) <= 1 + 1e-6).all()


def test_vector_tables_round_trip_and_bad_tables_are_named():
    frame = vector_frame("ad_id", np.array([3, 1]), ADS[:2])
    assert list(frame.columns[:3]) == ["ad_id", "v_00", "v_01"] and frame["ad_id"].dtype == np.int64
    np.testing.assert_array_equal(vector_matrix(frame, "ad_vectors"), ADS[:2])
    with pytest.raises(ValueError, match="dataset 'ad_vectors' has no vector columns"):
        vector_matrix(pd.DataFrame({"ad_id": [1]}), "ad_vectors")
    with pytest.raises(ValueError, match="dataset 'request_vectors' holds non-finite"):
        vector_matrix(frame.assign(v_00=np.nan), "request_vectors")
