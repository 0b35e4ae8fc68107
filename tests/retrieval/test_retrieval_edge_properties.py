"""Edge cases of index search and filtered retrieval on random inputs (hypothesis): fewer eligible ads
than K, no eligible ad, an empty index, K = 0, ads with equal scores."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adrank_pipelines.retrieval.config import IndexSpec
from adrank_pipelines.retrieval.index import EXACT, build_index, search
from adrank_pipelines.retrieval.retrieve import (
    CANDIDATE_COLUMNS,
    MISSING,
    AdVectors,
    candidate_frame,
    inner_products,
    retrieve_eligible,
)

# A division by zero inside numpy must fail the test rather than pass as a warning and a NaN or inf.
pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")

_FAST = settings(max_examples=40, deadline=None)
DIM = 4
SPECS = [EXACT, IndexSpec(factory="Flat", mips_to_l2=True), IndexSpec(factory="HNSW8", ef_search=16)]


@st.composite
def small_worlds(draw: st.DrawFn) -> tuple[AdVectors, np.ndarray, np.ndarray]:
    """(ads, sorted eligible ids, queries): up to 12 ads on a coarse grid (duplicate vectors tie),
    any subset eligible, ids of eligible ads that are not indexed among them."""
    n_ads = draw(st.integers(0, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    vectors = rng.integers(-2, 3, (n_ads, DIM)).astype(np.float32)
    ad_ids = rng.permutation(np.arange(n_ads, dtype=np.int64) * 5 + 3)  # neither contiguous nor sorted
    eligible = ad_ids[rng.random(n_ads) < draw(st.sampled_from([0.0, 0.3, 1.0]))]
    not_indexed = np.array([1, 2], dtype=np.int64)[: draw(st.integers(0, 2))]
    queries = rng.normal(size=(draw(st.integers(0, 3)), DIM)).astype(np.float32)
    return AdVectors(ad_ids, vectors), np.sort(np.r_[eligible, not_indexed]), queries


def _exact_scores(queries: np.ndarray, ads: AdVectors, ids: np.ndarray) -> np.ndarray:
    """(n, m) exact scores of the eligible indexed ads ``ids``, computed like the retrieval does."""
    row_of = {ad_id: row for row, ad_id in enumerate(ads.ad_ids.tolist())}
    rows = np.array([row_of[ad_id] for ad_id in ids.tolist()], dtype=np.int64)
    return np.einsum("nd,md->nm", queries, ads.vectors[rows])


@_FAST
@given(small_worlds(), st.integers(0, 15), st.sampled_from(SPECS))
def test_retrieval_answers_k_columns_of_eligible_ads_then_missing_padding(
    world: tuple[AdVectors, np.ndarray, np.ndarray], k: int, spec: IndexSpec
):
    ads, eligible, queries = world
    index = build_index(spec, ads.vectors, ads.ad_ids).index
    retrieved = retrieve_eligible(index, queries, k, eligible, ads)
    assert retrieved.ad_ids.shape == retrieved.scores.shape == (len(queries), k)

    indexed_eligible = np.intersect1d(ads.ad_ids, eligible)
    n_found = min(k, len(indexed_eligible))
    assert (retrieved.ad_ids[:, :n_found] != MISSING).all(), "min(K, eligible ads) real ads for every query"
    assert (retrieved.ad_ids[:, n_found:] == MISSING).all(), "then only padding"
    assert (retrieved.scores[:, n_found:] == -np.inf).all()
    assert np.isfinite(retrieved.scores[:, :n_found]).all()
    for row in retrieved.ad_ids[:, :n_found]:
        assert np.isin(row, indexed_eligible).all() and len(set(row.tolist())) == n_found
    assert (np.diff(retrieved.scores[:, :n_found], axis=1) <= 0).all(), "best first"

    if n_found:
        # Exact top scores whatever the index: the fallback tops up whatever an approximation misses.
        best = -np.sort(-_exact_scores(queries, ads, indexed_eligible), axis=1)[:, :n_found]
        np.testing.assert_allclose(retrieved.scores[:, :n_found], best, rtol=1e-6, atol=1e-6)


@_FAST
@given(small_worlds(), st.integers(1, 15))
def test_the_candidate_frame_holds_no_padding_and_ranks_from_zero(
    world: tuple[AdVectors, np.ndarray, np.ndarray], k: int
):
    ads, eligible, queries = world
    retrieved = retrieve_eligible(build_index(EXACT, ads.vectors, ads.ad_ids).index, queries, k, eligible, ads)
    request_ids = np.arange(len(queries), dtype=np.int64) + 1000
    frame = candidate_frame(request_ids, retrieved)
    assert frame.columns.tolist() == CANDIDATE_COLUMNS
    assert (frame["ad_id"] != MISSING).all()
    expected = min(k, len(np.intersect1d(ads.ad_ids, eligible)))
    assert len(frame) == expected * len(queries)
    for _, ranks in frame.groupby("request_id")["retrieval_rank"]:
        assert ranks.tolist() == list(range(expected))


@_FAST
@given(small_worlds(), st.integers(0, 15))
def test_search_returns_at_most_the_indexed_ads_and_nothing_for_k_zero(
    world: tuple[AdVectors, np.ndarray, np.ndarray], k: int
):
    ads, _, queries = world
    distances, ids = search(build_index(EXACT, ads.vectors, ads.ad_ids).index, queries, k)
    depth = min(k, len(ads.ad_ids))
    assert distances.shape == ids.shape == (len(queries), depth)
    assert np.isin(ids, ads.ad_ids).all(), "an exact index finds every ad it holds"


def test_no_eligible_ad_gives_only_padding():
    ads = AdVectors(np.array([10, 20], dtype=np.int64), np.eye(2, DIM, dtype=np.float32))
    index = build_index(EXACT, ads.vectors, ads.ad_ids).index
    queries = np.ones((3, DIM), dtype=np.float32)
    for eligible in (np.zeros(0, dtype=np.int64), np.array([7], dtype=np.int64)):  # none, or none indexed
        retrieved = retrieve_eligible(index, queries, 4, eligible, ads)
        assert (retrieved.ad_ids == MISSING).all() and (retrieved.scores == -np.inf).all()
        assert candidate_frame(np.arange(3), retrieved).empty


def test_an_empty_index_answers_padding():
    ads = AdVectors(np.zeros(0, dtype=np.int64), np.zeros((0, DIM), dtype=np.float32))
    index = build_index(EXACT, ads.vectors, ads.ad_ids).index
    queries = np.ones((2, DIM), dtype=np.float32)
    assert search(index, queries, 3)[1].shape == (2, 0)
    retrieved = retrieve_eligible(index, queries, 3, np.array([5], dtype=np.int64), ads)
    assert retrieved.ad_ids.tolist() == [[MISSING] * 3] * 2
    assert (inner_products(queries, retrieved.ad_ids, ads) == -np.inf).all()


def test_fewer_indexed_ads_than_k_are_all_returned_best_first_then_padded():
    ads = AdVectors(np.array([30, 10, 20], dtype=np.int64), np.array([[1.0], [3.0], [2.0]], dtype=np.float32))
    index = build_index(EXACT, ads.vectors, ads.ad_ids).index
    retrieved = retrieve_eligible(index, np.array([[1.0]], dtype=np.float32), 5, np.array([10, 20, 30]), ads)
    assert retrieved.ad_ids.tolist() == [[10, 20, 30, MISSING, MISSING]]
    np.testing.assert_array_equal(retrieved.scores, [[3.0, 2.0, 1.0, -np.inf, -np.inf]])
    frame = candidate_frame(np.array([7]), retrieved)
    pd.testing.assert_frame_equal(
        frame,
        pd.DataFrame(
            {
                "request_id": np.array([7, 7, 7], dtype=np.int64),
                "ad_id": np.array([10, 20, 30], dtype=np.int64),
                "retrieval_rank": np.array([0, 1, 2], dtype=np.int32),
                "retrieval_score": np.array([3.0, 2.0, 1.0], dtype=np.float32),
            }
        ),
    )


@pytest.mark.parametrize("k", [1, 2, 4])
def test_ads_with_equal_scores_are_each_returned_once(k: int):
    ads = AdVectors(np.array([4, 8, 12, 16], dtype=np.int64), np.ones((4, DIM), dtype=np.float32))
    index = build_index(EXACT, ads.vectors, ads.ad_ids).index
    retrieved = retrieve_eligible(index, np.ones((2, DIM), dtype=np.float32), k, np.sort(ads.ad_ids), ads)
    for row in retrieved.ad_ids:
        assert len(set(row.tolist())) == k and np.isin(row, ads.ad_ids).all()
    assert (retrieved.scores == DIM).all()
