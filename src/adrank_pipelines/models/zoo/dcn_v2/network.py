"""DCN-v2: explicit feature crosses of bounded degree next to, or below, a deep MLP.

Wang et al. 2021, "DCN V2: Improved Deep & Cross Network and Practical Lessons for Web-scale
Learning to Rank Systems". Every field becomes one embedding; their concatenation x0 goes through
cross layers x_{l+1} = x0 * (W_l x_l + b_l) + x_l, so layer l holds feature crosses up to degree
l + 1. W_l is full rank, or the paper's low-rank U_l V_l^T to cut its cost. The cross network
either feeds the MLP (stacked) or runs beside it (parallel); the shared two-task head gives pCTR and pCVR.
"""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, NonNegativeInt, PositiveInt
from torch import nn

from adrank_pipelines.models.batching import Batch
from adrank_pipelines.models.calibration import CalibrationChoice
from adrank_pipelines.models.config import TorchCtrParams
from adrank_pipelines.models.layers import CtrHeads, CtrOutputs, FieldEmbeddings, mlp
from adrank_pipelines.models.layout import InputLayout
from adrank_pipelines.models.network import CtrNetwork

MODEL_CLASS = "dcn_v2"


class DcnV2Params(TorchCtrParams):
    """Embedding width, cross network and MLP sizes of DCN-v2 (columns and training come from ``TorchCtrParams``)."""

    calibration: CalibrationChoice = "platt_cold_start"  # the default world's ads have a cold-start flag (ADR 0028)

    embedding_dim: PositiveInt = 16  # width of each field's vector; x0 is n_fields * embedding_dim wide
    # Hidden widths of the deep MLP: below the logits when stacked, beside the cross network when parallel.
    mlp_hidden: list[PositiveInt] = Field(default_factory=lambda: [128, 64], min_length=1)
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)  # after each hidden layer of the MLPs
    cross_layers: PositiveInt = 3  # layer l models feature crosses up to degree l + 1
    # 0 = full-rank W (width^2 weights per layer); N > 0 = W = U V^T of rank N, 2 * width * N weights.
    cross_rank: NonNegativeInt = 0
    # stacked: cross layers then the MLP; parallel: both read x0, their outputs concatenated.
    structure: Literal["stacked", "parallel"] = "stacked"


class CrossLayer(nn.Module):
    """One cross layer: x0 * (W x + b) + x, with W full rank or low rank."""

    def __init__(self, width: int, rank: int) -> None:
        super().__init__()
        self.transform: nn.Module = (
            nn.Linear(width, width)
            if rank == 0
            # V^T projects down to the rank, U back up; the bias b sits on U.
            else nn.Sequential(nn.Linear(width, rank, bias=False), nn.Linear(rank, width))
        )

    def forward(self, x0: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """(batch, width) input and current state -> next state."""
        crossed: torch.Tensor = x0 * self.transform(x) + x
        return crossed


class DcnV2CtrModel(CtrNetwork):
    """Field embeddings -> cross network and MLP (stacked or parallel) -> pCTR / pCVR heads."""

    params: DcnV2Params

    def __init__(self, layout: InputLayout, params: DcnV2Params) -> None:
        super().__init__()
        self.model_class = MODEL_CLASS
        self.layout, self.params = layout, params
        self.fields = FieldEmbeddings(layout, params.embedding_dim)
        width = self.fields.n_fields * params.embedding_dim
        self.cross = nn.ModuleList(CrossLayer(width, params.cross_rank) for _ in range(params.cross_layers))
        self.deep: nn.Sequential | None = None
        if params.structure == "stacked":
            # The heads' shared MLP is the deep network on top of the cross network.
            self.heads = CtrHeads(width, params.mlp_hidden, params.dropout)
        else:
            self.deep = mlp(width, params.mlp_hidden, params.dropout)
            # CtrHeads always has a hidden layer: here one layer that mixes the two towers before the logits.
            self.heads = CtrHeads(width + params.mlp_hidden[-1], params.mlp_hidden[-1:], params.dropout)

    def forward(self, batch: Batch) -> CtrOutputs:
        x0 = self.fields(*FieldEmbeddings.field_values(batch.impressions)).flatten(1)
        crossed = x0
        for layer in self.cross:
            crossed = layer(x0, crossed)
        features = crossed if self.deep is None else torch.cat([crossed, self.deep(x0)], dim=1)
        outputs: CtrOutputs = self.heads(features)
        return outputs
