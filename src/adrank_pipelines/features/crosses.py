"""Hashed feature crosses (e.g. country x category) for embedding tables of a fixed size.

The hash is defined here (splitmix64 for integers, BLAKE2b for everything else) rather than taken
from Python's ``hash()``, which is salted per process, or from pandas, whose hashing is not a
documented contract: a value pair must land in the same bucket in training, in serving and in a
notebook a year later. Bucket 0 stays free for padding, so buckets are ``1..n_buckets``.
"""

from __future__ import annotations

import functools
import hashlib

import numpy as np
import pandas as pd

_GOLDEN_GAMMA = np.uint64(0x9E3779B97F4A7C15)
_MIX_1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX_2 = np.uint64(0x94D049BB133111EB)
# Hash given to missing values; any fixed number works.
_MISSING_HASH = np.uint64(0)


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """The splitmix64 finaliser: a fast, well-mixed bijection on uint64 (wrap-around is intended)."""
    with np.errstate(over="ignore"):
        mixed = values + _GOLDEN_GAMMA
        mixed = (mixed ^ (mixed >> np.uint64(30))) * _MIX_1
        mixed = (mixed ^ (mixed >> np.uint64(27))) * _MIX_2
    return mixed ^ (mixed >> np.uint64(31))


# Crosses repeat the same few thousand values batch after batch (the request path hashes them per request).
@functools.lru_cache(maxsize=1 << 16)
def _hash_text(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest(), "little")


def _text_hashes(values: pd.Index | np.ndarray) -> np.ndarray:
    """The hash of each value, then the missing value's hash (so code -1 picks it)."""
    return np.array([_hash_text(str(value)) for value in values] + [_MISSING_HASH], dtype=np.uint64)


def stable_hash(column: pd.Series) -> np.ndarray:
    """A uint64 hash per value that depends on the value only (not on the process, order or data)."""
    if pd.api.types.is_integer_dtype(column.dtype):
        return _splitmix64(column.to_numpy(dtype=np.int64).view(np.uint64))
    if isinstance(column.dtype, pd.CategoricalDtype):
        return _text_hashes(column.cat.categories)[column.cat.codes.to_numpy()]
    # Hash each distinct value once: crosses repeat a few hundred values over a million rows.
    codes, uniques = pd.factorize(column)
    return _text_hashes(uniques)[codes]


def cross_column_name(left: str, right: str) -> str:
    return f"{left}_x_{right}_hash"


def cross_bucket(left_hash: np.ndarray, right_hash: np.ndarray, n_buckets: int) -> np.ndarray:
    """Bucket (int32 in ``1..n_buckets``) of each pair of :func:`stable_hash` values."""
    with np.errstate(over="ignore"):
        # Multiplying before adding makes the pair ordered: (a, b) and (b, a) land apart.
        combined = _splitmix64(left_hash * _MIX_1 + right_hash)
    return (combined % np.uint64(n_buckets) + np.uint64(1)).astype(np.int32)


def hashed_cross(left: pd.Series, right: pd.Series, n_buckets: int) -> np.ndarray:
    """Bucket (int32 in ``1..n_buckets``) of each (left, right) value pair."""
    return cross_bucket(stable_hash(left), stable_hash(right), n_buckets)
