"""ctr_training: model inputs -> one trained, scored and calibrated model per ``ctr_training.models`` entry -> the report."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.graph_config import graph_parameters, lookup, model_blocks
from adrank_pipelines.pipelines.ctr_training import nodes
from adrank_pipelines.pipelines.zoo_template import ModelInputs, evaluation_inputs, model_pipelines

MODEL_INPUTS = ModelInputs(
    train="model_input_train",
    valid="model_input_valid",
    test="model_input_test",
    drift="model_input_drift",
    spec="feature_spec",
    sequences="behaviour_sequences",
    ad_features="ad_features",
)


def create_pipeline(**kwargs) -> Pipeline:
    parameters = graph_parameters()
    models = lookup(parameters, "ctr_training.models")
    evaluation = Node(
        nodes.evaluate_ctr_models,
        {
            "test": "model_input_test",
            "train": "model_input_train",
            "valid": "model_input_valid",
            "truth_impressions": "truth_impressions",
            "params": "params:ctr_evaluation",
            **evaluation_inputs(models),
        },
        ["ctr_evaluation_report", "ctr_metrics", "ctr_reliability_plot", "ctr_auc_plot"],
        name="evaluate_ctr_models",
        tags=["uses_ground_truth"],
    )
    training = model_pipelines(models, model_blocks(parameters), MODEL_INPUTS)
    return Pipeline([training, evaluation], tags=["ctr_training"])
