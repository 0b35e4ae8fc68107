"""Graph-wide: the simulator's ground truth reaches evaluation nodes only, never a node that trains or serves."""

from __future__ import annotations

import pytest
from kedro.framework.startup import bootstrap_project

from tests.conftest import PROJECT_ROOT

EVALUATION_TAG = "uses_ground_truth"


@pytest.fixture(scope="module")
def registered_pipelines() -> dict:
    bootstrap_project(PROJECT_ROOT)
    from adrank_pipelines.pipeline_registry import register_pipelines

    return register_pipelines()


def _readers_of_ground_truth(pipeline) -> dict[str, set[str]]:
    """Every node that reads a ground-truth table or anything computed from one, with what it reads."""
    tainted = {name for name in pipeline.datasets() if name.startswith("truth_")}
    readers = {}
    for node in pipeline.nodes:  # topologically sorted: producers before consumers
        if tainted & set(node.inputs):
            readers[node.name] = tainted & set(node.inputs)
            tainted |= set(node.outputs)
    return readers


def test_every_node_downstream_of_the_ground_truth_is_an_evaluation_node(registered_pipelines: dict):
    pipeline = registered_pipelines["__default__"]
    readers = _readers_of_ground_truth(pipeline)
    tags = {node.name: node.tags for node in pipeline.nodes}
    untagged = {name: sorted(inputs) for name, inputs in readers.items() if EVALUATION_TAG not in tags[name]}
    assert not untagged, f"nodes that read the ground truth without being evaluation nodes: {untagged}"
    # Namespaced zoo nodes are "<model>.fit", "<model>.fit_calibrator", "<model>.calibrate".
    fitting = ("train", "fit", "calibrate")
    trainers = {node.name for node in pipeline.nodes if node.name.rsplit(".", 1)[-1].startswith(fitting)}
    assert {"transformer.fit", "lightgbm.fit_calibrator", "hybrid.calibrate"} <= trainers
    assert not trainers & set(readers)
    assert {"evaluate_ctr_models", "evaluate_indexing", "replay_auction_grid"} <= set(readers)


def test_the_click_log_graph_has_no_ground_truth(registered_pipelines: dict):
    assert not _readers_of_ground_truth(registered_pipelines["ctr"])
