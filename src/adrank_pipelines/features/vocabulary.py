"""Categorical vocabularies: value -> small integer index for embedding tables.

Index 0 is padding (sequences, missing slots), 1 is out-of-vocabulary (values unseen in the train
split or seen fewer than ``min_count`` times), and 2.. are the known values ordered by count
descending then by value, so refitting on the same data always gives the same indices.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

PADDING_INDEX = 0
OOV_INDEX = 1
FIRST_KNOWN_INDEX = 2


@dataclass(frozen=True)
class Vocabulary:
    """The known values of one column, in index order starting at ``FIRST_KNOWN_INDEX``."""

    values: tuple[Any, ...]

    @property
    def size(self) -> int:
        """Rows the embedding table needs: padding + OOV + known values."""
        return len(self.values) + FIRST_KNOWN_INDEX

    @functools.cached_property
    def _index(self) -> pd.Index:
        # Built once per vocabulary: hashing 200k ad ids costs more than encoding a request's candidates.
        index: pd.Index = pd.Index(self.values)
        return index

    def encode(self, column: pd.Series) -> np.ndarray:
        """Indices (int32) of ``column``'s values; unknown and missing values map to ``OOV_INDEX``."""
        positions = self._index.get_indexer(pd.Index(column))
        return np.where(positions >= 0, positions + FIRST_KNOWN_INDEX, OOV_INDEX).astype(np.int32)


def fit_vocabulary(column: pd.Series, min_count: int) -> Vocabulary:
    """Keep the values seen at least ``min_count`` times, most frequent first, ties by value."""
    counts = column.dropna().value_counts()
    frequent = counts[counts >= min_count]
    ordered = pd.DataFrame({"value": frequent.index, "count": frequent.to_numpy()}).sort_values(
        ["count", "value"], ascending=[False, True], kind="stable"
    )
    # tolist() turns numpy scalars into Python ones so the vocabulary serialises to JSON as is.
    return Vocabulary(values=tuple(ordered["value"].tolist()))


def fit_vocabularies(frame: pd.DataFrame, columns: Sequence[str], min_count: int) -> dict[str, Vocabulary]:
    """One vocabulary per column of ``frame`` (pass the train rows only)."""
    return {name: fit_vocabulary(frame[name], min_count) for name in columns}


def vocabularies_to_json(vocabularies: Mapping[str, Vocabulary]) -> dict[str, dict[str, Any]]:
    """A JSON-ready description: per column its embedding size and its known values in index order."""
    return {
        name: {
            "size": vocabulary.size,
            "padding_index": PADDING_INDEX,
            "oov_index": OOV_INDEX,
            "values": list(vocabulary.values),
        }
        for name, vocabulary in vocabularies.items()
    }


def vocabularies_from_json(payload: Mapping[str, Mapping[str, Any]]) -> dict[str, Vocabulary]:
    """Inverse of :func:`vocabularies_to_json`."""
    return {name: Vocabulary(values=tuple(entry["values"])) for name, entry in payload.items()}


def encoded_column_name(column: str) -> str:
    """Name of the vocabulary index column of ``column``: ``user_id`` -> ``user_id_idx``."""
    return f"{column}_idx"


def encode_columns(frame: pd.DataFrame, vocabularies: Mapping[str, Vocabulary]) -> pd.DataFrame:
    """The ``<column>_idx`` columns of ``frame`` for every vocabulary."""
    return pd.DataFrame(
        {encoded_column_name(name): vocabulary.encode(frame[name]) for name, vocabulary in vocabularies.items()},
        index=frame.index,
    )
