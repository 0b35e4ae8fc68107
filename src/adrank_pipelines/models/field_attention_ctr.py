"""The fallback CTR model for specs without ad text or behaviour sequences (public click logs).

AutoInt-style: every categorical and numeric field becomes one embedding, self-attention across the
fields learns their interactions, and the shared two-task head gives pCTR and pCVR.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import torch
from torch import nn

from adrank_pipelines.models.batching import Batch
from adrank_pipelines.models.config import CtrTransformerParams
from adrank_pipelines.models.layers import (
    CategoricalEmbeddings,
    CtrHeads,
    CtrOutputs,
    NumericFieldEmbeddings,
    transformer_stack,
)
from adrank_pipelines.models.layout import InputLayout

MODEL_CLASS = "field_attention_ctr"


class FieldAttentionCtrModel(nn.Module):
    """Field embeddings -> self-attention across fields -> pCTR / pCVR heads."""

    def __init__(self, layout: InputLayout, params: CtrTransformerParams) -> None:
        super().__init__()
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

    def constructor_config(self) -> dict[str, Any]:
        """JSON-ready arguments that rebuild this model (weights come from the state dict)."""
        return {"model_class": MODEL_CLASS, "layout": asdict(self.layout), "params": self.params.model_dump()}

    def forward(self, batch: Batch) -> CtrOutputs:
        impressions = batch.impressions
        categorical = torch.cat([impressions.user_categorical, impressions.pair_categorical], dim=1)
        numeric = torch.cat([impressions.user_numeric, impressions.pair_numeric], dim=1)
        fields = torch.cat(
            [self.categorical(categorical), self.numeric(numeric).to(self.categorical.table.weight.dtype)], dim=1
        )
        outputs: CtrOutputs = self.heads(self.interactions(fields).flatten(1))
        return outputs
