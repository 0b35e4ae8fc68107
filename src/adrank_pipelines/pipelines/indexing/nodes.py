"""Thin adapters between the catalog and the retrieval package: unpack parameters, call, log the key figure."""

from __future__ import annotations

import logging
from typing import Any

import faiss
import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from adrank_pipelines.features.candidates import CandidateSides, candidate_sides, query_features
from adrank_pipelines.features.recipe import FeatureRecipeArtifact
from adrank_pipelines.features.snapshot import SnapshotLookup, StatisticsSnapshot
from adrank_pipelines.lifecycle.release import ModelRelease
from adrank_pipelines.marketplace import GroundTruth
from adrank_pipelines.retrieval.comparison import (
    Eligibility,
    Queries,
    indexing_report,
    report_metrics,
    sample_request_ids,
)
from adrank_pipelines.retrieval.config import IndexingParams
from adrank_pipelines.retrieval.eligibility import ad_eligibility, request_contexts
from adrank_pipelines.retrieval.index import build_index, index_ad_ids, use_threads
from adrank_pipelines.retrieval.oracle import oracle_best_ads
from adrank_pipelines.retrieval.report_plots import recall_latency_plot
from adrank_pipelines.retrieval.retrieve import AdVectors, retrieve_candidates
from adrank_pipelines.retrieval.towers import ad_tower_vectors, user_tower_vectors
from adrank_pipelines.retrieval.vectors import indexed_ad_vectors, indexed_query_vectors, vector_frame, vector_matrix

logger = logging.getLogger(__name__)


def _ad_vectors(table: pd.DataFrame) -> AdVectors:
    return AdVectors(ad_ids=table["ad_id"].to_numpy(dtype=np.int64), vectors=vector_matrix(table, "ad_vectors"))


def _queries(request_vectors: pd.DataFrame, contexts: pd.DataFrame) -> Queries:
    request_ids = request_vectors["request_id"].to_numpy(dtype=np.int64)
    if not np.array_equal(request_ids, contexts["request_id"].to_numpy()):
        raise ValueError("datasets 'retrieval_requests' and 'request_vectors' list different requests: rerun indexing")
    return Queries(
        request_ids=request_ids,
        vectors=vector_matrix(request_vectors, "request_vectors"),
        contexts=contexts,
    )


def eligible_ads(ads: pd.DataFrame, advertisers: pd.DataFrame, params: IndexingParams) -> pd.DataFrame:
    table = ad_eligibility(ads, advertisers, params.budget)
    logger.info(
        "%d of %d ads have budget for %g click(s) at their bid",
        table["has_budget"].sum(),
        len(table),
        params.budget.min_affordable_clicks,
    )
    return table


def embed_ads(
    towers: ModelRelease, ad_features: pd.DataFrame, text_embeddings: pd.DataFrame, params: IndexingParams
) -> pd.DataFrame:
    ad_ids, vectors = ad_tower_vectors(towers.trained.model, ad_features, text_embeddings, params.query_batch_size)
    if params.bid_weight > 0 and "log_bid" not in ad_features.columns:
        raise ValueError("indexing.bid_weight > 0 needs a 'log_bid' column in dataset 'ad_features'")
    log_bids = ad_features["log_bid"].to_numpy() if params.bid_weight > 0 else np.zeros(len(ad_ids))
    indexed = indexed_ad_vectors(vectors, log_bids, params.metric, params.bid_weight)
    logger.info(
        "ad tower: %d ads -> %d-d vectors (%s, bid weight %g)",
        len(ad_ids),
        indexed.shape[1],
        params.metric,
        params.bid_weight,
    )
    return vector_frame("ad_id", ad_ids, indexed)


def build_query_features(
    model_input: pd.DataFrame,
    requests: pd.DataFrame,
    users: pd.DataFrame,
    ads: pd.DataFrame,
    advertisers: pd.DataFrame,
    ad_features: pd.DataFrame,
    behaviour_sequences: pd.DataFrame,
    statistics_snapshots: dict[int, StatisticsSnapshot],
    feature_recipe: dict[str, Any],
    params: IndexingParams,
) -> pd.DataFrame:
    """One model-input row per evaluation-day request, in request-id order, built as the service builds
    its queries: the request's context and user, statistics from the day's snapshot."""
    if model_input.empty:
        raise ValueError("the evaluation day's model input (model_input_test) is empty: no requests to query")
    request_ids = np.unique(model_input["request_id"].to_numpy())
    sides = candidate_sides(
        request_ids, requests, users, ads, advertisers, ad_features, behaviour_sequences, params.query_position
    )
    recipe = FeatureRecipeArtifact.model_validate(feature_recipe).candidate_recipe()
    sides_requests = sides.requests.sort_values("request_id", ignore_index=True)
    sides = CandidateSides(requests=sides_requests, ads=sides.ads, sequences=sides.sequences)
    frames = []
    for day, rows in sides_requests.groupby("day").indices.items():
        if day not in statistics_snapshots:
            raise ValueError(f"dataset 'statistics_snapshots' has no snapshot for evaluation day {day}: rerun features")
        lookup = SnapshotLookup(statistics_snapshots[day], sides_requests.columns, sides.ads)
        frames.append(query_features(sides, np.asarray(rows), recipe, lookup.for_requests(sides_requests)))
    queries = pd.concat(frames, ignore_index=True).sort_values("request_id", ignore_index=True)
    logger.info("retrieval queries: %d evaluation-day requests, built for slot %d", len(queries), params.query_position)
    return queries


def embed_requests(
    towers: ModelRelease,
    query_features: pd.DataFrame,
    sequences: pd.DataFrame,
    ad_features: pd.DataFrame,
    text_embeddings: pd.DataFrame,
    params: IndexingParams,
) -> pd.DataFrame:
    vectors = user_tower_vectors(
        towers.trained.model, query_features, sequences, ad_features, text_embeddings, params.query_batch_size
    )
    logger.info("user tower: %d evaluation-day requests -> query vectors", len(query_features))
    indexed = indexed_query_vectors(vectors, params.metric, params.bid_weight)
    return vector_frame("request_id", query_features["request_id"].to_numpy(), indexed)


def describe_requests(model_input: pd.DataFrame, requests: pd.DataFrame, users: pd.DataFrame) -> pd.DataFrame:
    """Context of each evaluation-day request, in request-id order (the order of ``request_vectors``)."""
    return request_contexts(np.unique(model_input["request_id"].to_numpy()), requests, users)


def build_ad_index(ad_vectors: pd.DataFrame, params: IndexingParams) -> faiss.Index:
    use_threads(params.num_threads)
    ads = _ad_vectors(ad_vectors)
    built = build_index(params.index, ads.vectors, ads.ad_ids)
    logger.info("index %s over %d ads built in %.2f s", params.index.name, len(ads.ad_ids), built.build_seconds)
    return built.index


def retrieve(
    index: faiss.Index,
    request_vectors: pd.DataFrame,
    contexts: pd.DataFrame,
    ad_table: pd.DataFrame,
    ad_vectors: pd.DataFrame,
    params: IndexingParams,
) -> pd.DataFrame:
    use_threads(params.num_threads)
    ads = _ad_vectors(ad_vectors)
    if not np.array_equal(np.sort(index_ad_ids(index)), np.sort(ads.ad_ids)):
        raise ValueError("dataset 'ad_index' does not hold the ads of 'ad_vectors': rebuild the index")
    queries = _queries(request_vectors, contexts)
    candidates = retrieve_candidates(
        index,
        queries.request_ids,
        queries.vectors,
        contexts,
        ad_table,
        params.targeting,
        ads,
        params.top_k,
        params.query_batch_size,
    )
    logger.info(
        "retrieved %.1f candidates per request on average for %d requests (K=%d)",
        len(candidates) / max(len(queries.request_ids), 1),
        len(queries.request_ids),
        params.top_k,
    )
    return candidates


def find_oracle_best_ads(
    contexts: pd.DataFrame,
    ad_table: pd.DataFrame,
    truth_users: pd.DataFrame,
    truth_ads: pd.DataFrame,
    truth_world: dict[str, Any],
    params: IndexingParams,
) -> pd.DataFrame:
    evaluation = params.evaluation
    sampled = sample_request_ids(contexts["request_id"].to_numpy(), evaluation.oracle_requests, evaluation.seed)
    sample = contexts.loc[contexts["request_id"].isin(sampled)].reset_index(drop=True)
    oracle = oracle_best_ads(GroundTruth(truth_users, truth_ads, truth_world), sample, ad_table, params.targeting)
    logger.info("oracle: best eligible ad by true eCPM for %d sampled requests", len(oracle))
    return oracle


def evaluate_indexing(
    candidates: pd.DataFrame,
    ad_vectors: pd.DataFrame,
    request_vectors: pd.DataFrame,
    contexts: pd.DataFrame,
    ad_table: pd.DataFrame,
    oracle: pd.DataFrame,
    params: IndexingParams,
) -> tuple[dict[str, Any], dict[str, dict[str, float]], Figure]:
    use_threads(params.num_threads)
    report = indexing_report(
        candidates,
        _ad_vectors(ad_vectors),
        _queries(request_vectors, contexts),
        Eligibility(ad_table=ad_table, rules=params.targeting),
        oracle,
        params,
    )
    pipeline = report["pipeline"]
    logger.info(
        "index %s: recall@%d vs exact %.4f; oracle's best ad retrieved for %.3f of requests (exact search %.3f)",
        pipeline["index"],
        params.top_k,
        pipeline["recall_at_k_vs_exact"],
        pipeline["oracle_best_ad_share"],
        pipeline["exact_oracle_best_ad_share"],
    )
    metrics = {name: {"value": value, "step": 0} for name, value in report_metrics(report).items()}
    title = f"Index types on {report['n_ads_indexed']} ads, top {params.top_k} ({params.metric})"
    return report, metrics, recall_latency_plot(report["index_types"], params.top_k, title)
