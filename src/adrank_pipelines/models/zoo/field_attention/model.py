"""The zoo entry: name, parameters, inputs, and fit / predict / save / load."""

from __future__ import annotations

from adrank_pipelines.models.layout import InputLayout
from adrank_pipelines.models.network import CtrNetwork
from adrank_pipelines.models.text_encoder import TextEncoder
from adrank_pipelines.models.zoo.field_attention.network import FieldAttentionCtrModel, FieldAttentionParams
from adrank_pipelines.models.zoo.torch_network import TorchZooModel


class FieldAttentionModel(TorchZooModel[FieldAttentionParams]):
    name = "field_attention"
    params_type = FieldAttentionParams

    def build(self, layout: InputLayout, params: FieldAttentionParams, encoder: TextEncoder | None) -> CtrNetwork:
        return FieldAttentionCtrModel(layout, params)


MODEL = FieldAttentionModel()
