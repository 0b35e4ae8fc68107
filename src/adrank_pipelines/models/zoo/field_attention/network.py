"""The field-attention CTR model over the tabular model inputs (the click-log graph's deep model).

AutoInt-style (Song et al. 2019): every categorical and numeric field becomes one embedding,
self-attention across the fields learns their interactions, and the shared two-task head gives pCTR and
pCVR. It reads no ad text and no behaviour sequences, so it runs on any click log.

The interaction layers are residual attention and feed-forward blocks without layer normalisation,
as in AutoInt: a numeric field's embedding is its value times a vector, and normalising that
token would keep only the value's sign. With the normalisation (a pre-norm transformer layer) the
model trailed DCN-v2 by 0.03 test AUC on a Criteo-format sample whose signal is mostly numeric
(ADR 0020).
"""

from __future__ import annotations

import torch
from pydantic import Field, PositiveInt
from torch import nn

from adrank_pipelines.models.batching import Batch
from adrank_pipelines.models.config import TorchCtrParams
from adrank_pipelines.models.layers import CtrHeads, CtrOutputs, FieldEmbeddings
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


class FieldInteraction(nn.Module):
    """x + attention(x) across the fields, then x + feed-forward(x) per field; no normalisation."""

    def __init__(self, d_model: int, n_heads: int, feedforward_dim: int, dropout: float) -> None:
        super().__init__()
        self.attention = nn.MultiheadAttention(d_model, n_heads, dropout=dropout, batch_first=True)
        self.feedforward = nn.Sequential(
            nn.Linear(d_model, feedforward_dim), nn.GELU(), nn.Linear(feedforward_dim, d_model)
        )

    def forward(self, fields: torch.Tensor) -> torch.Tensor:
        """(batch, fields, d_model) -> the same shape."""
        fields = fields + self.attention(fields, fields, fields, need_weights=False)[0]
        interacted: torch.Tensor = fields + self.feedforward(fields)
        return interacted


class FieldAttentionCtrModel(CtrNetwork):
    """Field embeddings -> self-attention across fields -> pCTR / pCVR heads."""

    params: FieldAttentionParams

    def __init__(self, layout: InputLayout, params: FieldAttentionParams) -> None:
        super().__init__()
        self.model_class = MODEL_CLASS
        self.layout, self.params = layout, params
        self.fields = FieldEmbeddings(layout, params.d_model)
        self.interactions = nn.Sequential(
            *(
                FieldInteraction(params.d_model, params.n_heads, params.feedforward_dim, params.attention_dropout)
                for _ in range(params.n_layers)
            )
        )
        self.heads = CtrHeads(self.fields.n_fields * params.d_model, params.mlp_hidden, params.dropout)

    def forward(self, batch: Batch) -> CtrOutputs:
        fields = self.fields(*FieldEmbeddings.field_values(batch.impressions))
        outputs: CtrOutputs = self.heads(self.interactions(fields).flatten(1))
        return outputs
