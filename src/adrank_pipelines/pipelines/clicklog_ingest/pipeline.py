"""clicklog_ingest: the click-log file (``clicklog_file``, read and checked line by line) -> the parsed log."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.pipelines.clicklog_ingest import nodes


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.parse_click_log,
                ["clicklog_file", "params:clicklog_columns"],
                "clicklog_events",
                name="parse_click_log",
            ),
            Node(
                nodes.summarise_click_log,
                ["clicklog_events", "params:clicklog_columns"],
                "clicklog_summary",
                name="summarise_click_log",
            ),
        ],
        tags="clicklog_ingest",
    )
