"""The per-model training template: one namespaced modular pipeline per model listed in configuration.

For a model ``m`` the template writes ``m.trained_model``, ``m.training_summary``, ``m.predictions``
(every split), ``m.calibrator``, ``m.calibrated_predictions``, ``m.ad_text_embeddings`` when it reads ad
text, and ``m.registered_model``: a new registry version, through which the later stages read the
registry's champion. Catalog entries of its own, a namespace of its own in kedro-viz. The simulated world's
ctr_training and the click-log graph both instantiate it, with their own model-input datasets.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from kedro.pipeline import Node, Pipeline

from adrank_pipelines.models.zoo import training_order, zoo_model
from adrank_pipelines.models.zoo.interface import ModelInput, ZooModel
from adrank_pipelines.pipelines import zoo_nodes
from adrank_pipelines.pipelines.zoo_nodes import CALIBRATED_SUFFIX, CALIBRATOR_SUFFIX, UPSTREAM_PREFIX


@dataclass(frozen=True)
class ModelInputs:
    """The catalog names a graph hands to every model (None where the graph has no such table)."""

    train: str
    valid: str
    test: str
    spec: str
    drift: str | None = None
    sequences: str | None = None
    ad_features: str | None = None
    prefix: str = ""  # namespace prefix of this graph's models, e.g. "clicklog."

    def splits(self) -> dict[str, str]:
        named = {"train": self.train, "valid": self.valid, "test": self.test, "drift": self.drift}
        return {split: name for split, name in named.items() if name is not None}


def _side_inputs(model: ZooModel[Any, Any], inputs: ModelInputs) -> dict[str, str]:
    needs = {
        ModelInput.SEQUENCES: ("sequences", inputs.sequences),
        ModelInput.TEXT: ("ad_features", inputs.ad_features),
    }
    wanted = sorted(model.inputs, key=lambda need: need.value)
    missing = [need.value for need in wanted if needs[need][1] is None]
    if missing:
        raise ValueError(
            f"model '{model.name}' reads {' and '.join(missing)}, which this graph does not have; list another model"
        )
    side = {needs[need][0]: str(needs[need][1]) for need in wanted}
    if ModelInput.TEXT in model.inputs:
        side["text_embeddings"] = "ad_text_embeddings"
    return side


def _model_pipeline(name: str, block: Mapping[str, Any] | None, inputs: ModelInputs) -> Pipeline:
    model = zoo_model(name)
    params = f"params:ctr_models.{name}"
    reads = model.upstream(model.params_type.model_validate(dict(block or {})))
    upstream = {f"{UPSTREAM_PREFIX}{u}": f"{inputs.prefix}{u}.predictions" for u in reads}
    side = _side_inputs(model, inputs)
    nodes = []
    if ModelInput.TEXT in model.inputs:
        nodes.append(
            Node(
                zoo_nodes.encode_ad_creatives,
                [side["ad_features"], f"{params}.text_encoder"],
                "ad_text_embeddings",
                name="encode_ad_creatives",
            )
        )
    nodes += [
        Node(
            zoo_nodes.fit_function(model),
            {"train": inputs.train, "valid": inputs.valid, "spec": inputs.spec, "params": params, **side, **upstream},
            ["trained_model", "training_summary"],
            name="fit",
        ),
        Node(zoo_nodes.training_metrics_function(model), "training_summary", "training_metrics", name="log_training"),
        Node(
            zoo_nodes.predict_function(model),
            {"trained": "trained_model", **inputs.splits(), **side, **upstream},
            "predictions",
            name="predict",
        ),
        Node(
            zoo_nodes.fit_calibrator_function(model),
            ["predictions", inputs.valid, params],
            "calibrator",
            name="fit_calibrator",
        ),
        Node(
            zoo_nodes.calibrate,
            {"predictions": "predictions", "calibrator": "calibrator", **inputs.splits()},
            "calibrated_predictions",
            name="calibrate",
        ),
        Node(
            zoo_nodes.release_function(model),
            {
                "trained": "trained_model",
                "calibrator": "calibrator",
                "calibrated": "calibrated_predictions",
                "train": inputs.train,
                "valid": inputs.valid,
            },
            "registered_model",
            name="register",
        ),
    ]
    shared = {
        *inputs.splits().values(),
        inputs.spec,
        *(d for d in side.values() if d != "ad_text_embeddings"),
        *upstream.values(),
    }
    parameters = {params} | ({f"{params}.text_encoder"} if ModelInput.TEXT in model.inputs else set())
    return Pipeline(
        nodes,
        namespace=f"{inputs.prefix}{name}",
        inputs=shared,
        parameters={p.removeprefix("params:") for p in parameters},
    )


def model_pipelines(models: Sequence[str], blocks: Mapping[str, Any], inputs: ModelInputs) -> Pipeline:
    """The template once per model of ``models``, each after the models whose scores it reads."""
    return sum(
        (_model_pipeline(name, blocks.get(name), inputs) for name in training_order(models, blocks)), Pipeline([])
    )


def evaluation_inputs(models: Sequence[str], prefix: str = "") -> dict[str, str]:
    """Keyword inputs of an evaluation node: every model's raw and calibrated predictions and its calibrator."""
    return {
        key: f"{prefix}{name}.{dataset}"
        for name in models
        for key, dataset in (
            (name, "predictions"),
            (f"{name}{CALIBRATED_SUFFIX}", "calibrated_predictions"),
            (f"{name}{CALIBRATOR_SUFFIX}", "calibrator"),
        )
    }
