"""ctr_training: model inputs -> transformer CTR model, LightGBM, hybrid, calibrated scores and the report."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.pipelines.ctr_training import nodes

SPLIT_INPUTS = ["model_input_train", "model_input_valid", "model_input_test"]
TRANSFORMER_CONTEXT = ["behaviour_sequences", "ad_features", "ad_text_embeddings"]


def _transformer_nodes() -> list[Node]:
    return [
        Node(
            nodes.encode_ad_creatives,
            ["ad_features", "params:ctr_transformer"],
            "ad_text_embeddings",
            name="encode_ad_creatives",
        ),
        Node(
            nodes.train_transformer,
            ["model_input_train", "model_input_valid", *TRANSFORMER_CONTEXT, "feature_spec", "params:ctr_transformer"],
            ["transformer_ctr_model", "transformer_training_history"],
            name="train_transformer",
        ),
        Node(
            nodes.training_history_metrics,
            "transformer_training_history",
            "transformer_training_metrics",
            name="log_transformer_training_history",
        ),
        Node(
            nodes.predict_transformer,
            ["transformer_ctr_model", *SPLIT_INPUTS, "model_input_drift", *TRANSFORMER_CONTEXT],
            "transformer_predictions",
            name="predict_transformer",
        ),
        Node(
            nodes.calibrate_on_validation_day,
            ["transformer_predictions", "model_input_valid", "params:ctr_lightgbm"],
            "transformer_calibrated_predictions",
            name="calibrate_transformer",
        ),
    ]


def _tabular_nodes() -> list[Node]:
    return [
        Node(nodes.train_baseline, "model_input_train", "ctr_baseline_model", name="train_baseline"),
        Node(
            nodes.predict_with_baseline,
            ["ctr_baseline_model", "model_input_test"],
            "baseline_predictions",
            name="predict_baseline",
        ),
        Node(
            nodes.train_lightgbm_ranker,
            ["model_input_train", "model_input_valid", "feature_spec", "params:ctr_lightgbm"],
            "lightgbm_model",
            name="train_lightgbm",
        ),
        Node(
            nodes.predict_with_lightgbm,
            ["lightgbm_model", "model_input_valid", "model_input_test"],
            "lightgbm_predictions",
            name="predict_lightgbm",
        ),
        Node(
            nodes.calibrate_on_validation_day,
            ["lightgbm_predictions", "model_input_valid", "params:ctr_lightgbm"],
            "lightgbm_calibrated_predictions",
            name="calibrate_lightgbm",
        ),
        Node(
            nodes.train_hybrid_ranker,
            [
                "model_input_train",
                "model_input_valid",
                "feature_spec",
                "lightgbm_model",
                "transformer_predictions",
                "params:ctr_lightgbm",
            ],
            "hybrid_model",
            name="train_hybrid",
        ),
        Node(
            nodes.predict_with_hybrid,
            ["hybrid_model", "model_input_test", "transformer_predictions"],
            "hybrid_predictions",
            name="predict_hybrid",
        ),
    ]


def create_pipeline(**kwargs) -> Pipeline:
    evaluation = Node(
        nodes.evaluate_ctr_models,
        [
            "model_input_test",
            "model_input_train",
            "model_input_valid",
            "truth_impressions",
            "baseline_predictions",
            "lightgbm_predictions",
            "lightgbm_calibrated_predictions",
            "transformer_predictions",
            "transformer_calibrated_predictions",
            "hybrid_predictions",
            "params:ctr_evaluation",
        ],
        ["ctr_evaluation_report", "ctr_metrics", "ctr_reliability_plot", "ctr_auc_plot"],
        name="evaluate_ctr_models",
        tags=["uses_ground_truth"],
    )
    return Pipeline([*_transformer_nodes(), *_tabular_nodes(), evaluation], tags=["ctr_training"])
