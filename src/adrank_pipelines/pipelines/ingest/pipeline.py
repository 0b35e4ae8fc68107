"""ingest: simulator parameters -> raw marketplace tables, with the ground truth kept apart."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.pipelines.ingest.nodes import simulate, summarise


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=simulate,
                inputs="params:marketplace",
                outputs=[
                    "users",
                    "advertisers",
                    "ads",
                    "requests",
                    "impressions",
                    "user_events",
                    "truth_impressions",
                    "truth_users",
                    "truth_ads",
                    "truth_world",
                ],
                name="simulate_marketplace",
                tags=["ingest"],
            ),
            Node(
                func=summarise,
                inputs=["impressions", "truth_impressions", "ads", "truth_world"],
                outputs="marketplace_summary",
                name="summarise_marketplace",
                tags=["ingest", "uses_ground_truth"],
            ),
        ]
    )
