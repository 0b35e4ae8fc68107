"""The indexing pipeline's wiring and its retrieval nodes on an in-memory catalog over the tiny simulated world."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from kedro.io import DataCatalog, MemoryDataset
from kedro.runner import SequentialRunner

from adrank_pipelines.marketplace import MarketplaceTables
from adrank_pipelines.pipelines.indexing.pipeline import create_pipeline
from adrank_pipelines.retrieval.config import IndexingParams
from adrank_pipelines.retrieval.vectors import vector_frame
from tests.conftest import project_parameters

RETRIEVAL_NODES = ["eligible_ads", "describe_requests", "build_ad_index", "retrieve_candidates"]
GROUND_TRUTH = {"truth_users", "truth_ads", "truth_world", "truth_impressions", "oracle_best_ads"}


def test_only_evaluation_nodes_read_the_ground_truth():
    for node in create_pipeline().nodes:
        if GROUND_TRUTH & set(node.inputs):
            assert "uses_ground_truth" in node.tags, node.name
    readers = {node.name for node in create_pipeline().nodes if GROUND_TRUTH & set(node.inputs)}
    assert readers == {"find_oracle_best_ads", "evaluate_indexing"}


def test_the_pipeline_delivers_the_ranking_contract_index_vectors_and_report():
    expected = {"retrieved_candidates", "ad_index", "ad_vectors", "indexing_report", "indexing_recall_latency_plot"}
    assert expected <= create_pipeline().all_outputs()


def _catalog(world: MarketplaceTables, params: IndexingParams, dim: int = 8) -> DataCatalog:
    rng = np.random.default_rng(0)
    test_day = world.truth_world["days"]["test_day"]
    requests = world.requests.loc[world.requests["day"] == test_day, "request_id"].to_numpy()
    inputs = {
        "validated_ads": world.ads,
        "validated_advertisers": world.advertisers,
        "validated_requests": world.requests,
        "validated_users": world.users,
        "model_input_test": pd.DataFrame({"request_id": np.repeat(requests, 2)}),
        "ad_vectors": vector_frame("ad_id", world.ads["ad_id"].to_numpy(), rng.normal(size=(len(world.ads), dim))),
        "request_vectors": vector_frame("request_id", requests, rng.normal(size=(len(requests), dim))),
        "params:indexing": params,  # Kedro types it before a run; the runner alone does not
    }
    outputs = ["ad_eligibility", "retrieval_requests", "ad_index", "retrieved_candidates"]
    return DataCatalog(
        datasets={**{k: MemoryDataset(v) for k, v in inputs.items()}, **{k: MemoryDataset() for k in outputs}}
    )


def test_every_evaluation_day_request_gets_k_eligible_candidates(test_world: MarketplaceTables):
    params = IndexingParams.model_validate(project_parameters("test")["indexing"])
    catalog = _catalog(test_world, params)
    SequentialRunner().run(create_pipeline().only_nodes(*RETRIEVAL_NODES), catalog)
    candidates = catalog.load("retrieved_candidates")
    assert candidates.dtypes.astype(str).to_dict() == {
        "request_id": "int64",
        "ad_id": "int64",
        "retrieval_rank": "int32",
        "retrieval_score": "float32",
    }
    requests = catalog.load("request_vectors")["request_id"]
    per_request = candidates.groupby("request_id").size()
    assert set(per_request.index) == set(requests) and (per_request == params.top_k).all()
    test_day = test_world.truth_world["days"]["test_day"]
    first_day = candidates["ad_id"].map(dict(zip(test_world.ads["ad_id"], test_world.ads["first_day"], strict=True)))
    assert (first_day <= test_day).all()
    assert candidates.duplicated(["request_id", "ad_id"]).sum() == 0


def test_a_stale_index_is_refused(test_world: MarketplaceTables):
    params = IndexingParams.model_validate(project_parameters("test")["indexing"])
    catalog = _catalog(test_world, params)
    SequentialRunner().run(create_pipeline().only_nodes("eligible_ads", "describe_requests", "build_ad_index"), catalog)
    fewer_ads = catalog.load("ad_vectors").iloc[:-3]
    catalog["ad_vectors"] = MemoryDataset(fewer_ads)
    with pytest.raises(ValueError, match="'ad_index' does not hold the ads of 'ad_vectors'"):
        SequentialRunner().run(create_pipeline().only_nodes("retrieve_candidates"), catalog)
