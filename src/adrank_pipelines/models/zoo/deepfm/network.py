"""DeepFM: a factorization machine and a deep MLP that share one embedding per field.

Guo et al. 2017, "DeepFM: A Factorization-Machine based Neural Network for CTR Prediction". The FM
part models first-order effects and every pairwise field interaction as a dot product of the two
fields' embeddings; the deep part learns higher-order interactions from the same embeddings. The FM
logit is added to the click logit of the shared two-task head, whose MLP is the deep part, so the
model also predicts pCVR.
"""

from __future__ import annotations

import torch
from pydantic import Field, PositiveInt
from torch import nn

from adrank_pipelines.models.batching import Batch
from adrank_pipelines.models.calibration import CalibrationChoice
from adrank_pipelines.models.config import TorchCtrParams
from adrank_pipelines.models.layers import CategoricalEmbeddings, CtrHeads, CtrOutputs, FieldEmbeddings
from adrank_pipelines.models.layout import InputLayout
from adrank_pipelines.models.network import CtrNetwork

MODEL_CLASS = "deepfm"


class DeepFMParams(TorchCtrParams):
    """Embedding width and deep-part sizes of DeepFM (columns and training come from ``TorchCtrParams``)."""

    calibration: CalibrationChoice = "platt_cold_start"  # the default world's ads have a cold-start flag (ADR 0028)

    # Width of each field's vector, shared by the FM interactions and the deep MLP.
    embedding_dim: PositiveInt = 16
    # Hidden widths of the deep MLP, which is also the shared trunk of the pCTR / pCVR logits.
    mlp_hidden: list[PositiveInt] = Field(default_factory=lambda: [128, 64], min_length=1)
    dropout: float = Field(default=0.1, ge=0.0, lt=1.0)  # after each hidden layer of the deep MLP


def fm_second_order(fields: torch.Tensor) -> torch.Tensor:
    """Sum over field pairs i < j of <v_i, v_j>, in O(fields * dim): (batch, fields, dim) -> (batch,)."""
    square_of_sum = fields.sum(dim=1).square()
    sum_of_squares = fields.square().sum(dim=1)
    return 0.5 * (square_of_sum - sum_of_squares).sum(dim=-1)


class DeepFMCtrModel(CtrNetwork):
    """Field embeddings -> FM logit (first + second order) added to the deep MLP's pCTR logit; pCVR head."""

    params: DeepFMParams

    def __init__(self, layout: InputLayout, params: DeepFMParams) -> None:
        super().__init__()
        self.model_class = MODEL_CLASS
        self.layout, self.params = layout, params
        self.fields = FieldEmbeddings(layout, params.embedding_dim)
        self.categorical_weights = CategoricalEmbeddings(
            [*layout.user_categorical.values(), *layout.pair_categorical.values()], 1
        )
        # No bias: the click head's bias is the global term, and start_at_base_rates sets it.
        self.numeric_weights = nn.Linear(self.fields.n_numeric, 1, bias=False)
        self.heads = CtrHeads(self.fields.n_fields * params.embedding_dim, params.mlp_hidden, params.dropout)

    def forward(self, batch: Batch) -> CtrOutputs:
        categorical, numeric = FieldEmbeddings.field_values(batch.impressions)
        fields = self.fields(categorical, numeric)
        first_order = self.categorical_weights(categorical).sum(dim=(1, 2)) + self.numeric_weights(numeric).squeeze(-1)
        outputs: CtrOutputs = self.heads(fields.flatten(1), ctr_offset=first_order + fm_second_order(fields))
        return outputs
