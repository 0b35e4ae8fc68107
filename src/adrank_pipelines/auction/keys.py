"""Joins on integer ids by binary search: millions of candidate rows against a lookup table, without
a pandas merge's hash tables and copies."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt


def lookup(values: np.ndarray, keys: np.ndarray, what: str) -> np.ndarray:
    """Position of each key in ``values`` (unique, any order); raises naming ``what`` for absent keys."""
    values, keys = np.asarray(values), np.asarray(keys)
    if len(values) == 0:
        if len(keys):
            raise ValueError(f"{what}, e.g. {np.unique(keys)[:3].tolist()}")
        return np.zeros(0, dtype=np.int64)
    order = np.argsort(values, kind="stable")
    position = np.minimum(np.searchsorted(values[order], keys), len(values) - 1)
    found = values[order][position] == keys
    if not found.all():
        raise ValueError(f"{what}, e.g. {np.unique(keys[~found])[:3].tolist()}")
    return order[position]


def pair_key(request_id: npt.ArrayLike, ad_id: npt.ArrayLike) -> np.ndarray:
    """One int64 per (request, ad) pair (ad ids below 2**32)."""
    return np.asarray(request_id, dtype=np.int64) * 2**32 + np.asarray(ad_id, dtype=np.int64)
