"""indexing: ad and user-tower vectors -> FAISS index -> top-K eligible candidates -> recall / latency report."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.graph_config import graph_parameters, lookup
from adrank_pipelines.pipelines.indexing import nodes

PARAMS = "params:indexing"


def _retrieval_nodes() -> list[Node]:
    towers = lookup(graph_parameters(), "indexing.retrieval_model")
    # The towers as the registry serves them (its champion), so the index matches the service's query tower.
    model, context = f"{towers}.registered_model", ["ad_features", f"{towers}.ad_text_embeddings"]
    return [
        Node(
            nodes.eligible_ads,
            ["validated_ads", "validated_advertisers", PARAMS],
            "ad_eligibility",
            name="eligible_ads",
        ),
        Node(nodes.embed_ads, [model, *context, PARAMS], "ad_vectors", name="embed_ads"),
        Node(
            nodes.build_query_features,
            [
                "model_input_test",
                "validated_requests",
                "validated_users",
                "validated_ads",
                "validated_advertisers",
                "ad_features",
                "behaviour_sequences",
                "statistics_snapshots",
                "feature_recipe",
                PARAMS,
            ],
            "query_features",
            name="build_query_features",
        ),
        Node(
            nodes.embed_requests,
            [model, "query_features", "behaviour_sequences", *context, PARAMS],
            "request_vectors",
            name="embed_requests",
        ),
        Node(
            nodes.describe_requests,
            ["model_input_test", "validated_requests", "validated_users"],
            "retrieval_requests",
            name="describe_requests",
        ),
        Node(nodes.build_ad_index, ["ad_vectors", PARAMS], "ad_index", name="build_ad_index"),
        Node(
            nodes.retrieve,
            ["ad_index", "request_vectors", "retrieval_requests", "ad_eligibility", "ad_vectors", PARAMS],
            "retrieved_candidates",
            name="retrieve_candidates",
        ),
    ]


def _evaluation_nodes() -> list[Node]:
    return [
        Node(
            nodes.find_oracle_best_ads,
            ["retrieval_requests", "ad_eligibility", "truth_users", "truth_ads", "truth_world", PARAMS],
            "oracle_best_ads",
            name="find_oracle_best_ads",
            tags=["uses_ground_truth"],
        ),
        Node(
            nodes.evaluate_indexing,
            [
                "retrieved_candidates",
                "ad_vectors",
                "request_vectors",
                "retrieval_requests",
                "ad_eligibility",
                "oracle_best_ads",
                PARAMS,
            ],
            ["indexing_report", "indexing_metrics", "indexing_recall_latency_plot"],
            name="evaluate_indexing",
            tags=["uses_ground_truth"],
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline([*_retrieval_nodes(), *_evaluation_nodes()], tags=["indexing"])
