"""The field-attention CTR model over the tabular model inputs (the click-log graph's deep model).

AutoInt-style (Song et al. 2019): every categorical and numeric field becomes one embedding,
self-attention across the fields learns their interactions, and the shared two-task head gives pCTR and
pCVR. It reads no ad text and no behaviour sequences, so it runs on any click log.
"""

from __future__ import annotations

from pydantic import Field, PositiveInt

from adrank_pipelines.models.batching import Batch
from adrank_pipelines.models.config import TorchCtrParams
from adrank_pipelines.models.layers import CtrHeads, CtrOutputs, FieldEmbeddings, transformer_stack
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
        self.fields = FieldEmbeddings(layout, params.d_model)
        self.interactions = transformer_stack(
            params.d_model, params.n_heads, params.n_layers, params.feedforward_dim, params.attention_dropout
        )
        self.heads = CtrHeads(self.fields.n_fields * params.d_model, params.mlp_hidden, params.dropout)

    def forward(self, batch: Batch) -> CtrOutputs:
        fields = self.fields(*FieldEmbeddings.field_values(batch.impressions))
        outputs: CtrOutputs = self.heads(self.interactions(fields).flatten(1))
        return outputs
