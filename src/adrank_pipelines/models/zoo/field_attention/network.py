"""The field-attention CTR model over the tabular model inputs (the click-log graph's deep model).

AutoInt-style (Song et al. 2019): every categorical and numeric field becomes one embedding,
self-attention across the fields learns their interactions, and the shared two-task head gives pCTR and
pCVR. It reads no ad text and no behaviour sequences, so it runs on any click log.
"""

from __future__ import annotations

import torch
from pydantic import Field, PositiveInt

from adrank_pipelines.models.batching import Batch
from adrank_pipelines.models.config import TorchCtrParams
from adrank_pipelines.models.layers import (
    CategoricalEmbeddings,
    CtrHeads,
    CtrOutputs,
    NumericFieldEmbeddings,
    transformer_stack,
)
from adrank_pipelines.models.layout import InputLayout
from adrank_pipelines.models.network import CtrNetwork

MODEL_CLASS = "field_attention"


class FieldAttentionParams(TorchCtrParams):
    """Widths of the field embeddings, the attention across fields and the heads."""

    d_model: PositiveInt = 32  # width of every field's embedding and of the attention
    n_heads: PositiveInt = 2
    n_layers: PositiveInt = 1  # self-attention layers across the fields
    feedforward_dim: PositiveInt = 64
    mlp_hidden: list[PositiveInt] = Field(default_factory=lambda: [128, 64])
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)  # in the MLP heads
    attention_dropout: float = Field(default=0.0, ge=0.0, lt=1.0)


class FieldAttentionCtrModel(CtrNetwork):
    """Field embeddings -> self-attention across fields -> pCTR / pCVR heads."""

    params: FieldAttentionParams

    def __init__(self, layout: InputLayout, params: FieldAttentionParams) -> None:
        super().__init__()
        self.model_class = MODEL_CLASS
        self.layout, self.params = layout, params
        categorical_sizes = [*layout.user_categorical.values(), *layout.pair_categorical.values()]
        n_numeric = len(layout.user_numeric) + len(layout.pair_numeric)
        self.categorical = CategoricalEmbeddings(categorical_sizes, params.d_model)
        self.numeric = NumericFieldEmbeddings(n_numeric, params.d_model)
        self.interactions = transformer_stack(
            params.d_model, params.n_heads, params.n_layers, params.feedforward_dim, params.attention_dropout
        )
        n_fields = len(categorical_sizes) + n_numeric
        self.heads = CtrHeads(n_fields * params.d_model, params.mlp_hidden, params.dropout)

    def forward(self, batch: Batch) -> CtrOutputs:
        impressions = batch.impressions
        categorical = torch.cat([impressions.user_categorical, impressions.pair_categorical], dim=1)
        numeric = torch.cat([impressions.user_numeric, impressions.pair_numeric], dim=1)
        fields = torch.cat(
            [self.categorical(categorical), self.numeric(numeric).to(self.categorical.table.weight.dtype)], dim=1
        )
        outputs: CtrOutputs = self.heads(self.interactions(fields).flatten(1))
        return outputs
