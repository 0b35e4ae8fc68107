"""Columns of a frame as one NumPy matrix, without building an intermediate frame.

``frame[names].to_numpy()`` builds a column index and a new frame first; on the request path, where
frames hold a few hundred rows, that overhead costs more than the copy (pandas 3 with Arrow-backed
column names: about 0.45 ms against 0.25 ms for 14 columns of 500 rows).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd


def column_matrix(frame: pd.DataFrame, columns: Iterable[str], dtype: type[np.generic]) -> np.ndarray:
    """(len(frame), len(columns)) array of ``columns`` in order, as ``dtype``, writable and C-contiguous."""
    names = list(columns)
    matrix = np.empty((len(frame), len(names)), dtype=dtype)
    for position, name in enumerate(names):
        matrix[:, position] = frame[name].to_numpy(dtype=dtype)
    return matrix
