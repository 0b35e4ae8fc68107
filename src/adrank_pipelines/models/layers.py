"""Layers shared by the CTR models: embeddings, MLPs, attention stacks and the two-task head."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F
from transformers import BertConfig, BertModel

from adrank_pipelines.models.batching import AdTensors, ImpressionTensors
from adrank_pipelines.models.layout import InputLayout
from adrank_pipelines.models.text_encoder import freeze_below_top_layers, mean_pool


@dataclass(frozen=True)
class CtrOutputs:
    """Logits of the click (all impressions) and of the conversion given a click."""

    ctr_logit: torch.Tensor  # (batch,)
    cvr_logit: torch.Tensor  # (batch,)
    # A network's own training term beyond the CTR losses: the batch's (batch, 2) labels -> a scalar loss.
    auxiliary_loss: Callable[[torch.Tensor], torch.Tensor] | None = None


class CategoricalEmbeddings(nn.Module):
    """One table per categorical field, stored as a single table with row offsets: one gather per batch.

    Gradients are sparse: a step touches only the rows of the batch (trained with SparseAdam). Dense
    Adam would keep moving every row of large id tables by momentum, which is slow and overfits.
    """

    offsets: torch.Tensor  # set by register_buffer in __init__, so it moves with the module

    def __init__(self, sizes: list[int], dim: int) -> None:
        super().__init__()
        offsets = torch.tensor([0, *sizes[:-1]], dtype=torch.long).cumsum(0) if sizes else torch.zeros(0)
        self.register_buffer("offsets", offsets.long(), persistent=False)
        self.table = nn.Embedding(max(sum(sizes), 1), dim, sparse=True)
        nn.init.normal_(self.table.weight, std=0.02)

    def forward(self, indices: torch.Tensor) -> torch.Tensor:
        """(batch, fields) -> (batch, fields, dim)."""
        embedded: torch.Tensor = self.table(indices + self.offsets)
        return embedded


class NumericFieldEmbeddings(nn.Module):
    """Each standardised numeric field as value * its own vector + its own bias (AutoInt style)."""

    def __init__(self, n_fields: int, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.randn(n_fields, dim) * 0.02)
        self.bias = nn.Parameter(torch.zeros(n_fields, dim))

    def forward(self, values: torch.Tensor) -> torch.Tensor:
        """(batch, fields) -> (batch, fields, dim)."""
        return values.unsqueeze(-1) * self.weight + self.bias


class FieldEmbeddings(nn.Module):
    """One vector per tabular field of an impression: the user and pair categoricals, then the numerics.

    What the tabular models (field attention, DeepFM, DCN-v2) share; the ad table, text and
    sequences are the transformer's own inputs.
    """

    def __init__(self, layout: InputLayout, dim: int) -> None:
        super().__init__()
        sizes = [*layout.user_categorical.values(), *layout.pair_categorical.values()]
        self.n_categorical, self.n_numeric = len(sizes), len(layout.user_numeric) + len(layout.pair_numeric)
        self.n_fields = self.n_categorical + self.n_numeric
        self.categorical = CategoricalEmbeddings(sizes, dim)
        self.numeric = NumericFieldEmbeddings(self.n_numeric, dim)

    @staticmethod
    def field_values(impressions: ImpressionTensors) -> tuple[torch.Tensor, torch.Tensor]:
        """(categorical indices, standardised numerics) of the impression fields, in embedding order."""
        categorical = torch.cat([impressions.user_categorical, impressions.pair_categorical], dim=1)
        numeric = torch.cat([impressions.user_numeric, impressions.pair_numeric], dim=1)
        return categorical, numeric

    def forward(self, categorical: torch.Tensor, numeric: torch.Tensor) -> torch.Tensor:
        """(batch, categorical fields) and (batch, numeric fields) -> (batch, fields, dim)."""
        embedded = self.categorical(categorical)
        return torch.cat([embedded, self.numeric(numeric).to(embedded.dtype)], dim=1)


def mlp(input_dim: int, hidden: list[int], dropout: float) -> nn.Sequential:
    """Linear -> GELU -> dropout blocks; the output width is ``hidden[-1]``."""
    layers: list[nn.Module] = []
    for width in hidden:
        layers += [nn.Linear(input_dim, width), nn.GELU(), nn.Dropout(dropout)]
        input_dim = width
    return nn.Sequential(*layers)


def transformer_stack(
    d_model: int, n_heads: int, n_layers: int, feedforward_dim: int, dropout: float
) -> nn.TransformerEncoder:
    """Pre-norm self-attention layers (pre-norm trains stably without warm-up)."""
    layer = nn.TransformerEncoderLayer(
        d_model, n_heads, feedforward_dim, dropout, activation="gelu", batch_first=True, norm_first=True
    )
    # Nested tensors would drop padded positions in eval only, making train and eval paths differ.
    return nn.TransformerEncoder(layer, n_layers, enable_nested_tensor=False)


class SequenceEncoder(nn.Module):
    """Self-attention over a behaviour sequence, with a learned "no history" token in front.

    The extra token is never padding, so every softmax has a real key: an empty history yields the
    token's state instead of NaN, and padded slots never influence any output.
    """

    def __init__(self, d_model: int, n_heads: int, n_layers: int, feedforward_dim: int, dropout: float) -> None:
        super().__init__()
        self.null_token = nn.Parameter(torch.randn(1, 1, d_model) * 0.02)
        self.encoder = transformer_stack(d_model, n_heads, n_layers, feedforward_dim, dropout)

    def forward(self, tokens: torch.Tensor, padding: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(requests, slots, d), (requests, slots) bool -> states and padding, both with the token first."""
        null = self.null_token.expand(tokens.shape[0], 1, -1).to(tokens.dtype)
        tokens = torch.cat([null, tokens], dim=1)
        padding = torch.cat([padding.new_zeros(len(padding), 1), padding], dim=1)
        # Without padding no mask is needed; PyTorch's inference path also rejects a mask over one slot.
        mask = padding if bool(padding.any()) else None
        return self.encoder(tokens, src_key_padding_mask=mask), padding


def masked_mean(states: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
    """Average over the non-padding positions: (n, slots, d), (n, slots) -> (n, d)."""
    weights = (~padding).unsqueeze(-1).to(states.dtype)
    return (states * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1.0)


class TargetAttention(nn.Module):
    """Each impression's target ad queries its request's encoded sequence (padding masked).

    Keys and values are projected once per request and never copied per impression: the queries
    are laid out as (request, k-th impression of the request), so one attention call serves all
    impressions of a request. Ranking scores hundreds of candidates per request; copying a
    request's keys and values to each of them made the copy the costliest step of the model.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float) -> None:
        super().__init__()
        self.n_heads, self.dropout = n_heads, dropout
        self.query = nn.Linear(d_model, d_model)
        self.key_value = nn.Linear(d_model, 2 * d_model)
        self.output = nn.Linear(d_model, d_model)

    def forward(
        self, target: torch.Tensor, states: torch.Tensor, padding: torch.Tensor, request_rows: torch.Tensor
    ) -> torch.Tensor:
        """(batch, d) targets, (requests, slots, d) states, (requests, slots) padding -> (batch, d)."""
        batch, d_model = target.shape
        n_requests, slots, head_dim = states.shape[0], states.shape[1], d_model // self.n_heads
        keys, values = self.key_value(states).chunk(2, dim=-1)

        def per_head(projected: torch.Tensor) -> torch.Tensor:
            return projected.reshape(n_requests, projected.shape[1], self.n_heads, head_dim).transpose(1, 2)

        # Rank of each impression among its request's impressions: its query row in the request's block.
        counts = torch.bincount(request_rows, minlength=n_requests)
        order = torch.argsort(request_rows, stable=True)
        first_of_request = torch.cumsum(counts, 0) - counts
        rank = torch.empty_like(order)
        rank[order] = torch.arange(batch, device=order.device) - first_of_request[request_rows[order]]
        width = int(counts.max()) if batch else 0
        queries = target.new_zeros(n_requests, width, d_model).index_put((request_rows, rank), self.query(target))
        attend = ~padding.view(n_requests, 1, 1, slots)
        attended = F.scaled_dot_product_attention(
            per_head(queries), per_head(keys), per_head(values), attn_mask=attend,
            dropout_p=self.dropout if self.training else 0.0,
        )  # fmt: skip
        output: torch.Tensor = self.output(
            attended.transpose(1, 2).reshape(n_requests, width, d_model)[request_rows, rank]
        )
        return output


class AdTextTower(nn.Module):
    """Pooled creative embedding of ad-table rows, projected to ``d_model``.

    Frozen: the pooled embeddings are precomputed in the ad table. Fine-tuned: the tower holds the
    BERT, runs it on each distinct ad's tokens and trains its top ``finetune_layers`` layers.
    """

    def __init__(self, text_width: int, d_model: int, bert_config: dict[str, Any] | None, finetune_layers: int) -> None:
        super().__init__()
        self.projection = nn.Linear(text_width, d_model)
        self.bert: BertModel | None = None
        if bert_config is not None:
            self.bert = BertModel(BertConfig.from_dict(bert_config), add_pooling_layer=False)
            freeze_below_top_layers(self.bert, finetune_layers)

    def forward(self, ads: AdTensors, rows: torch.Tensor) -> torch.Tensor:
        projected: torch.Tensor
        if self.bert is None:
            if ads.text_embedding is None:
                raise ValueError("the frozen text tower reads pooled text embeddings, but the ad table has none")
            projected = self.projection(ads.text_embedding[rows])
            return projected
        if ads.token_ids is None or ads.attention_mask is None:
            raise ValueError("the fine-tuned text tower reads token ids and attention masks, but the ad table has none")
        attention_mask = ads.attention_mask[rows]
        hidden = self.bert(input_ids=ads.token_ids[rows], attention_mask=attention_mask).last_hidden_state
        projected = self.projection(mean_pool(hidden, attention_mask))
        return projected


class CtrHeads(nn.Module):
    """A shared MLP with two logits on top: pCTR, and pCVR (trained on clicked impressions only)."""

    def __init__(self, input_dim: int, hidden: list[int], dropout: float) -> None:
        super().__init__()
        self.shared = mlp(input_dim, hidden, dropout)
        self.ctr = nn.Linear(hidden[-1], 1)
        self.cvr = nn.Linear(hidden[-1], 1)

    @torch.no_grad()
    def start_at_base_rates(self, click_rate: float, conversion_rate: float) -> None:
        """Biases at the logits of the base rates, so the first batches fit signal rather than the mean."""
        for layer, rate in ((self.ctr, click_rate), (self.cvr, conversion_rate)):
            rate = min(max(rate, 1e-4), 1 - 1e-4)
            layer.bias.fill_(math.log(rate / (1.0 - rate)))

    def forward(self, features: torch.Tensor, ctr_offset: torch.Tensor | float = 0.0) -> CtrOutputs:
        shared = self.shared(features)
        return CtrOutputs(ctr_logit=self.ctr(shared).squeeze(-1) + ctr_offset, cvr_logit=self.cvr(shared).squeeze(-1))
