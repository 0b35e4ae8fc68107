"""The zoo entry: name, parameters, inputs, and fit / predict / save / load."""

from __future__ import annotations

from typing import Any

from adrank_pipelines.models.config import CtrTransformerParams, TextEncoderParams
from adrank_pipelines.models.layout import InputLayout
from adrank_pipelines.models.network import CtrNetwork
from adrank_pipelines.models.text_encoder import TextEncoder
from adrank_pipelines.models.zoo.interface import ModelInput
from adrank_pipelines.models.zoo.torch_network import TorchZooModel
from adrank_pipelines.models.zoo.transformer.network import TransformerCtrModel


class TransformerModel(TorchZooModel[CtrTransformerParams]):
    name = "transformer"
    params_type = CtrTransformerParams
    inputs = frozenset({ModelInput.SEQUENCES, ModelInput.TEXT})

    def text_encoder(self, params: CtrTransformerParams) -> TextEncoderParams:
        return params.text_encoder

    def build(self, layout: InputLayout, params: CtrTransformerParams, encoder: TextEncoder | None) -> CtrNetwork:
        if encoder is None:
            return TransformerCtrModel(layout, params)
        model = TransformerCtrModel(layout, params, encoder.bert.config.to_dict(), encoder.vocabulary)
        if model.text_tower.bert is None:
            raise ValueError("ctr_models.transformer: a fine-tuned text encoder needs a BERT text tower")
        model.text_tower.bert.load_state_dict(encoder.bert.state_dict())
        return model

    def rebuild(self, config: dict[str, Any]) -> CtrNetwork:
        params = CtrTransformerParams.model_validate(config["params"])
        layout = InputLayout.from_dict(config["layout"])
        return TransformerCtrModel(layout, params, config["bert_config"], config["tokenizer_vocabulary"])


MODEL = TransformerModel()
