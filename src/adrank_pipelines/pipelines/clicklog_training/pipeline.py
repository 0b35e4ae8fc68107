"""clicklog_training: model inputs -> field-attention transformer and LightGBM, calibrated on the
validation split, and their report on the test split."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.pipelines.clicklog_training import nodes

TRAIN_INPUTS = ["clicklog_model_input_train", "clicklog_model_input_valid", "clicklog_feature_spec"]
SCORED_SPLITS = ["clicklog_model_input_valid", "clicklog_model_input_test"]
MODELS = ("field_attention", "lightgbm")


def _calibration(model: str) -> Node:
    return Node(
        nodes.calibrate_on_valid,
        [f"clicklog_{model}_predictions", "clicklog_model_input_valid", "params:ctr_lightgbm"],
        f"clicklog_{model}_calibrated_predictions",
        name=f"calibrate_click_log_{model}",
    )


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.train_field_attention,
                [*TRAIN_INPUTS, "params:ctr_transformer"],
                ["clicklog_field_attention_model", "clicklog_field_attention_history"],
                name="train_click_log_field_attention",
            ),
            Node(
                nodes.predict_field_attention,
                ["clicklog_field_attention_model", *SCORED_SPLITS],
                "clicklog_field_attention_predictions",
                name="predict_click_log_field_attention",
            ),
            Node(
                nodes.train_click_log_lightgbm,
                [*TRAIN_INPUTS, "params:ctr_lightgbm"],
                "clicklog_lightgbm_model",
                name="train_click_log_lightgbm",
            ),
            Node(
                nodes.predict_click_log_lightgbm,
                ["clicklog_lightgbm_model", *SCORED_SPLITS],
                "clicklog_lightgbm_predictions",
                name="predict_click_log_lightgbm",
            ),
            *[_calibration(model) for model in MODELS],
            Node(
                nodes.evaluate_click_log_models,
                {
                    "test": "clicklog_model_input_test",
                    "params": "params:ctr_evaluation",
                    **{
                        f"{model}{variant}": f"clicklog_{model}{variant}_predictions"
                        for model in MODELS
                        for variant in ("", "_calibrated")
                    },
                },
                [
                    "clicklog_evaluation_report",
                    "clicklog_metrics",
                    "clicklog_reliability_plot",
                    "clicklog_metrics_plot",
                ],
                name="evaluate_click_log_models",
            ),
        ],
        tags="clicklog_training",
    )
