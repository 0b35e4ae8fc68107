"""FAISS indexes over ad vectors: built from an index-factory string, searched by inner product.

Every index is wrapped in ``faiss.IndexIDMap2`` so it answers with ad ids, and the id mapping travels
inside the index file (one ``faiss.write_index`` = one atomic save). Search-time parameters (nprobe,
efSearch) are set on the index, so they are saved with it too. Cosine similarity is inner product
over L2-normalised vectors (:func:`adrank_pipelines.retrieval.vectors.normalised`), done before the
vectors reach the index.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import faiss
import numpy as np

from adrank_pipelines.retrieval.config import IndexSpec

EXACT = IndexSpec(factory="Flat")


@dataclass(frozen=True)
class BuiltIndex:
    index: faiss.Index
    build_seconds: float  # training (where the index needs it) + adding the vectors


def use_threads(num_threads: int) -> None:
    faiss.omp_set_num_threads(num_threads)


def set_search_parameters(index: faiss.Index, spec: IndexSpec) -> None:
    """Apply ``spec``'s nprobe / efSearch; naming one the index type lacks is an error."""
    space = faiss.ParameterSpace()
    for name, value in (("nprobe", spec.nprobe), ("efSearch", spec.ef_search)):
        if value is None:
            continue
        try:
            space.set_index_parameter(index, name, value)
        except RuntimeError as error:
            raise ValueError(f"index '{spec.factory}' has no search parameter {name} (set in its index spec)") from error


def build_index(spec: IndexSpec, vectors: np.ndarray, ad_ids: np.ndarray) -> BuiltIndex:
    """An inner-product index over ``vectors`` answering with ``ad_ids``; trained on them where needed."""
    if len(vectors) != len(ad_ids):
        raise ValueError(f"{len(vectors)} vectors but {len(ad_ids)} ad ids")
    if len(np.unique(ad_ids)) != len(ad_ids):
        raise ValueError("ad ids of the indexed vectors must be unique")
    try:
        inner = faiss.index_factory(vectors.shape[1], spec.factory, faiss.METRIC_INNER_PRODUCT)
    except RuntimeError as error:
        raise ValueError(f"'{spec.factory}' is not a valid FAISS index-factory string: {error}") from error
    index = faiss.IndexIDMap2(inner)
    set_search_parameters(index, spec)
    started = time.perf_counter()
    if not index.is_trained:
        index.train(vectors)
    index.add_with_ids(vectors, np.asarray(ad_ids, dtype=np.int64))
    return BuiltIndex(index=index, build_seconds=time.perf_counter() - started)


def index_ad_ids(index: faiss.Index) -> np.ndarray:
    """The ad ids an ``IndexIDMap`` holds, in insertion order."""
    return faiss.vector_to_array(faiss.downcast_index(index).id_map).astype(np.int64)


def index_bytes(index: faiss.Index) -> int:
    """Size of the serialised index: its memory footprint to within FAISS's small bookkeeping."""
    return int(faiss.serialize_index(index).nbytes)


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(scores, ad ids), each (n_queries, k), best first; id -1 where the index found fewer than k."""
    scores, ids = index.search(np.ascontiguousarray(queries, dtype=np.float32), min(k, index.ntotal))
    return scores, ids
