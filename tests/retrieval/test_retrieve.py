"""Filtered retrieval: only eligible ads, exact-search quality with Flat, K kept even when the ANN falls short."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.retrieval.config import IndexSpec, TargetingRule
from adrank_pipelines.retrieval.index import EXACT, build_index
from adrank_pipelines.retrieval.retrieve import MISSING, retrieve_candidates, retrieve_eligible
from tests.retrieval.vector_fixtures import brute_force_top_k, clustered_ads, queries


def test_exact_filtered_retrieval_is_the_eligible_top_k():
    ads = clustered_ads()
    eligible = np.sort(ads.ad_ids[::3])  # two ads in three are not eligible
    retrieved = retrieve_eligible(build_index(EXACT, ads.vectors, ads.ad_ids).index, queries(), 40, eligible, ads)
    np.testing.assert_array_equal(retrieved.ad_ids, brute_force_top_k(queries(), ads, 40, allowed=eligible))
    assert (np.diff(retrieved.scores, axis=1) <= 1e-6).all()  # best first


def test_an_index_that_returns_too_few_eligible_ads_is_topped_up_by_exact_search():
    ads = clustered_ads()
    eligible = np.sort(ads.ad_ids[::2])
    # One probed list of 64 holds far fewer than 200 eligible ads.
    index = build_index(IndexSpec(factory="IVF64,Flat", nprobe=1), ads.vectors, ads.ad_ids).index
    retrieved = retrieve_eligible(index, queries(), 200, eligible, ads)
    assert (retrieved.ad_ids != MISSING).all()
    assert np.isin(retrieved.ad_ids, eligible).all()
    assert all(len(set(row)) == 200 for row in retrieved.ad_ids)


def test_scores_are_exact_inner_products_ranked_best_first_whatever_the_index():
    ads = clustered_ads()
    everything = np.sort(ads.ad_ids)
    for spec in (IndexSpec(factory="IVF16,SQ4", nprobe=4), IndexSpec(factory="HNSW16", ef_search=64, mips_to_l2=True)):
        index = build_index(spec, ads.vectors, ads.ad_ids).index
        retrieved = retrieve_eligible(index, queries(), 50, everything, ads)
        rows = np.searchsorted(ads.ad_ids, retrieved.ad_ids)  # fixture ids are sorted
        expected = np.einsum("nd,nkd->nk", queries(), ads.vectors[rows])
        np.testing.assert_allclose(retrieved.scores, expected, rtol=1e-5, atol=1e-5)
        assert (np.diff(retrieved.scores, axis=1) <= 0).all()


def test_requests_with_fewer_eligible_ads_than_k_get_all_of_them():
    ads = clustered_ads(n=200)
    eligible = np.sort(ads.ad_ids[:5])
    retrieved = retrieve_eligible(build_index(EXACT, ads.vectors, ads.ad_ids).index, queries(n=3), 10, eligible, ads)
    assert [sorted(row[row != MISSING]) for row in retrieved.ad_ids] == [eligible.tolist()] * 3
    nothing = retrieve_eligible(build_index(EXACT, ads.vectors, ads.ad_ids).index, queries(n=2), 10, eligible[:0], ads)
    assert (nothing.ad_ids == MISSING).all()


def test_candidates_follow_the_contract_and_each_request_its_own_eligibility():
    ads = clustered_ads(n=300)
    categories = np.where(np.arange(300) % 2 == 0, "finance", "games")
    ad_table = pd.DataFrame(
        {
            "ad_id": ads.ad_ids,
            "advertiser_id": 1,
            "category": categories,
            "first_day": 0,
            "bid": 1.0,
            "remaining_budget": 100.0,
            "has_budget": np.arange(300) % 10 != 0,
        }
    )
    n = 6
    contexts = pd.DataFrame(
        {
            "request_id": np.arange(100, 100 + n),
            "user_id": 0,
            "day": 1,
            "hour": 0,
            "placement": "feed",
            "platform": "ios",
            "country": ["US", "DE"] * 3,
        }
    )
    rules = [TargetingRule(categories=["finance"], countries=["US"])]
    index = build_index(EXACT, ads.vectors, ads.ad_ids).index
    candidates = retrieve_candidates(
        index, contexts["request_id"].to_numpy(), queries(n=n), contexts, ad_table, rules, ads, k=25, batch_size=4
    )
    assert candidates.dtypes.astype(str).to_dict() == {
        "request_id": "int64",
        "ad_id": "int64",
        "retrieval_rank": "int32",
        "retrieval_score": "float32",
    }
    assert candidates.groupby("request_id").size().tolist() == [25] * n
    assert candidates.groupby("request_id")["retrieval_rank"].apply(list).map(lambda r: r == list(range(25))).all()
    category = dict(zip(ad_table["ad_id"], ad_table["category"], strict=True))
    served = candidates.assign(
        category=candidates["ad_id"].map(category),
        country=candidates["request_id"].map(dict(zip(contexts["request_id"], contexts["country"], strict=True))),
    )
    assert not ((served["country"] == "DE") & (served["category"] == "finance")).any()
    assert not candidates["ad_id"].isin(ad_table.loc[~ad_table["has_budget"], "ad_id"]).any()
    us = contexts["request_id"].to_numpy()[0]
    allowed = ad_table.loc[ad_table["has_budget"], "ad_id"].to_numpy()
    expected = brute_force_top_k(queries(n=n)[:1], ads, 25, allowed=allowed)[0]
    assert candidates.loc[candidates["request_id"] == us, "ad_id"].tolist() == expected.tolist()
