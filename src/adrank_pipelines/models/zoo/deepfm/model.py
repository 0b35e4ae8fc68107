"""The zoo entry: name, parameters, inputs, and fit / predict / save / load."""

from __future__ import annotations

from adrank_pipelines.models.layout import InputLayout
from adrank_pipelines.models.network import CtrNetwork
from adrank_pipelines.models.text_encoder import TextEncoder
from adrank_pipelines.models.zoo.deepfm.network import DeepFMCtrModel, DeepFMParams
from adrank_pipelines.models.zoo.torch_network import TorchZooModel


class DeepFMModel(TorchZooModel[DeepFMParams]):
    name = "deepfm"
    params_type = DeepFMParams

    def build(self, layout: InputLayout, params: DeepFMParams, encoder: TextEncoder | None) -> CtrNetwork:
        return DeepFMCtrModel(layout, params)


MODEL = DeepFMModel()
