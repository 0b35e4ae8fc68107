"""FAISS indexes over ad vectors: built from an index-factory string, ranking ads by inner product.

Every index wraps an ``faiss.IndexIDMap2`` so it answers with ad ids, and the id mapping travels
inside the index file (one ``faiss.write_index`` = one atomic save). Search-time parameters (nprobe,
efSearch, a refine stage's k_factor) are set on the index, so they are saved with it too. Cosine similarity is inner product
over L2-normalised vectors (:mod:`adrank_pipelines.retrieval.vectors`), done before indexing.

``mips_to_l2`` indexes use the classic reduction of maximum inner product search to L2 nearest
neighbours (Bachrach et al., 2014): each ad vector ``a`` gains a coordinate ``sqrt(M^2 - |a|^2)``
(M = the largest norm), a query gains 0, so ``|q - a'|^2 = |q|^2 + M^2 - 2 q.a`` ranks ads exactly as
``q.a`` does. The query's extra 0 is a stored ``LinearTransform``, so such an index is searched with
the same vectors as any other.

A spec with ``shards`` > 1 trains one index, copies it (trained, empty) per shard, fills each copy
with one contiguous slice of the ads and joins them in a ``faiss.IndexShards``, which searches each
in turn (with the configured FAISS threads) and merges their top k. Shards share the training (and
the L2 lift's M), so their distances compare: a sharded exact or IVF index answers as the unsharded
one. A refine stage re-ranks ``k_factor`` x k candidates in each shard, so N shards re-rank N times
as many as one index (more recall, more time). FAISS cannot serialise an ``IndexShards``;
:func:`index_shards` gives the parts, each an ordinary index that it can.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
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
    """Apply ``spec``'s nprobe / efSearch / k_factor; naming one the index type lacks is an error."""
    space = faiss.ParameterSpace()
    for field, name, value in (
        ("nprobe", "nprobe", spec.nprobe),
        ("ef_search", "efSearch", spec.ef_search),
        ("k_factor", "k_factor_rf", spec.k_factor),  # FAISS's name for an IndexRefine's k_factor
    ):
        if value is None:
            continue
        try:
            space.set_index_parameter(index, name, value)
        except RuntimeError as error:
            raise ValueError(
                f"index '{spec.factory}' has no search parameter {name} ({field} in its index spec)"
            ) from error


def _id_mapped(factory: str, dim: int, metric: int) -> faiss.IndexIDMap2:
    try:
        return faiss.IndexIDMap2(faiss.index_factory(dim, factory, metric))
    except RuntimeError as error:
        raise ValueError(f"'{factory}' is not a valid FAISS index-factory string: {error}") from error


def _train(index: faiss.Index, vectors: np.ndarray, train_size: int | None) -> None:
    if index.is_trained:
        return
    if train_size is not None and train_size < len(vectors):
        rows = np.sort(np.random.default_rng(0).choice(len(vectors), train_size, replace=False))
        vectors = vectors[rows]
    index.train(vectors)


def _filled_shards(template: faiss.Index, vectors: np.ndarray, ad_ids: np.ndarray, shards: int) -> list[faiss.Index]:
    """``shards`` copies of the trained, empty ``template``, each filled with one contiguous slice of the ads."""
    parts = [template] if shards == 1 else [faiss.clone_index(template) for _ in range(shards)]
    bounds = np.linspace(0, len(vectors), shards + 1).astype(np.int64)
    for part, start, stop in zip(parts, bounds[:-1], bounds[1:], strict=True):
        part.add_with_ids(vectors[start:stop], ad_ids[start:stop])
    return parts


def combine_shards(parts: Sequence[faiss.Index]) -> faiss.IndexShards:
    """One index over ``parts``: each searched in turn, top k merged, each part's own ad ids kept."""
    # Not threaded: a thread per shard on top of FAISS's OpenMP threads oversubscribes the cores, and a
    # server spreads concurrent requests over them anyway (docs/adr/0019-faiss-at-ten-million-ads.md).
    combined = faiss.IndexShards(parts[0].d)
    combined.successive_ids = False  # each part answers with its own ad ids
    for part in parts:
        combined.add_shard(part)  # the Python wrapper keeps a reference: the parts live as long as it
    return combined


def index_shards(index: faiss.Index) -> list[faiss.Index]:
    """The parts of a sharded index, or the index itself: each one FAISS can serialise."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexShards):
        count = index.count()  # type: ignore[attr-defined]  # stubs lack ThreadedIndex's count / at
        return [faiss.downcast_index(index.at(i)) for i in range(count)]  # type: ignore[attr-defined]
    return [index]


def _zero_padding(dim: int) -> faiss.LinearTransform:
    """x (dim) -> (x, 0) (dim + 1): the query side of the L2 reduction."""
    padding = faiss.LinearTransform(dim, dim + 1, True)
    projection = np.zeros((dim + 1, dim), dtype=np.float32)
    projection[:dim, :dim] = np.eye(dim, dtype=np.float32)
    faiss.copy_array_to_vector(projection.ravel(), padding.A)
    faiss.copy_array_to_vector(np.zeros(dim + 1, dtype=np.float32), padding.b)
    padding.is_trained = True
    return padding


def _lifted(vectors: np.ndarray) -> np.ndarray:
    """(a, sqrt(M^2 - |a|^2)) per ad, float32, written in place: no float64 copy of a large catalog."""
    squared_norms = np.einsum("ij,ij->i", vectors, vectors, dtype=np.float64)
    lifted = np.empty((len(vectors), vectors.shape[1] + 1), dtype=np.float32)
    lifted[:, :-1] = vectors
    # initial=0: an index over no ads is still an index (that finds nothing).
    lifted[:, -1] = np.sqrt(np.maximum(squared_norms.max(initial=0.0) - squared_norms, 0.0))
    return lifted


def _padded(inner: faiss.Index, dim: int) -> faiss.IndexPreTransform:
    # The ads were added lifted, past the padding; the wrapper only pads queries.
    reduced = faiss.IndexPreTransform(_zero_padding(dim), inner)
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
    searched = _lifted(vectors) if spec.mips_to_l2 else vectors
    metric = faiss.METRIC_L2 if spec.mips_to_l2 else faiss.METRIC_INNER_PRODUCT
    template = _id_mapped(spec.factory, searched.shape[1], metric)
    _train(template, searched, spec.train_size)
    parts = _filled_shards(template, searched, ad_ids, spec.shards)
    if spec.mips_to_l2:
        parts = [_padded(part, vectors.shape[1]) for part in parts]
    index = parts[0] if spec.shards == 1 else combine_shards(parts)
    build_seconds = time.perf_counter() - started
    set_search_parameters(index, spec)
    return BuiltIndex(index=index, build_seconds=build_seconds)


def _id_map(index: faiss.Index) -> faiss.IndexIDMap | None:
    """The ``IndexIDMap`` holding the ad ids (under an L2 reduction's padding), or None."""
    index = faiss.downcast_index(index)
    if isinstance(index, faiss.IndexPreTransform):
        index = faiss.downcast_index(index.index)
    return index if isinstance(index, faiss.IndexIDMap | faiss.IndexIDMap2) else None


def carries_ad_ids(index: faiss.Index) -> bool:
    """Whether the index (every shard of it) answers with ad ids held inside it."""
    return all(_id_map(part) is not None for part in index_shards(index))


def index_ad_ids(index: faiss.Index) -> np.ndarray:
    """The ad ids an index of :func:`build_index` holds, in insertion order (shard after shard)."""
    id_maps = [_id_map(part) for part in index_shards(index)]
    ids = [faiss.vector_to_array(mapped.id_map) for mapped in id_maps if mapped is not None]
    if len(ids) < len(id_maps):
        raise ValueError(f"{type(index).__name__} holds no ad-id mapping")
    return np.concatenate(ids).astype(np.int64)


def index_bytes(index: faiss.Index) -> int:
    """Size of the serialised index (all its shards), counted as FAISS writes it, with no copy held.

    Its memory footprint to within FAISS's bookkeeping, less the reverse id map an ``IndexIDMap2``
    rebuilds in memory on load.
    """
    written = [0]

    def count(chunk: bytes) -> None:
        written[0] += len(chunk)

    for part in index_shards(index):
        faiss.write_index(part, faiss.PyCallbackIOWriter(count))  # type: ignore[attr-defined]  # stubs lack it
    return written[0]


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
