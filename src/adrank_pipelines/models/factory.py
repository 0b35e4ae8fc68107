"""Pick the CTR model a feature spec supports, and rebuild a saved one from its constructor config."""

from __future__ import annotations

from typing import Any

from adrank_pipelines.models import field_attention_ctr, transformer_ctr
from adrank_pipelines.models.config import CtrTransformerParams
from adrank_pipelines.models.field_attention_ctr import FieldAttentionCtrModel
from adrank_pipelines.models.layout import InputLayout
from adrank_pipelines.models.transformer_ctr import TransformerCtrModel

CtrModel = TransformerCtrModel | FieldAttentionCtrModel


def build_ctr_model(
    layout: InputLayout,
    params: CtrTransformerParams,
    bert_config: dict[str, Any] | None = None,
    tokenizer_vocabulary: list[str] | None = None,
) -> CtrModel:
    """The transformer when the layout has ad text and sequences, else field attention (public logs)."""
    if layout.has_towers:
        return TransformerCtrModel(layout, params, bert_config, tokenizer_vocabulary)
    return FieldAttentionCtrModel(layout, params)


def model_from_config(config: dict[str, Any]) -> CtrModel:
    """Inverse of ``model.constructor_config()``: a freshly initialised model of the same shape."""
    layout = InputLayout.from_dict(config["layout"])
    params = CtrTransformerParams.model_validate(config["params"])
    if config["model_class"] == field_attention_ctr.MODEL_CLASS:
        return FieldAttentionCtrModel(layout, params)
    if config["model_class"] == transformer_ctr.MODEL_CLASS:
        return TransformerCtrModel(layout, params, config["bert_config"], config["tokenizer_vocabulary"])
    raise ValueError(f"unknown CTR model class {config['model_class']!r}")
