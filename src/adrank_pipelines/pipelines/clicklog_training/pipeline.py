"""clicklog_training: the per-model training template on the click-log model inputs (``clicklog_training.models``),
and the label-only report on the test split."""

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.graph_config import graph_parameters, lookup, model_blocks
from adrank_pipelines.pipelines.clicklog_training import nodes
from adrank_pipelines.pipelines.zoo_template import ModelInputs, evaluation_inputs, model_pipelines

PREFIX = "clicklog."
MODEL_INPUTS = ModelInputs(
    train="clicklog_model_input_train",
    valid="clicklog_model_input_valid",
    test="clicklog_model_input_test",
    spec="clicklog_feature_spec",
    prefix=PREFIX,
)


def create_pipeline(**kwargs) -> Pipeline:
    parameters = graph_parameters()
    models = lookup(parameters, "clicklog_training.models")
    evaluation = Node(
        nodes.evaluate_click_log_models,
        {"test": "clicklog_model_input_test", "params": "params:ctr_evaluation", **evaluation_inputs(models, PREFIX)},
        ["clicklog_evaluation_report", "clicklog_metrics", "clicklog_reliability_plot", "clicklog_metrics_plot"],
        name="evaluate_click_log_models",
    )
    training = model_pipelines(models, model_blocks(parameters), MODEL_INPUTS)
    return Pipeline([training, evaluation], tags="clicklog_training")
