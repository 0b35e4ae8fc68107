"""The zoo entry: the network of ``network.py`` over the tabular fields, trained and saved as every torch model is."""

from __future__ import annotations

from adrank_pipelines.models.zoo.field_attention.network import FieldAttentionCtrModel, FieldAttentionParams
from adrank_pipelines.models.zoo.torch_network import TabularTorchModel

MODEL = TabularTorchModel("field_attention", FieldAttentionParams, FieldAttentionCtrModel)
