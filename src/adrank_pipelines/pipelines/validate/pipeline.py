"""Wiring of the ``validate`` pipeline (``kedro run --pipeline validate``).

The Great Expectations node only reports; the contract node enforces, so its validated tables
exist only when pandera, the cross-table rules and the expectation suites all pass. Ground truth
is checked in a node of its own whose output nothing downstream reads, keeping the truth tables
out of the lineage of the validated tables (and of training).
"""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.pipelines.validate import nodes

RAW_TABLES = ("users", "advertisers", "ads", "requests", "impressions", "user_events")


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                func=nodes.define_observation_window,
                inputs=[
                    "params:marketplace.start_date",
                    "params:marketplace.n_days",
                    "params:marketplace.drift.enabled",
                    "params:marketplace.drift.n_days",
                ],
                outputs="observation_window",
                name="define_observation_window",
            ),
            Node(
                func=nodes.run_impression_suites,
                inputs=["impressions", "params:validate.impression_suite"],
                outputs=["impression_suite_summary", "impression_suite_data_docs"],
                name="run_impression_expectation_suites",
            ),
            Node(
                func=nodes.enforce_raw_table_contracts,
                inputs=[*RAW_TABLES, "observation_window", "impression_suite_summary", "params:validate.report"],
                outputs={table: f"validated_{table}" for table in RAW_TABLES},
                name="enforce_raw_table_contracts",
            ),
            Node(
                func=nodes.enforce_ground_truth_contracts,
                inputs=[
                    "truth_impressions",
                    "truth_users",
                    "truth_ads",
                    "impressions",
                    "users",
                    "ads",
                    "params:validate.report",
                ],
                outputs="ground_truth_contract_summary",
                name="enforce_ground_truth_contracts",
                tags=["uses_ground_truth"],
            ),
        ]
    )
