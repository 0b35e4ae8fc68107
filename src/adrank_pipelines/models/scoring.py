"""Score impressions with a trained CTR model: a whole frame, or N candidate ads of one request."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
import torch

from adrank_pipelines.models.batching import make_batch
from adrank_pipelines.models.layers import CtrOutputs
from adrank_pipelines.models.network import CtrNetwork
from adrank_pipelines.models.prepare import AdInputs, prepare_ads, prepare_impressions, prepare_requests
from adrank_pipelines.models.training import SplitTensors, predict_tensors

PREDICTION_BATCH_SIZE = 8192


def predict_ctr(
    model: CtrNetwork,
    frame: pd.DataFrame,
    sequences: pd.DataFrame | None = None,
    ad_features: pd.DataFrame | None = None,
    text_embeddings: pd.DataFrame | None = None,
    batch_size: int = PREDICTION_BATCH_SIZE,
) -> pd.DataFrame:
    """``impression_id``, ``pctr``, ``pcvr`` (pCVR = P(conversion | click)) for every row of ``frame``.

    ``frame`` is a model-input table; labels in it are ignored. The transformer model also needs the
    behaviour sequences and the ad table (with the cached text embeddings when its text is frozen).
    """
    model = model.cpu()
    ads = prepare_ads(model, ad_features, text_embeddings)
    # Only the sequences of the frame's requests are converted: cheaper than the whole table.
    if sequences is not None:
        sequences = sequences.loc[sequences["request_id"].isin(frame["request_id"])]
    requests = prepare_requests(model, sequences, ads)
    split = SplitTensors(
        impressions=prepare_impressions(model, frame, ads, requests), labels=torch.empty(0), requests=requests, ads=ads
    )
    predictions = predict_tensors(model, split, batch_size, torch.device("cpu"), bf16=False)
    return pd.DataFrame(
        {"impression_id": frame["impression_id"].to_numpy(), "pctr": predictions[:, 0], "pcvr": predictions[:, 1]}
    )


@torch.inference_mode()
def score_candidates(
    model: CtrNetwork, candidates: pd.DataFrame, request_sequence: pd.DataFrame | None, ads: AdInputs | None
) -> np.ndarray:
    """pCTR of each candidate row (all of one request): the request's sequence is encoded once, the ads in one batch.

    ``candidates`` holds the model-input features of (request, candidate ad) pairs; ``request_sequence``
    is the request's one row of the behaviour sequences; ``ads`` is :func:`prepare_ads`' output, built
    once per ad table and reused across requests.
    """
    model.eval()
    requests = prepare_requests(model, request_sequence, ads)
    impressions = prepare_impressions(model, candidates, ads, requests)
    batch = make_batch(
        impressions,
        torch.arange(len(candidates)),
        None if requests is None else requests.tensors,
        None if ads is None else ads.tensors,
    )
    outputs: CtrOutputs = model(batch)
    return outputs.ctr_logit.sigmoid().double().numpy()


def candidate_latency_ms(
    model: CtrNetwork,
    candidates: pd.DataFrame,
    request_sequence: pd.DataFrame | None,
    ads: AdInputs | None,
    repeats: int = 200,
) -> dict[str, float]:
    """Median and p99 wall time (ms) of :func:`score_candidates` on one request, after a warm-up call."""
    score_candidates(model, candidates, request_sequence, ads)
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        score_candidates(model, candidates, request_sequence, ads)
        timings.append((time.perf_counter() - started) * 1000.0)
    return {"median_ms": float(np.median(timings)), "p99_ms": float(np.percentile(timings, 99))}
