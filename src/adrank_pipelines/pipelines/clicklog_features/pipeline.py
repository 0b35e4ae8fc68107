"""clicklog_features: the validated log -> split log, vocabularies, model inputs and feature spec."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.pipelines.clicklog_features import nodes

PARAMS = ["params:clicklog_columns", "params:clicklog_features"]


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.split_click_log,
                ["clicklog_validated_events", *PARAMS],
                "clicklog_events_split",
                name="split_click_log",
            ),
            Node(
                nodes.build_click_log_vocabularies,
                ["clicklog_events_split", *PARAMS],
                "clicklog_vocabularies",
                name="fit_click_log_vocabularies",
            ),
            Node(
                nodes.build_click_log_model_inputs,
                ["clicklog_events_split", "clicklog_vocabularies", *PARAMS],
                {split: f"clicklog_model_input_{split}" for split in nodes.MODEL_INPUT_SPLITS},
                name="build_click_log_model_inputs",
            ),
            Node(
                nodes.build_click_log_feature_spec,
                ["clicklog_vocabularies", *PARAMS],
                "clicklog_feature_spec",
                name="build_click_log_feature_spec",
            ),
        ],
        tags="clicklog_features",
    )
