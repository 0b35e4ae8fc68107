"""Retrieval vectors from a trained transformer CTR model: its ad tower and its user tower.

The model scores relevance as ``user_vector . ad_vector``; indexing the ad vectors and querying with a
request's user vector retrieves the ads the model itself finds most relevant. A request's query is
built from its behaviour sequence and its user / context features for one slot
(``features.candidates.query_features``); it never sees a target ad.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch

from adrank_pipelines.models.network import CtrNetwork
from adrank_pipelines.models.prepare import (
    batches_in_order,
    prepare_ads,
    prepare_impressions,
    prepare_requests,
)
from adrank_pipelines.models.zoo.transformer.network import TransformerCtrModel


def _two_tower(model: CtrNetwork) -> TransformerCtrModel:
    if not isinstance(model, TransformerCtrModel):
        raise ValueError(
            f"indexing needs the two-tower transformer CTR model, got {type(model).__name__}: "
            "train ctr_training with ad text and behaviour sequences"
        )
    return model.cpu().eval()


@torch.inference_mode()
def ad_tower_vectors(
    model: CtrNetwork, ad_features: pd.DataFrame, text_embeddings: pd.DataFrame | None, batch_size: int
) -> tuple[np.ndarray, np.ndarray]:
    """(ad ids, (n_ads, relevance_dim) float32 vectors) for every ad, in ``ad_features``' row order."""
    model = _two_tower(model)
    ads = prepare_ads(model, ad_features, text_embeddings)
    if ads is None:
        raise ValueError("the two-tower model built no ad inputs from ad_features: its ad tower cannot be run")
    ad_ids = ad_features["ad_id"].to_numpy(dtype=np.int64)
    rows = torch.from_numpy(ads.index.rows(ad_ids))
    vectors = [model.ad_vectors(ads.tensors, chunk) for chunk in torch.split(rows, batch_size)]
    return ad_ids, torch.cat(vectors).float().numpy()


@torch.inference_mode()
def user_tower_vectors(
    model: CtrNetwork,
    queries: pd.DataFrame,
    sequences: pd.DataFrame,
    ad_features: pd.DataFrame,
    text_embeddings: pd.DataFrame | None,
    batch_size: int,
) -> np.ndarray:
    """(len(queries), relevance_dim) float32: the user vector of each model-input row of ``queries``."""
    model = _two_tower(model)
    ads = prepare_ads(model, ad_features, text_embeddings)
    # Only the sequences of the queried requests are converted: cheaper than the whole table.
    requests = prepare_requests(model, sequences.loc[sequences["request_id"].isin(queries["request_id"])], ads)
    impressions = prepare_impressions(model, queries, ads, requests)
    order = torch.arange(len(queries))
    vectors = [
        model.user_vectors(batch) for _, batch in batches_in_order(impressions, order, batch_size, requests, ads)
    ]
    return torch.cat(vectors).float().numpy()
