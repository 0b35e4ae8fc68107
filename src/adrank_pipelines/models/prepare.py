"""Catalog frames -> the tensors a built model reads (ad table, sequences, impressions)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from adrank_pipelines.models.batching import (
    AdIndex,
    AdTensors,
    Batch,
    ImpressionTensors,
    RequestTensors,
    ad_tensors,
    impression_tensors,
    make_batch,
    request_tensors,
)
from adrank_pipelines.models.network import CtrNetwork
from adrank_pipelines.models.text_encoder import (
    TEXT_EMBEDDING_PREFIX,
    ad_texts,
    pretrained_tokenizer,
    tokenize,
    vocabulary_tokenizer,
)
from adrank_pipelines.models.zoo.transformer.network import TransformerCtrModel


@dataclass(frozen=True)
class AdInputs:
    tensors: AdTensors
    index: AdIndex

    def to(self, device: torch.device) -> AdInputs:
        return AdInputs(tensors=self.tensors.to(device), index=self.index)


@dataclass(frozen=True)
class RequestInputs:
    tensors: RequestTensors
    request_ids: np.ndarray  # request id of each tensor row

    def to(self, device: torch.device) -> RequestInputs:
        return RequestInputs(tensors=self.tensors.to(device), request_ids=self.request_ids)


def text_embedding_matrix(ad_features: pd.DataFrame, text_embeddings: pd.DataFrame) -> np.ndarray:
    """The cached embeddings (``ad_id`` + ``text_emb_*``) in ``ad_features``' row order; missing ads get zeros."""
    columns = [name for name in text_embeddings.columns if name.startswith(TEXT_EMBEDDING_PREFIX)]
    aligned = ad_features[["ad_id"]].merge(text_embeddings[["ad_id", *columns]], on="ad_id", how="left")
    return aligned[columns].fillna(0.0).to_numpy(dtype=np.float32)


def text_width(text_embeddings: pd.DataFrame | None) -> int:
    if text_embeddings is None:
        return 0
    return sum(name.startswith(TEXT_EMBEDDING_PREFIX) for name in text_embeddings.columns)


# The last prepared ad tables, each with the objects it was prepared from. Ranking and the online
# service prepare the same ad table for every batch they score (18 ms for 200k ads per call);
# identity (not equality) of the model and tables decides a hit, and the entries keep those
# objects alive, so an id is never reused while cached. The tensors depend on the model's input
# layout and text settings, never on its weights.
_PREPARED: list[tuple[CtrNetwork, pd.DataFrame, pd.DataFrame | None, AdInputs]] = []
_PREPARED_KEPT = 2


def prepare_ads(
    model: CtrNetwork, ad_features: pd.DataFrame | None, text_embeddings: pd.DataFrame | None
) -> AdInputs | None:
    """The ad table of a transformer model: cached text embeddings, or tokens when it fine-tunes BERT."""
    if not isinstance(model, TransformerCtrModel) or ad_features is None:
        return None
    for cached_model, cached_ads, cached_text, prepared in _PREPARED:
        if cached_model is model and cached_ads is ad_features and cached_text is text_embeddings:
            return prepared
    prepared = _prepare_ads(model, ad_features, text_embeddings)
    _PREPARED.insert(0, (model, ad_features, text_embeddings, prepared))
    del _PREPARED[_PREPARED_KEPT:]
    return prepared


def _prepare_ads(
    model: TransformerCtrModel, ad_features: pd.DataFrame, text_embeddings: pd.DataFrame | None
) -> AdInputs:
    params = model.params.text_encoder
    if model.text_tower.bert is not None:
        vocabulary = model.tokenizer_vocabulary
        tokenizer = vocabulary_tokenizer(vocabulary) if vocabulary is not None else pretrained_tokenizer()
        tokens = tokenize(tokenizer, ad_texts(ad_features), params.max_length)
        tensors, index = ad_tensors(ad_features, model.layout, model.params.out_of_vocabulary_index, tokens=tokens)
    else:
        if text_embeddings is None:
            raise ValueError("this model reads cached text embeddings: pass the ad_text_embeddings table")
        embeddings = text_embedding_matrix(ad_features, text_embeddings)
        tensors, index = ad_tensors(
            ad_features, model.layout, model.params.out_of_vocabulary_index, text_embeddings=embeddings
        )
    return AdInputs(tensors=tensors, index=index)


def prepare_requests(model: CtrNetwork, sequences: pd.DataFrame | None, ads: AdInputs | None) -> RequestInputs | None:
    if ads is None or sequences is None or model.layout.sequences is None:
        return None
    return RequestInputs(
        tensors=request_tensors(sequences, model.layout.sequences, ads.index),
        request_ids=sequences["request_id"].to_numpy(),
    )


def prepare_impressions(
    model: CtrNetwork, frame: pd.DataFrame, ads: AdInputs | None, requests: RequestInputs | None
) -> ImpressionTensors:
    return impression_tensors(
        frame,
        model.layout,
        None if ads is None else ads.index,
        None if requests is None else requests.request_ids,
    )


def batches_in_order(
    impressions: ImpressionTensors,
    order: torch.Tensor,
    batch_size: int,
    requests: RequestInputs | None,
    ads: AdInputs | None,
) -> Iterator[tuple[torch.Tensor, Batch]]:
    """(rows, batch) pairs covering ``order`` in slices of ``batch_size``, built lazily."""
    for _, rows, batch in rank_batches(impressions, order, batch_size, requests, ads, rank=0, world_size=1):
        yield rows, batch


def rank_batches(
    impressions: ImpressionTensors,
    order: torch.Tensor,
    batch_size: int,
    requests: RequestInputs | None,
    ads: AdInputs | None,
    rank: int,
    world_size: int,
) -> Iterator[tuple[torch.Tensor, torch.Tensor, Batch]]:
    """(slice rows, this rank's rows, its batch) for each slice of ``batch_size`` rows of ``order``, lazily.

    Each slice is cut into ``world_size`` near-equal parts and ``rank`` gets one: every process steps once per
    slice. A last slice too short to give every process a row is left out, in every process alike.
    """
    sequence_table = None if requests is None else requests.tensors
    ad_table = None if ads is None else ads.tensors
    for rows in torch.split(order, batch_size):
        if len(rows) < world_size:
            continue
        part = rows.tensor_split(world_size)[rank]
        yield rows, part, make_batch(impressions, part, sequence_table, ad_table)
