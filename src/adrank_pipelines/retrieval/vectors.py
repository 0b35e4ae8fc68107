"""Vector tables: an id column plus ``v_00 .. v_NN`` float32 columns, and the matrices FAISS reads."""

from __future__ import annotations

import numpy as np
import pandas as pd

from adrank_pipelines.retrieval.config import Metric

VECTOR_PREFIX = "v_"


def vector_columns(frame: pd.DataFrame) -> list[str]:
    return [name for name in frame.columns if name.startswith(VECTOR_PREFIX)]


def vector_frame(id_column: str, ids: np.ndarray, vectors: np.ndarray) -> pd.DataFrame:
    """``id_column`` (int64) and one float32 column per dimension."""
    width = max(2, len(str(vectors.shape[1] - 1)))
    columns = {f"{VECTOR_PREFIX}{d:0{width}d}": vectors[:, d].astype(np.float32) for d in range(vectors.shape[1])}
    return pd.DataFrame({id_column: np.asarray(ids, dtype=np.int64), **columns})


def vector_matrix(frame: pd.DataFrame, name: str) -> np.ndarray:
    """The C-contiguous float32 (n, d) matrix FAISS needs; ``name`` (the dataset) names a bad table."""
    columns = vector_columns(frame)
    if not columns:
        raise ValueError(f"dataset '{name}' has no vector columns (expected '{VECTOR_PREFIX}00', ...)")
    matrix = np.ascontiguousarray(frame[columns].to_numpy(dtype=np.float32))
    if not np.isfinite(matrix).all():
        raise ValueError(f"dataset '{name}' holds non-finite vector values")
    return matrix


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms > 0, norms, 1.0)


def indexed_ad_vectors(vectors: np.ndarray, log_bids: np.ndarray, metric: Metric, bid_weight: float) -> np.ndarray:
    """The ad side of the retrieval score ``similarity(user, ad) + bid_weight * log(bid)``.

    inner_product: the CTR model's own relevance logit, ``user . ad / sqrt(d)``; cosine: unit vectors.
    A positive ``bid_weight`` appends ``bid_weight * log(bid)``, met by a constant 1 on the query side.
    """
    scaled = vectors / np.sqrt(vectors.shape[1]) if metric == "inner_product" else _normalised(vectors)
    if bid_weight > 0:
        scaled = np.hstack([scaled, bid_weight * np.asarray(log_bids, dtype=np.float64)[:, None]])
    return scaled.astype(np.float32)


def indexed_query_vectors(vectors: np.ndarray, metric: Metric, bid_weight: float) -> np.ndarray:
    """The query side matching :func:`indexed_ad_vectors`."""
    scaled = vectors if metric == "inner_product" else _normalised(vectors)
    if bid_weight > 0:
        scaled = np.hstack([scaled, np.ones((len(scaled), 1))])
    return scaled.astype(np.float32)
