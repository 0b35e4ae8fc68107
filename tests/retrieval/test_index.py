"""FAISS index building: ids, inner product, training, search parameters, clear errors."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from adrank_pipelines.retrieval.config import IndexSpec
from adrank_pipelines.retrieval.index import (
    EXACT,
    build_index,
    index_ad_ids,
    index_bytes,
    search,
    set_search_parameters,
)
from tests.retrieval.vector_fixtures import brute_force_top_k, clustered_ads, queries


def test_exact_index_answers_with_ad_ids_in_inner_product_order():
    ads = clustered_ads()
    index = build_index(EXACT, ads.vectors, ads.ad_ids).index
    scores, ids = search(index, queries(), 10)
    np.testing.assert_array_equal(ids, brute_force_top_k(queries(), ads, 10))
    np.testing.assert_allclose(
        scores[:, 0], (queries() * ads.vectors[np.searchsorted(ads.ad_ids, ids[:, 0])]).sum(1), rtol=1e-5
    )
    np.testing.assert_array_equal(index_ad_ids(index), ads.ad_ids)


def test_ivf_index_is_trained_and_keeps_its_search_parameters():
    ads = clustered_ads()
    built = build_index(IndexSpec(factory="IVF16,Flat", nprobe=5), ads.vectors, ads.ad_ids)
    assert built.index.is_trained and built.index.ntotal == len(ads.ad_ids) and built.build_seconds > 0
    assert faiss.extract_index_ivf(built.index).nprobe == 5
    assert faiss.extract_index_ivf(built.index).metric_type == faiss.METRIC_INNER_PRODUCT
    # Probing every list is exact search.
    set_search_parameters(built.index, IndexSpec(factory="IVF16,Flat", nprobe=16))
    np.testing.assert_array_equal(search(built.index, queries(), 20)[1], brute_force_top_k(queries(), ads, 20))


def test_the_l2_reduction_ranks_exactly_by_inner_product():
    ads = clustered_ads()
    spec = IndexSpec(factory="IVF16,Flat", nprobe=16, mips_to_l2=True)  # every list probed: exact search
    index = build_index(spec, ads.vectors, ads.ad_ids).index
    np.testing.assert_array_equal(search(index, queries(), 30)[1], brute_force_top_k(queries(), ads, 30))
    np.testing.assert_array_equal(index_ad_ids(index), ads.ad_ids)
    assert index.d == ads.vectors.shape[1]  # queried with the plain vectors
    assert faiss.extract_index_ivf(index).metric_type == faiss.METRIC_L2


def test_hnsw_ef_search_is_set():
    ads = clustered_ads(n=300)
    index = build_index(IndexSpec(factory="HNSW8", ef_search=77), ads.vectors, ads.ad_ids).index
    assert faiss.downcast_index(faiss.downcast_index(index).index).hnsw.efSearch == 77
    assert index_bytes(index) > ads.vectors.nbytes  # vectors plus the graph


def test_a_search_for_more_than_the_index_holds_returns_what_it_has():
    ads = clustered_ads(n=30)
    _scores, ids = search(build_index(EXACT, ads.vectors, ads.ad_ids).index, queries(n=2), 100)
    assert ids.shape == (2, 30) and set(ids[0]) == set(ads.ad_ids)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (IndexSpec(factory="IVF16,Nonsense"), "not a valid FAISS index-factory string"),
        (IndexSpec(factory="Flat", nprobe=4), "has no search parameter nprobe"),
        (IndexSpec(factory="IVF8,Flat", ef_search=40), "has no search parameter efSearch"),
    ],
)
def test_bad_index_specs_fail_naming_the_problem(spec: IndexSpec, message: str):
    ads = clustered_ads(n=500)
    with pytest.raises(ValueError, match=message):
        build_index(spec, ads.vectors, ads.ad_ids)


def test_duplicate_or_misaligned_ad_ids_are_refused():
    ads = clustered_ads(n=100)
    with pytest.raises(ValueError, match="unique"):
        build_index(EXACT, ads.vectors, np.zeros(100, dtype=np.int64))
    with pytest.raises(ValueError, match="100 vectors but 99 ad ids"):
        build_index(EXACT, ads.vectors, ads.ad_ids[:99])


def test_spec_names_show_the_search_parameters():
    assert IndexSpec(factory="IVF128,Flat", nprobe=32).name == "IVF128,Flat nprobe=32"
    assert IndexSpec(factory="HNSW32", ef_search=500).name == "HNSW32 efSearch=500"
    assert IndexSpec(factory="HNSW32", ef_search=64, mips_to_l2=True).name == "HNSW32 efSearch=64 MIPS->L2"
    assert EXACT.name == "Flat"
