"""lifecycle: its own simulated world -> days played (decision log, daily figures) -> report and plot."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.pipelines.lifecycle import nodes

# Serving a day needs the world's response to each ranking (the simulator's truth); models train on logs only.
EVALUATION_TAG = "uses_ground_truth"


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.simulate_lifecycle_world,
                ["params:marketplace", "params:lifecycle_world"],
                "lifecycle_marketplace",
                name="simulate_lifecycle_world",
            ),
            Node(
                nodes.play_lifecycle,
                [
                    "lifecycle_marketplace",
                    "params:marketplace",
                    "params:lifecycle_world",
                    "params:lifecycle",
                    "params:drift",
                ],
                ["lifecycle_decisions", "lifecycle_days"],
                name="play_lifecycle_days",
                tags=[EVALUATION_TAG],
            ),
            Node(
                nodes.report_lifecycle,
                ["lifecycle_decisions", "lifecycle_days"],
                ["lifecycle_report", "lifecycle_plot"],
                name="report_lifecycle",
            ),
        ]
    )
