"""Wiring of the ``features`` pipeline (``kedro run --pipeline features``).

With ``dask.enabled`` (``--env dask``) the same nodes run their partitioned adapters: impressions_enriched
is then a Dask frame over day-partitioned Parquet (docs/adr/0023-dask-data-stages-and-lightgbm.md).
"""

from importlib import import_module

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.graph_config import graph_parameters, lookup


def create_pipeline(**kwargs) -> Pipeline:
    # Imported only on that path: Dask is an optional extra (`pip install -e ".[dask]"`).
    adapters = "dask_nodes" if lookup(graph_parameters(), "dask")["enabled"] else "nodes"
    nodes = import_module(f"adrank_pipelines.pipelines.features.{adapters}")
    return Pipeline(
        [
            Node(
                func=nodes.build_impressions_enriched,
                inputs=[
                    "validated_impressions",
                    "validated_ads",
                    "validated_advertisers",
                    "validated_users",
                    "params:features.splits",
                    "params:marketplace.drift",
                ],
                outputs="impressions_enriched",
                name="enrich_impressions",
            ),
            Node(
                func=nodes.build_vocabularies,
                inputs=["impressions_enriched", "params:features.vocabulary"],
                outputs="vocabularies",
                name="fit_vocabularies",
            ),
            Node(
                func=nodes.build_model_inputs,
                inputs=[
                    "impressions_enriched",
                    "vocabularies",
                    "behaviour_sequences",
                    "params:features.crosses",
                    "params:features.target_stats",
                    "params:features.sequences",
                ],
                outputs={
                    "train": "model_input_train",
                    "valid": "model_input_valid",
                    "test": "model_input_test",
                    "drift": "model_input_drift",
                },
                name="build_model_inputs",
            ),
            Node(
                func=nodes.build_behaviour_sequences,
                inputs=[
                    "validated_requests",
                    "impressions_enriched",
                    "validated_user_events",
                    "vocabularies",
                    "params:features.sequences",
                ],
                outputs="behaviour_sequences",
                name="build_behaviour_sequences",
            ),
            Node(
                func=nodes.build_ad_features,
                inputs=["validated_ads", "impressions_enriched", "vocabularies"],
                outputs="ad_features",
                name="build_ad_features",
            ),
            Node(
                func=nodes.build_feature_spec,
                inputs=[
                    "vocabularies",
                    "params:features.crosses",
                    "params:features.target_stats",
                    "params:features.sequences",
                ],
                outputs="feature_spec",
                name="build_feature_spec",
            ),
            Node(
                func=nodes.build_feature_recipe,
                inputs=[
                    "vocabularies",
                    "feature_spec",
                    "params:features.crosses",
                    "params:features.sequences",
                    "params:features.target_stats",
                ],
                outputs="feature_recipe",
                name="build_feature_recipe",
            ),
            Node(
                func=nodes.build_statistics_snapshots,
                inputs=["impressions_enriched", "validated_requests", "model_input_test", "feature_recipe"],
                outputs="statistics_snapshots",
                name="build_statistics_snapshots",
            ),
        ],
        tags="features",
    )
