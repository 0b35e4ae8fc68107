"""The transformer CTR model: text + id ad tower, behaviour-sequence user tower, target attention, pCTR/pCVR.

Every ad, whether the impression's target or an event of the user's history, goes through the same ad
representation (creative text + ad / advertiser / category embeddings + bid), so what the model learns
about an ad's wording carries over to ads it has never seen. The user and ad towers also emit vectors
whose dot product is added to the click logit; trained with the CTR loss and, beside it, an in-batch
sampled softmax over positive impressions (``retrieval_objective``), they score relevance for retrieval
(FAISS) on their own.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import torch
from torch import nn

from adrank_pipelines.models.batching import AdTensors, Batch, RequestTensors
from adrank_pipelines.models.config import CtrTransformerParams
from adrank_pipelines.models.layers import (
    AdTextTower,
    CategoricalEmbeddings,
    CtrHeads,
    CtrOutputs,
    SequenceEncoder,
    TargetAttention,
    masked_mean,
    mlp,
)
from adrank_pipelines.models.layout import InputLayout
from adrank_pipelines.models.network import CtrNetwork
from adrank_pipelines.models.zoo.transformer.retrieval_objective import RetrievalObjective

MODEL_CLASS = "transformer"
AD_ID_COLUMN = "ad_id_idx"
N_AGE_BUCKETS = 16  # log2 buckets of an event's age in hours: up to ~2^15 hours


def _batch_requests(batch: Batch) -> RequestTensors:
    if batch.requests is None:
        raise ValueError("the transformer CTR model needs the behaviour sequences of the batch's requests")
    return batch.requests


def _batch_ads(batch: Batch) -> AdTensors:
    if batch.ads is None:
        raise ValueError("the transformer CTR model needs the ad table in every batch")
    return batch.ads


class TransformerCtrModel(CtrNetwork):
    """Ad tower, user tower over the behaviour sequence, target attention and two heads."""

    params: CtrTransformerParams

    def __init__(
        self,
        layout: InputLayout,
        params: CtrTransformerParams,
        bert_config: dict[str, Any] | None = None,
        tokenizer_vocabulary: list[str] | None = None,
    ) -> None:
        """``bert_config``: the architecture of a BERT fine-tuned inside the model (None = frozen text).

        ``tokenizer_vocabulary``: the random BERT's corpus vocabulary (None = the pretrained tokenizer).
        """
        super().__init__()
        if not layout.has_towers or layout.sequences is None:
            raise ValueError("the transformer CTR model needs ad text and behaviour sequences; use field attention")
        self.model_class = MODEL_CLASS
        self.layout, self.params = layout, params
        self.bert_config, self.tokenizer_vocabulary = bert_config, tokenizer_vocabulary
        sequences, d_model = layout.sequences, params.d_model
        # The column id dropout hides; without an ad id column (excluded) there is nothing to hide.
        ad_columns = list(layout.ad_categorical)
        self.ad_id_column = ad_columns.index(AD_ID_COLUMN) if AD_ID_COLUMN in ad_columns else None

        self.text_tower = AdTextTower(layout.text_width, d_model, bert_config, params.text_encoder.finetune_layers)
        self.ad_embeddings = CategoricalEmbeddings(list(layout.ad_categorical.values()), d_model)
        self.ad_numeric = nn.Linear(max(len(layout.ad_numeric), 1), d_model)
        self.ad_norm = nn.LayerNorm(d_model)

        n_segments = len(sequences.segment_ad_columns)
        self.segment_embedding = nn.Embedding(n_segments, d_model)
        self.slot_embedding = nn.Embedding(n_segments * sequences.length, d_model)
        self.click_embedding = nn.Embedding(2, d_model)
        self.age_embedding = nn.Embedding(N_AGE_BUCKETS, d_model)
        self.history_category_embedding = nn.Embedding(sequences.category_size, d_model)
        # Organic views: their category, recency and slot; one more segment id marks them apart from ads.
        self.browse_segment = nn.Parameter(torch.zeros(d_model))
        self.browse_slot_embedding = nn.Embedding(max(len(sequences.browse_category_columns), 1), d_model)
        self.sequence_encoder = SequenceEncoder(
            d_model, params.n_heads, params.n_layers, params.feedforward_dim, params.attention_dropout
        )

        self.user_fields = CategoricalEmbeddings(list(layout.user_categorical.values()), params.field_dim)
        user_input = d_model + len(layout.user_categorical) * params.field_dim + len(layout.user_numeric)
        self.user_tower = nn.Sequential(mlp(user_input, [2 * d_model], params.dropout), nn.Linear(2 * d_model, d_model))
        self.user_vector = nn.Linear(d_model, params.relevance_dim)
        self.ad_vector = nn.Linear(d_model, params.relevance_dim)
        # Shallow paths into the relevance vectors: user / context fields on one side, the creative's
        # wording on the other. Their dot product is a factorisation machine of field x text, which
        # learns "this audience likes this kind of creative" far sooner than the deep path does.
        self.user_field_vectors = CategoricalEmbeddings(list(layout.user_categorical.values()), params.relevance_dim)
        self.ad_text_vector = nn.Sequential(nn.GELU(), nn.Linear(d_model, params.relevance_dim))
        self.retrieval_objective = RetrievalObjective(params.retrieval_objective, params.relevance_dim)

        self.target_attention = TargetAttention(d_model, params.n_heads, params.attention_dropout)
        self.pair_fields = CategoricalEmbeddings(list(layout.pair_categorical.values()), params.field_dim)
        head_input = 4 * d_model + len(layout.pair_categorical) * params.field_dim + len(layout.pair_numeric)
        self.heads = CtrHeads(head_input, params.mlp_hidden, params.dropout)

    def constructor_config(self) -> dict[str, Any]:
        return {
            **super().constructor_config(),
            "bert_config": self.bert_config,
            "tokenizer_vocabulary": self.tokenizer_vocabulary,
        }

    # -- ad tower --------------------------------------------------------------------------------
    def ad_representations(self, ads: AdTensors, rows: torch.Tensor) -> torch.Tensor:
        """(n,) ad-table rows -> (n, d_model): text + ids + bid, the one representation of an ad."""
        return self._ad_states(ads, rows)[0]

    def _ad_states(self, ads: AdTensors, rows: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The ad representation and, apart, the projected text it was built from."""
        categorical = ads.categorical[rows]
        if self.training and self.params.id_dropout > 0 and self.ad_id_column is not None:
            # Hide some ad ids so the text, advertiser and category learn to stand in for them (cold start).
            hidden = torch.rand(len(rows), device=rows.device) < self.params.id_dropout
            categorical = categorical.clone()
            categorical[hidden, self.ad_id_column] = self.params.out_of_vocabulary_index
        numeric = ads.numeric[rows] if self.layout.ad_numeric else ads.numeric.new_zeros(len(rows), 1)
        text = self.text_tower(ads, rows)
        represented = text + self.ad_embeddings(categorical).sum(dim=1) + self.ad_numeric(numeric)
        return self.ad_norm(represented), text

    def _ad_relevance_vectors(self, representation: torch.Tensor, text: torch.Tensor) -> torch.Tensor:
        vectors: torch.Tensor = self.ad_vector(representation) + self.ad_text_vector(text)
        return vectors

    def ad_vectors(self, ads: AdTensors, rows: torch.Tensor | None = None) -> torch.Tensor:
        """Retrieval vectors of ad-table ``rows`` (all rows, the unknown-ad row 0 included, by default)."""
        rows = torch.arange(len(ads.categorical), device=ads.categorical.device) if rows is None else rows
        return self._ad_relevance_vectors(*self._ad_states(ads, rows))

    # -- user tower ------------------------------------------------------------------------------
    def _history_tokens(self, requests: RequestTensors, ad_states: torch.Tensor) -> torch.Tensor:
        """Ad representation of each event plus its segment, slot, click, recency and category."""
        n_slots = requests.ad_rows.shape[1]
        slots = torch.arange(n_slots, device=ad_states.device)
        length = requests.click.shape[1]
        tokens = ad_states + self.slot_embedding(slots) + self.segment_embedding(slots // length)
        age_bucket = torch.log2(1.0 + requests.age_hours.clamp(min=0.0)).long().clamp(max=N_AGE_BUCKETS - 1)
        first_segment = (
            self.click_embedding(requests.click.clamp(0, 1))
            + self.age_embedding(age_bucket)
            + self.history_category_embedding(requests.category)
        )
        extras = torch.zeros_like(tokens)
        extras[:, :length] = first_segment.to(extras.dtype)
        history: torch.Tensor = tokens + extras
        return history

    def _browse_tokens(self, requests: RequestTensors) -> torch.Tensor:
        if requests.browse_category is None or requests.browse_age_hours is None:
            raise ValueError("organic-view tokens need the requests' browse_category and browse_age_hours tensors")
        slots = torch.arange(requests.browse_category.shape[1], device=requests.browse_category.device)
        age_bucket = torch.log2(1.0 + requests.browse_age_hours.clamp(min=0.0)).long().clamp(max=N_AGE_BUCKETS - 1)
        views: torch.Tensor = (
            self.history_category_embedding(requests.browse_category)
            + self.age_embedding(age_bucket)
            + self.browse_slot_embedding(slots)
            + self.browse_segment
        )
        return views

    def _encode_requests(self, batch: Batch, ad_states: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Self-attended ad events, then the organic views as they are.

        The views join the keys of the target attention and the user summary but skip self-attention:
        they are category-only tokens, and attending over all of them would more than double its cost.
        """
        requests = _batch_requests(batch)
        tokens, padding = self._history_tokens(requests, ad_states), requests.padding
        # Slots that are padding in every request of the batch change nothing: skip their compute.
        used = ~padding.all(dim=0)
        states, padding = self.sequence_encoder(tokens[:, used], padding[:, used])
        if requests.browse_category is None:
            return states, padding
        if requests.browse_padding is None:
            raise ValueError("the requests' organic views come without their browse_padding mask")
        views = self._browse_tokens(requests).to(states.dtype)
        return torch.cat([states, views], dim=1), torch.cat([padding, requests.browse_padding], dim=1)

    def _user_hidden(self, batch: Batch, sequence_summary: torch.Tensor) -> torch.Tensor:
        impressions = batch.impressions
        fields = self.user_fields(impressions.user_categorical).flatten(1)
        user_input = torch.cat([sequence_summary, fields.to(sequence_summary.dtype), impressions.user_numeric], dim=1)
        hidden: torch.Tensor = self.user_tower(user_input)
        return hidden

    def _user_relevance_vectors(self, batch: Batch, user_hidden: torch.Tensor) -> torch.Tensor:
        fields = self.user_field_vectors(batch.impressions.user_categorical).sum(dim=1)
        vectors: torch.Tensor = self.user_vector(user_hidden) + fields.to(user_hidden.dtype)
        return vectors

    def user_vectors(self, batch: Batch) -> torch.Tensor:
        """Retrieval vectors of the batch's impressions (user, context and history; no target ad)."""
        history_rows = _batch_requests(batch).ad_rows
        unique_rows, inverse = torch.unique(history_rows.flatten(), return_inverse=True)
        ad_states = self.ad_representations(_batch_ads(batch), unique_rows)[inverse].view(*history_rows.shape, -1)
        states, padding = self._encode_requests(batch, ad_states)
        summary = masked_mean(states, padding)[batch.impressions.request_rows]
        return self._user_relevance_vectors(batch, self._user_hidden(batch, summary))

    # -- both towers and the heads ---------------------------------------------------------------
    def forward(self, batch: Batch) -> CtrOutputs:
        impressions, history_rows = batch.impressions, _batch_requests(batch).ad_rows
        # Each distinct ad of the batch (targets and history events) is represented once.
        unique_rows, inverse = torch.unique(
            torch.cat([impressions.ad_rows, history_rows.flatten()]), return_inverse=True
        )
        ad_states, ad_text = self._ad_states(_batch_ads(batch), unique_rows)
        ad_states = ad_states[inverse]
        target, target_text = ad_states[: len(impressions)], ad_text[inverse[: len(impressions)]]
        states, padding = self._encode_requests(batch, ad_states[len(impressions) :].view(*history_rows.shape, -1))

        request_rows = impressions.request_rows
        user_hidden = self._user_hidden(batch, masked_mean(states, padding)[request_rows])
        attended = self.target_attention(target, states, padding, request_rows)
        user_vector = self._user_relevance_vectors(batch, user_hidden)
        ad_vector = self._ad_relevance_vectors(target, target_text)
        relevance = (user_vector * ad_vector).sum(-1) / math.sqrt(self.params.relevance_dim)

        pair_fields = self.pair_fields(impressions.pair_categorical).flatten(1).to(target.dtype)
        head_input = torch.cat(
            [attended, user_hidden, target, attended * target, pair_fields, impressions.pair_numeric.to(target.dtype)],
            dim=1,
        )
        outputs: CtrOutputs = self.heads(head_input, ctr_offset=relevance)
        if self.training and self.retrieval_objective.active:
            n_ad_rows = len(_batch_ads(batch).categorical)
            retrieval_loss = self.retrieval_objective.loss(user_vector, ad_vector, impressions.ad_rows, n_ad_rows)
            return replace(outputs, auxiliary_loss=retrieval_loss)
        return outputs
