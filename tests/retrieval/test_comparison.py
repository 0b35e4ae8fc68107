"""The indexing report on a synthetic day: exact search scores 1, a weak index less, the pipeline's row is added."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from adrank_pipelines.retrieval.comparison import Eligibility, Queries, indexing_report, report_metrics
from adrank_pipelines.retrieval.config import IndexingParams
from adrank_pipelines.retrieval.index import EXACT, build_index
from adrank_pipelines.retrieval.report_plots import recall_latency_plot
from adrank_pipelines.retrieval.retrieve import retrieve_candidates
from tests.retrieval.vector_fixtures import brute_force_top_k, clustered_ads, queries

N_REQUESTS, K = 60, 20


def _day():
    ads = clustered_ads(n=1500)
    ad_table = pd.DataFrame(
        {
            "ad_id": ads.ad_ids,
            "advertiser_id": 1,
            "category": "games",
            "first_day": 0,
            "bid": 1.0,
            "remaining_budget": 10.0,
            "has_budget": np.arange(len(ads.ad_ids)) % 4 != 0,
        }
    )
    request_ids = np.arange(1000, 1000 + N_REQUESTS)
    contexts = pd.DataFrame(
        {
            "request_id": request_ids,
            "user_id": 0,
            "day": 0,
            "hour": 0,
            "placement": "feed",
            "platform": "ios",
            "country": "US",
        }
    )
    return ads, Queries(request_ids, queries(n=N_REQUESTS), contexts), Eligibility(ad_table=ad_table, rules=[])


def _params(index: dict) -> IndexingParams:
    return IndexingParams.model_validate(
        {
            "retrieval_model": "transformer",
            "top_k": K,
            "index": index,
            "evaluation": {
                "index_types": [{"factory": "Flat"}, {"factory": "IVF32,Flat", "nprobe": 1}],
                "recall_queries": 40,
                "oracle_requests": 30,
                "latency_queries": 10,
                "latency_batch_size": 10,
            },
        }
    )


def test_report_scores_exact_search_perfectly_and_adds_the_pipelines_index():
    ads, day, eligibility = _day()
    params = _params({"factory": "IVF32,Flat", "nprobe": 32, "mips_to_l2": True})
    index = build_index(params.index, ads.vectors, ads.ad_ids).index
    candidates = retrieve_candidates(
        index, day.request_ids, day.vectors, day.contexts, eligibility.ad_table, [], ads, K, batch_size=25
    )
    # The oracle's best ad: the exact eligible top-1 for the first 30 requests; a never-retrieved id for 10 of them.
    allowed = eligibility.ad_table.loc[eligibility.ad_table["has_budget"], "ad_id"].to_numpy()
    best = brute_force_top_k(day.vectors[:30], ads, 1, allowed=allowed)[:, 0]
    oracle = pd.DataFrame({"request_id": day.request_ids[:30], "oracle_ad_id": np.where(np.arange(30) < 20, best, -7)})

    report = indexing_report(candidates, ads, day, eligibility, oracle, params)

    pipeline = report["pipeline"]
    assert pipeline["index"] == "IVF32,Flat nprobe=32 MIPS->L2"
    assert pipeline["recall_at_k_vs_exact"] == pytest.approx(1.0)  # every list probed: exact
    assert pipeline["exact_oracle_best_ad_share"] == pytest.approx(20 / 30)
    assert pipeline["oracle_best_ad_share"] == pytest.approx(20 / 30)
    assert pipeline["requests_below_k"] == 0 and pipeline["n_requests"] == N_REQUESTS
    rows = {row["name"]: row for row in report["index_types"]}
    assert list(rows) == ["Flat", "IVF32,Flat nprobe=1", "IVF32,Flat nprobe=32 MIPS->L2"]
    assert rows["Flat"]["recall_at_k"] == 1.0
    assert rows["IVF32,Flat nprobe=1"]["recall_at_k"] < 0.9
    assert rows["IVF32,Flat nprobe=1"]["short_of_k_share"] > 0 and rows["Flat"]["short_of_k_share"] == 0
    assert rows["IVF32,Flat nprobe=32 MIPS->L2"]["recall_at_k"] == pytest.approx(1.0)
    assert all(row["index_bytes"] > ads.vectors.nbytes for row in rows.values())
    metrics = report_metrics(report)
    assert metrics["indexing_recall_at_k"] == pipeline["recall_at_k_vs_exact"]
    assert metrics["indexing_build_seconds"] == rows["IVF32,Flat nprobe=32 MIPS->L2"]["build_seconds"]


def test_a_request_left_without_candidates_counts_below_k():
    ads, day, eligibility = _day()
    params = _params(EXACT.model_dump())
    candidates = retrieve_candidates(
        build_index(EXACT, ads.vectors, ads.ad_ids).index,
        day.request_ids,
        day.vectors,
        day.contexts,
        eligibility.ad_table,
        [],
        ads,
        K,
        batch_size=25,
    )
    dropped = candidates.loc[candidates["request_id"] != day.request_ids[0]]
    oracle = pd.DataFrame({"request_id": day.request_ids[:5], "oracle_ad_id": -7})
    pipeline = indexing_report(dropped, ads, day, eligibility, oracle, params)["pipeline"]
    assert pipeline["requests_below_k"] == 1 and pipeline["candidates_per_request"]["min"] == 0
    assert pipeline["oracle_best_ad_share"] == 0.0


def test_the_plot_draws_one_curve_per_index_structure():
    ads, day, eligibility = _day()
    params = _params({"factory": "IVF32,Flat", "nprobe": 4})
    candidates = retrieve_candidates(
        build_index(params.index, ads.vectors, ads.ad_ids).index,
        day.request_ids,
        day.vectors,
        day.contexts,
        eligibility.ad_table,
        [],
        ads,
        K,
        batch_size=25,
    )
    oracle = pd.DataFrame({"request_id": day.request_ids[:5], "oracle_ad_id": -7})
    rows = indexing_report(candidates, ads, day, eligibility, oracle, params)["index_types"]
    figure = recall_latency_plot(rows, K, "test")
    # Flat, and IVF32,Flat through nprobe 1 and 4: two curves per latency panel.
    assert [len(axes.lines) for axes in figure.axes] == [2, 2]
    assert sorted(len(line.get_xdata()) for line in figure.axes[0].lines) == [1, 2]
