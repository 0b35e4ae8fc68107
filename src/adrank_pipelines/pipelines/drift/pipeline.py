"""drift: training window vs the test day and the drift window -> statistics, alerts, recommendation, report."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.graph_config import graph_parameters, lookup
from adrank_pipelines.pipelines.drift import nodes

WINDOW_INPUTS = {
    "train": "model_input_train",
    "valid": "model_input_valid",
    "test": "model_input_test",
    "drift": "model_input_drift",
}


def _predictions() -> dict[str, str]:
    """Every ctr_training model's raw and calibrated predictions: ``params:drift.model`` picks one. Reading
    them as inputs (not through an alias dataset) keeps drift after ctr_training in any run that holds both."""
    models = lookup(graph_parameters(), "ctr_training.models")
    raw = {model: f"{model}.predictions" for model in models}
    return raw | {f"{model}{nodes.CALIBRATED_SUFFIX}": f"{model}.calibrated_predictions" for model in models}


def create_pipeline(**kwargs) -> Pipeline:
    return Pipeline(
        [
            Node(
                nodes.fit_reference,
                ["model_input_train", "feature_spec", "params:drift"],
                "drift_reference_profile",
                name="fit_drift_reference",
            ),
            Node(
                nodes.compute_feature_drift,
                ["drift_reference_profile", "model_input_test", "model_input_drift"],
                "drift_feature_statistics",
                name="compute_feature_drift",
            ),
            Node(
                nodes.compute_model_drift,
                {**WINDOW_INPUTS, "params": "params:drift", **_predictions()},
                ["drift_model_statistics", "drift_scored_windows"],
                name="compute_model_drift",
            ),
            Node(
                nodes.evaluate_alert_rules,
                ["drift_feature_statistics", "drift_model_statistics", "params:drift"],
                ["drift_statistics", "drift_alerts", "drift_retrain_recommendation"],
                name="evaluate_drift_alerts",
            ),
            Node(
                nodes.build_drift_report,
                ["drift_statistics", "drift_retrain_recommendation", "params:drift"],
                ["drift_report", "drift_metrics"],
                name="build_drift_report",
            ),
            Node(
                nodes.plot_feature_psi, ["drift_statistics", "params:drift"], "drift_psi_plot", name="plot_feature_psi"
            ),
            Node(
                nodes.plot_scores,
                ["drift_scored_windows", "params:drift"],
                ["drift_score_histogram_plot", "drift_reliability_plot"],
                name="plot_drift_scores",
            ),
        ],
        tags=["drift"],
    )
