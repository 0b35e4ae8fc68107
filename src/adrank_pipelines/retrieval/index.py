"""FAISS indexes over ad vectors: built from an index-factory string, ranking ads by inner product.

Every index wraps an ``faiss.IndexIDMap2`` so it answers with ad ids, and the id mapping travels
inside the index file (one ``faiss.write_index`` = one atomic save). Search-time parameters (nprobe,
efSearch) are set on the index, so they are saved with it too. Cosine similarity is inner product
over L2-normalised vectors (:mod:`adrank_pipelines.retrieval.vectors`), done before indexing.

``mips_to_l2`` indexes use the classic reduction of maximum inner product search to L2 nearest
neighbours (Bachrach et al., 2014): each ad vector ``a`` gains a coordinate ``sqrt(M^2 - |a|^2)``
(M = the largest norm), a query gains 0, so ``|q - a'|^2 = |q|^2 + M^2 - 2 q.a`` ranks ads exactly as
``q.a`` does. The query's extra 0 is a stored ``LinearTransform``, so such an index is searched with
the same vectors as any other.
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
            raise ValueError(
                f"index '{spec.factory}' has no search parameter {name} (set in its index spec)"
            ) from error


def _id_mapped(factory: str, dim: int, metric: int) -> faiss.IndexIDMap2:
    try:
        return faiss.IndexIDMap2(faiss.index_factory(dim, factory, metric))
    except RuntimeError as error:
        raise ValueError(f"'{factory}' is not a valid FAISS index-factory string: {error}") from error


def _fill(index: faiss.Index, vectors: np.ndarray, ad_ids: np.ndarray) -> None:
    if not index.is_trained:
        index.train(vectors)
    index.add_with_ids(vectors, ad_ids)


def _zero_padding(dim: int) -> faiss.LinearTransform:
    """x (dim) -> (x, 0) (dim + 1): the query side of the L2 reduction."""
    padding = faiss.LinearTransform(dim, dim + 1, True)
    projection = np.zeros((dim + 1, dim), dtype=np.float32)
    projection[:dim, :dim] = np.eye(dim, dtype=np.float32)
    faiss.copy_array_to_vector(projection.ravel(), padding.A)
    faiss.copy_array_to_vector(np.zeros(dim + 1, dtype=np.float32), padding.b)
    padding.is_trained = True
    return padding


def _l2_reduced(factory: str, vectors: np.ndarray, ad_ids: np.ndarray) -> faiss.Index:
    squared_norms = np.square(vectors, dtype=np.float64).sum(axis=1)
    # initial=0: an index over no ads is still an index (that finds nothing).
    lift = np.sqrt(np.maximum(squared_norms.max(initial=0.0) - squared_norms, 0.0))
    inner = _id_mapped(factory, vectors.shape[1] + 1, faiss.METRIC_L2)
    _fill(inner, np.hstack([vectors, lift[:, None]]).astype(np.float32), ad_ids)
    # The ads were added lifted, past the padding; the wrapper only pads queries.
    reduced = faiss.IndexPreTransform(_zero_padding(vectors.shape[1]), inner)
    reduced.ntotal = inner.ntotal
    return reduced


def build_index(spec: IndexSpec, vectors: np.ndarray, ad_ids: np.ndarray) -> BuiltIndex:
    """An index over ``vectors`` ranking by inner product and answering with ``ad_ids``; trained where needed."""
    if len(vectors) != len(ad_ids):
        raise ValueError(f"{len(vectors)} vectors but {len(ad_ids)} ad ids")
    if len(np.unique(ad_ids)) != len(ad_ids):
        raise ValueError("ad ids of the indexed vectors must be unique")
    vectors, ad_ids = np.ascontiguousarray(vectors, dtype=np.float32), np.asarray(ad_ids, dtype=np.int64)
    started = time.perf_counter()
    if spec.mips_to_l2:
        index = _l2_reduced(spec.factory, vectors, ad_ids)
    else:
        index = _id_mapped(spec.factory, vectors.shape[1], faiss.METRIC_INNER_PRODUCT)
        _fill(index, vectors, ad_ids)
    build_seconds = time.perf_counter() - started
    set_search_parameters(index, spec)
    return BuiltIndex(index=index, build_seconds=build_seconds)


def id_map(index: faiss.Index) -> faiss.IndexIDMap | None:
    """The ``IndexIDMap`` holding the ad ids (under an L2 reduction's padding), or None."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexPreTransform):
        index = faiss.downcast_index(index.index)
    return index if isinstance(index, faiss.IndexIDMap | faiss.IndexIDMap2) else None


def index_ad_ids(index: faiss.Index) -> np.ndarray:
    """The ad ids an index of :func:`build_index` holds, in insertion order."""
    mapped = id_map(index)
    if mapped is None:
        raise ValueError(f"{type(index).__name__} holds no ad-id mapping")
    return faiss.vector_to_array(mapped.id_map).astype(np.int64)


def index_bytes(index: faiss.Index) -> int:
    """Size of the serialised index: its memory footprint to within FAISS's small bookkeeping."""
    return int(faiss.serialize_index(index).nbytes)


def search(index: faiss.Index, queries: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """(index distances, ad ids), each (n_queries, min(k, ntotal)), best first; id -1 where fewer found.

    The distances are the index's own: inner products, L2 distances for ``mips_to_l2`` indexes,
    approximations for quantised codes.
    :func:`adrank_pipelines.retrieval.retrieve.inner_products` gives exact scores. With ``k`` 0 or an
    empty index both are (n_queries, 0).
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    depth = min(k, index.ntotal)
    if depth <= 0:
        # FAISS asserts on a search for no neighbours.
        return np.zeros((len(queries), 0), dtype=np.float32), np.zeros((len(queries), 0), dtype=np.int64)
    return index.search(queries, depth)
