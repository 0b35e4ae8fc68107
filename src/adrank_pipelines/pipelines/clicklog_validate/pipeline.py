"""clicklog_validate: the parsed log -> the validated log; a broken contract stops the run before it is written."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.pipelines.clicklog_validate import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.enforce_click_log_contract,
                ["clicklog_events", "params:clicklog_columns", "params:validate.report"],
                "clicklog_validated_events",
                name="enforce_click_log_contract",
            )
        ],
        tags="clicklog_validate",
    )
